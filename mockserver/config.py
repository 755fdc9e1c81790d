"""The mock's configuration: defaults from YAML, overrides from a file or flags."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

import yaml

from mockserver.sandbox.models import Directives
from mockserver.webhooks.subscriptions import WebhookConfig, webhook_config

DEFAULTS_FILE = Path(__file__).parent / "data" / "defaults.yaml"


@dataclass(frozen=True)
class PartnerConfig:
    partner_id: str
    name: str = ""
    active: bool = True
    directives: Directives = field(default_factory=Directives)


@dataclass(frozen=True)
class ApiKeyConfig:
    key: str
    partners: Optional[frozenset[str]] = None  # None: every partner

    def holds(self, partner_id: str) -> bool:
        return self.partners is None or partner_id.lower() in self.partners


@dataclass
class MockConfig:
    tenant: str
    environment: str
    company: str
    api_mode: str
    api_keys: list[ApiKeyConfig]
    partners: dict[str, PartnerConfig]
    scheduled_to_processing_seconds: float
    processing_seconds: float
    catalog_path: Path
    manifest_base_url: str
    max_body_bytes: int
    ticker_interval_seconds: float
    clock_mode: str = "real"  # real | frozen
    clock_start: Optional[float] = None  # POSIX seconds; None: now
    store: str = "memory"  # where state lives (mockserver/store: memory, sqlite:PATH)
    validate_responses: bool = False  # test mode: assert every response against the spec
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)  # the `webhooks:` section
    # False: no `/_mock/` (its paths answer as unknown API routes) and no
    # dashboard, on the real clock: a target that looks like a real server.
    control: bool = True
    # Seconds between pickups on the mock's clock; None: the spec's 60 s.
    pickup_seconds: Optional[float] = None
    # The interface the mock is bound to (set by whoever serves it): off
    # loopback the control side needs `control_token` (generated if unset).
    host: str = "127.0.0.1"
    control_token: Optional[str] = None  # `controlToken`; set: always required
    # `bodyTimeoutSeconds`: a request body not whole by then gets a 408, so a
    # client trickling its body cannot hold the app's one thread (front.py).
    body_timeout_seconds: float = 30.0
    # `requestLog.limit`: API requests the request log keeps, newest first (0: none; mockserver/api/request_log.py).
    request_log_limit: int = 10_000
    # `otacm mock --log [text|json]`: print a line per API request to stdout; None: print nothing.
    request_log_print: Optional[str] = None

    @property
    def default_api_key(self) -> str:
        return self.api_keys[0].key

    @property
    def default_partner_id(self) -> str:
        return next(iter(self.partners))

    def replace(self, **changes: Any) -> "MockConfig":
        return dataclasses.replace(self, **changes)

    @classmethod
    def load(cls, path: Path | str | None = None, **overrides: Any) -> "MockConfig":
        """Defaults, then the YAML file at `path` (if any), then `overrides`."""
        raw = _read(DEFAULTS_FILE)
        base_dir = DEFAULTS_FILE.parent
        if path is not None:
            overlay = _read(Path(path))
            _known_keys_only(overlay, set(raw) | OPTIONAL_KEYS, Path(path))
            raw.update(overlay)
            if "catalog" in overlay:  # a catalog named by the file is relative to it
                base_dir = Path(path).parent
        config = cls._from_raw(raw, base_dir)
        return config.replace(**overrides) if overrides else config

    @classmethod
    def _from_raw(cls, raw: dict[str, Any], base_dir: Path) -> "MockConfig":
        return cls(
            tenant=str(raw["tenant"]),
            environment=str(raw["environment"]),
            company=str(raw["company"]),
            api_mode=_choice(raw["apiMode"], "apiMode", ("async", "sync")),
            api_keys=[_api_key(entry) for entry in raw["apiKeys"]],
            partners={p.partner_id: p for p in map(_partner, raw["partners"])},
            scheduled_to_processing_seconds=float(raw["scheduledToProcessingSeconds"]),
            processing_seconds=float(raw["processingSeconds"]),
            catalog_path=(base_dir / raw["catalog"]).resolve(),
            manifest_base_url=str(raw["manifestBaseUrl"]),
            max_body_bytes=int(raw["maxBodyBytes"]),
            ticker_interval_seconds=float(raw["tickerIntervalSeconds"]),
            webhooks=webhook_config(raw.get("webhooks")),
            control=_flag(raw.get("control", True), "control"),
            pickup_seconds=pickup_seconds(raw.get("pickupSeconds")),
            control_token=str(raw["controlToken"]) if raw.get("controlToken") else None,
            store=str(raw.get("store", "memory")),
            body_timeout_seconds=body_timeout_seconds(raw.get("bodyTimeoutSeconds", 30)),
            request_log_limit=request_log_limit(raw.get("requestLog")),
        )


# Keys a config may have that defaults.yaml leaves out.
OPTIONAL_KEYS = frozenset({"store"})


def _known_keys_only(overlay: dict[str, Any], known: set[str], path: Path) -> None:
    """A key the mock does not read is a mistake (a typo, or a catalog given as the config): it was ignored
    silently, and the sandbox ran on the defaults."""
    unknown = sorted(str(key) for key in overlay if key not in known)
    if not unknown:
        return
    hint = (f"; it looks like a catalog: name it in a config file as `catalog: {path}`"
            if "items" in overlay else f"; the keys are those of {DEFAULTS_FILE}")
    raise SystemExit(f"otacm mock: config file {path} has keys the mock does not know: {', '.join(unknown)}{hint}")


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        raise SystemExit(f"otacm mock: config file {path} does not exist") from None
    if not isinstance(data, dict):
        raise SystemExit(f"otacm mock: config file {path} must hold a YAML mapping")
    return data


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SystemExit(f"otacm mock: {name} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise SystemExit(f"otacm mock: {name} must be true or false (got {value!r})")
    return value


def pickup_seconds(value: Any) -> Optional[float]:
    """The pickup interval: None (the spec's 60 s) or a positive number of seconds."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise SystemExit(f"otacm mock: pickupSeconds must be a positive number of seconds (got {value!r})")
    return seconds


def body_timeout_seconds(value: Any) -> float:
    """The body timeout: a positive, finite number of seconds."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise SystemExit(f"otacm mock: bodyTimeoutSeconds must be a positive number of seconds (got {value!r})")
    return seconds


def request_log_limit(section: Any) -> int:
    """`requestLog: {limit: N}`: the requests the log keeps, a whole number >= 0 (0: the log is off)."""
    section = {} if section is None else section
    if not isinstance(section, dict) or set(section) - {"limit"}:
        raise SystemExit(f"otacm mock: requestLog takes one key, limit (got {section!r})")
    return request_log_bound(section.get("limit", 10_000), "requestLog.limit")


def request_log_bound(value: Any, name: str) -> int:
    """A request log limit: a whole number of requests, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise SystemExit(f"otacm mock: {name} must be a whole number of requests, 0 (off) or more (got {value!r})")
    return int(value)


def _api_key(entry: dict[str, Any]) -> ApiKeyConfig:
    partners = entry.get("partners")
    return ApiKeyConfig(str(entry["key"]), None if partners is None else frozenset(p.lower() for p in partners))


def _partner(entry: dict[str, Any]) -> PartnerConfig:
    return PartnerConfig(
        partner_id=str(entry["id"]).lower(),
        name=str(entry.get("name", "")),
        active=bool(entry.get("active", True)),
        directives=directives_from(entry.get("directives") or {}),
    )


def directives_from(values: dict[str, Any]) -> Directives:
    """Directives from a mapping (config) or parsed Prefer tokens."""
    outcome = values.get("outcome")
    if outcome is not None and str(outcome).lower() != "error":
        raise ValueError(f"outcome must be Error (Issued and Draft follow from paymentReference), got {outcome!r}")
    stall = values.get("stall")
    if stall is not None and str(stall).capitalize() not in ("Scheduled", "Processing"):
        raise ValueError(f"stall must be Scheduled or Processing, got {stall!r}")
    delay = float(values.get("delay", 0) or 0)
    if delay < 0:
        raise ValueError(f"delay must be >= 0 seconds, got {delay}")
    return Directives(
        outcome="Error" if outcome is not None else None,
        message=str(values.get("message", "")),
        stall=str(stall).capitalize() if stall is not None else None,
        delay=delay,
    )


def api_base_url(root: str, config: MockConfig) -> str:
    """`{root}/{tenant}/{environment}/{company}`, each segment URL-encoded."""
    segments = (config.tenant, config.environment, config.company)
    return root + "".join("/" + quote(segment, safe="") for segment in segments)
