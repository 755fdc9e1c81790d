"""What one mock instance holds, and how request code reaches it.

`create_app` builds a `MockState` and stores it in `app.extensions["otacm"]`;
the API's handlers get it in their `Call` (urls.Gateway holds it), the
dashboard and control blueprints through `state()`, so two apps in one
process (tests start one per test) never share anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import current_app

from contracts.spec import Spec
from mockserver.api.request_log import RequestLog
from mockserver.api.routing import UrlTable
from mockserver.api.validation import RequestValidator
from mockserver.config import MockConfig
from mockserver.sandbox.backend import ChannelManagerBackend
from mockserver.sandbox.representation import Representation
from mockserver.webhooks.service import Webhooks


@dataclass
class MockState:
    """Everything one mock instance holds; lives in `app.extensions["otacm"]`."""

    config: MockConfig
    spec: Spec
    backend: ChannelManagerBackend
    urls: UrlTable
    validator: RequestValidator
    representation: Representation
    webhooks: Webhooks
    request_log: RequestLog
    control_token: Optional[str] = None  # None: the control side is open (loopback)


def state() -> MockState:
    """The state of the app serving the current request."""
    return current_app.extensions["otacm"]
