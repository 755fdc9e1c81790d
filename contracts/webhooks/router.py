"""One public webhook address for several receivers: `otacm verify --webhook-port/--webhook-url`.

A remote target reaches the runner through one port (or one tunnel), but a
verify run has two receivers, the probe's and the scenario library's, each
with its own subscription and clientState. The router listens where it is
told and forwards each POST by its first path segment (`/probe/`,
`/scenarios/`) to that receiver on 127.0.0.1, relaying the answer, so each
receiver sees only its own subscription's deliveries and judges them as if
the target had called it directly.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType

HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive"})
FORWARD_TIMEOUT = 30.0


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for a receiver that binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class WebhookRouter:
    """Listens on (host, port); `/<route>/...` goes to 127.0.0.1:<the route's port>/..."""

    def __init__(self, host: str, port: int, public_url: str | None, routes: Iterable[str]) -> None:
        self.host, self.port = host, port
        self.routes: Mapping[str, int] = MappingProxyType({name: free_port() for name in routes})
        self._public = public_url
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookRouter:
        self._server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"webhook-router-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def public_url(self) -> str:
        """What the target calls: --webhook-url, else this listener's own address."""
        base = self._public or f"http://{self.host}:{self.port}/"
        return base if base.endswith("/") else base + "/"

    def url(self, route: str) -> str:
        """The notificationUrl of one receiver."""
        return f"{self.public_url}{route}/"

    def target_of(self, path: str) -> tuple[int, str] | None:
        """The receiver port and the path it gets for a request path (None: no such route)."""
        first, _, rest = path.lstrip("/").partition("/")
        port = self.routes.get(first.split("?")[0])
        return None if port is None else (port, "/" + rest)


def _handler(router: WebhookRouter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "otacm-webhook-router"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            found = router.target_of(self.path)
            if found is None:
                return self._answer(404, b'{"message": "no receiver at this path"}', {})
            port, path = found
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=FORWARD_TIMEOUT)
            try:
                connection.request("POST", path, body=body, headers=headers)
                answer = connection.getresponse()
                self._answer(answer.status, answer.read(), dict(answer.getheaders()))
            except OSError:
                self._answer(502, b'{"message": "the receiver did not answer"}', {})
            finally:
                connection.close()

        def _answer(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in HOP_HEADERS and key.lower() not in ("server", "date"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Silent, as the receivers are."""

    return Handler
