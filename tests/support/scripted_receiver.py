"""A webhook endpoint answering each POST as a script says, for the kill -9 tests.

`RecordingReceiver` has one answer for every POST; a test that kills the
sandbox with a delivery in flight needs "the first POST fails, the second
hangs" exactly, with no race between two POSTs and the test changing the
answer. So the script is a list by arrival: a status, or HOLD (None: keep
the request open until `release()`); past its end every POST gets `then`. Every
POST is recorded with its headers and the events it carried, answered or not.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD = None  # in a script: keep the request open until release()


@dataclass(frozen=True)
class Post:
    delivery_id: str
    attempt: int
    events: tuple[tuple[str, str, str], ...]  # (orderId, status, timestamp) in the body's order


class ScriptedReceiver:
    def __init__(self, script: list[int | None], then: int = 200) -> None:
        self.script, self.then = list(script), then
        self.posts: list[Post] = []
        self.arrived = threading.Condition()
        self.released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = receiver._arrive(Post(self.headers["X-Otacm-Delivery-Id"], int(self.headers["X-Otacm-Attempt"]),
                                               tuple(_event(value) for value in body["values"])))
                if answer is HOLD:
                    receiver.released.wait(30)
                    answer = 200
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sandbox died waiting for this answer: that is the test

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _arrive(self, post: Post) -> int | None:
        with self.arrived:
            answer = self.script[len(self.posts)] if len(self.posts) < len(self.script) else self.then
            self.posts.append(post)
            self.arrived.notify_all()
        return answer

    def __enter__(self) -> "ScriptedReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def release(self) -> None:
        """Answer every held POST (200) and hold none from now on."""
        self.released.set()

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        """True once `count` POSTs have arrived (bounded)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.posts) >= count, timeout)

    def received(self) -> list[Post]:
        with self.arrived:
            return list(self.posts)


def _event(value: dict[str, Any]) -> tuple[str, str, str]:
    return value["payload"]["orderId"], value["payload"]["status"], value["timestamp"]


def delivery_problems(posts: list[Post], settles: set[tuple[str, str, str]]) -> list[str]:
    """What breaks "each settle delivered at least once, always under one delivery id": a settle never
    delivered, an event under two ids (a receiver dropping duplicates would see it twice), an id that
    carried different events (one dropping duplicates would miss some)."""
    ids_of_event: dict[tuple[str, str, str], set[str]] = {}
    bodies_of_id: dict[str, set[tuple[tuple[str, str, str], ...]]] = {}
    for post in posts:
        bodies_of_id.setdefault(post.delivery_id, set()).add(post.events)
        for event in post.events:
            ids_of_event.setdefault(event, set()).add(post.delivery_id)
    problems = [f"never delivered: {event}" for event in sorted(settles - set(ids_of_event))]
    problems += [f"{event} under ids {sorted(ids)}" for event, ids in ids_of_event.items() if len(ids) > 1]
    problems += [f"{delivery} carried {len(bodies)} different bodies" for delivery, bodies in bodies_of_id.items()
                 if len(bodies) > 1]
    return problems
