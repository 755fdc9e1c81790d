"""API errors as the real server answers them: a status and a flat body.

The message texts are the server's own (CONTRACT.md); `%1`-style parameters
become keyword arguments here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type: the backend raises these errors and stays free of HTTP libraries
    from werkzeug.exceptions import HTTPException

# The methods the server routes; any other is `unsupported_http_method` (CONTRACT.md, Routes).
API_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Problem:
    """One bad field, for the mock's optional `details` list."""

    field: str
    problem: str


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    details: list[Problem] = field(default_factory=list)

    def body(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = [{"field": p.field, "problem": p.problem} for p in self.details]
        return body


def bad_request(message: str, details: list[Problem] | None = None) -> ApiError:
    return ApiError(400, "generic_error", message, details or [])


class Findings:
    """Every problem found in one request body, in the order the server checks.

    The real server stops at its first failure, so that one's text is the
    error's `message`; the mock goes on and names every problem in `details`,
    so a partner fixes a body in one round, not one field per request."""

    def __init__(self) -> None:
        self._found: list[tuple[Problem, str]] = []

    def add(self, field: str, problem: str, message: str) -> None:
        self._found.append((Problem(field, problem), message))

    def add_error(self, error: ApiError) -> None:
        """A 400 raised by a check that stops at one problem (its details, or its message as one)."""
        problems = error.details or [Problem("(body)", error.message)]
        self._found.extend((problem, error.message) for problem in problems)

    def __len__(self) -> int:
        return len(self._found)

    def raise_any(self) -> None:
        """A 400: the first problem's message, every problem in details."""
        if self._found:
            raise bad_request(self._found[0][1], [problem for problem, _ in self._found])


def order_not_found(order_id: str) -> ApiError:
    return ApiError(404, "resource_not_found", f"Order '{order_id}' not found Not Found")


def endpoint_not_found() -> ApiError:
    return ApiError(404, "resource_not_found", "API endpoint not found Not Found")


def unsupported_method(method: str) -> ApiError:
    return ApiError(400, "unsupported_http_method", f"Http method {method} is not supported")


def unauthorized(message: str = "Missing or invalid API key. Send it in the x-np-api-key header.") -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden_partner(partner_id: str) -> ApiError:
    return ApiError(403, "unauthorized", f"API key may not act for partner '{partner_id}'")


def from_http_error(error: "HTTPException", method: str, max_body_bytes: int) -> ApiError:
    """Werkzeug's own errors (413 body too large, ...) as the API's flat error,
    with the API's words rather than Werkzeug's prose."""
    if error.code == 404:
        return endpoint_not_found()
    if error.code == 405:
        return unsupported_method(method)
    if error.code == 413:
        return ApiError(413, "generic_error", f"Request body exceeds {max_body_bytes} bytes")
    return ApiError(error.code or 500, "generic_error", error.description or error.name)


def internal_error(error: Exception) -> ApiError:
    """A bug in the mock, answered as JSON, never a stack trace page."""
    if isinstance(error, AssertionError):  # test mode: a response that violates the spec
        return ApiError(500, "generic_error", f"otacm mock: {error}")
    return ApiError(500, "generic_error", f"otacm mock: internal error {type(error).__name__}: {error}")


def store_unavailable(message: str) -> ApiError:
    """The sandbox's database is out of reach (a PostgreSQL store restarting): nothing was carried out, and
    a retry once it is back succeeds. A project decision (CONTRACT.md is silent on a sandbox's own outage)."""
    return ApiError(503, "store_unavailable", message)
