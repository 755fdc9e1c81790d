"""A webhook endpoint for the store tests: records every POST and answers as told (a status, or hang)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RecordingReceiver:
    """`answer`: the status to reply; None holds each POST until `release()` (a receiver that hangs)."""

    def __init__(self, answer: int | None = 200) -> None:
        self.answer = answer
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.arrived = threading.Condition()
        self._released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.arrived:
                    receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    receiver.arrived.notify_all()
                if receiver.answer is None:
                    receiver._released.wait(30)
                self.send_response(receiver.answer or 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "RecordingReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def release(self) -> None:
        self._released.set()

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        """True once `count` POSTs have arrived (bounded: a test never waits forever)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.posts) >= count, timeout)

    def delivery_ids(self) -> list[str]:
        return [headers["x-otacm-delivery-id"] for headers, _ in self.posts]
