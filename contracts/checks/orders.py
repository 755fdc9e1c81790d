"""Checks on the order documents of one probe order: wallets, shells, minting, echoes, messages.

Each judges every answer that carried the order (create, get, confirm,
replace, delete). The documented level holds an implementation to what docs
000–002 say; the values CONTRACT.md takes from the server (the empty GUID of
a shell, `jobId`, the teardown shape of a Cancelled order, upper-casing) are
`strict` checks.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from contracts.checks.documents import (
    EMPTY_GUID,
    IN_FLIGHT,
    all_wallets,
    document,
    documents,
    lines,
    request_lines,
    sent_body,
    shown,
    wallets,
)
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.verify.evidence import CheckContext, Evidence, OrderHistory

MINTED = frozenset({"Draft", "Issued"})


def _judged(pairs: list[Any], findings: list[Finding]) -> list[Finding] | None:
    """None when there was nothing to look at, else the findings (empty: passed)."""
    return findings if pairs else None


def expected_wallets(line: dict[str, Any], venue: dict[str, Any]) -> int:
    """Group ticket: one wallet; individual ticket or package: one per unit (doc 000)."""
    if str(line.get("itemNumber")) == str(venue.get("group_item", "\0")):
        return 1
    quantity = line.get("quantity", 1)
    return quantity if isinstance(quantity, int) else 1


@check(family="orders", subject="run", rules=["orders.create-accepted", "orders.create-201"])
def valid_orders_accepted(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """The probe's valid orders are accepted: createOrder answers the order (201 at `strict`).

    Over the run, so an order refused outright (no order id) is judged too.
    A sync create the venue cannot issue is sync_failure_leaves_error's.
    """
    wanted = (201,) if ctx.strictness == "strict" else tuple(range(200, 300))
    findings, judged = [], False
    for history in evidence.histories:
        created = history.calls("createOrder")
        if not created or (history.sync and history.facts.get("expect") == "Error"):
            continue
        judged = True
        if created[0].status not in wanted or not document(created[0]):
            findings.append(shown(created[0], f"createOrder of a valid order ({history.label}) answered "
                                              f"{created[0].status}; expected {'201' if len(wanted) == 1 else '2xx'} "
                                              "with the order"))
    return findings if judged else None


@check(family="orders", subject="order", rules=["orders.wallet-count", "orders.shell-count"])
def wallet_counts(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """Each line carries one wallet per expected wallet: 1 for a group ticket, `quantity` otherwise.

    Draft and Issued orders at both levels; the shells of an order in flight
    only at `strict` (doc 002 says the Submitted answer's wallets are empty).
    """
    judged = MINTED | (IN_FLIGHT if ctx.strictness == "strict" else frozenset())
    pairs = [(e, d) for e, d in documents(history) if d["status"] in judged]
    findings = []
    for exchange, order in pairs:
        wanted = [expected_wallets(line, ctx.venue) for line in request_lines(sent_body(history, exchange))]
        got = [len(wallets(line)) for line in lines(order)]
        if got != wanted:
            findings.append(shown(exchange, f"{order['status']} order: wallets per line {got}, expected {wanted} "
                                            "(group ticket: 1; individual ticket or package: quantity)"))
    return _judged(pairs, findings)


@check(family="orders", subject="order", rules=["orders.package-assets"])
def package_wallet_assets(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """A package wallet holds one ticket per component, plus the package's coupons (none for a plain one)."""
    if history.facts.get("kind") != "package":
        return None
    tickets, coupons = history.facts.get("tickets"), history.facts.get("coupons")
    pairs = [(e, d) for e, d in documents(history) if d["status"] in MINTED]
    findings = []
    for exchange, order in pairs:
        for wallet in all_wallets(order):
            kinds = [a.get("type") for a in wallet.get("assets") or [] if isinstance(a, dict)]
            got = (kinds.count("ticket"), kinds.count("coupon"))
            if got != (tickets, coupons):
                findings.append(shown(exchange, f"package wallet {wallet.get('walletId')} holds {got[0]} ticket(s) "
                                                f"and {got[1]} coupon(s); the venue's package has {tickets} and "
                                                f"{coupons}"))
    return _judged(pairs, findings)


@check(family="orders", subject="order", rules=["orders.shells-in-flight"])
def shells_while_in_flight(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """While Submitted/Scheduled/Processing nothing is issued yet: no assets, no manifest."""
    pairs = [(e, d) for e, d in documents(history) if d["status"] in IN_FLIGHT]
    findings = []
    for exchange, order in pairs:
        if order.get("manifestUrl"):
            findings.append(shown(exchange, f"{order['status']} order already has a manifestUrl"))
        for wallet in all_wallets(order):
            if wallet.get("assets") or wallet.get("manifestUrl"):
                findings.append(shown(exchange, f"{order['status']} order: wallet {wallet.get('seqNo')} already has "
                                                "assets or a manifestUrl; issuance has not run yet"))
    return _judged(pairs, findings)


SHELL_VALUES = MappingProxyType({"walletId": EMPTY_GUID, "walletReferenceNumber": "", "unitPriceExclVat": 0,
                                 "unitPriceInclVat": 0, "currencyCode": "", "issuedAt": "", "assets": ()})


@check(family="orders", subject="order", rules=["orders.shell-values"], level="strict")
def shell_values(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """In flight, each wallet is the server's shell (empty GUID, no prices) and `jobId` is ""."""
    pairs = [(e, d) for e, d in documents(history) if d["status"] in IN_FLIGHT]
    findings = []
    for exchange, order in pairs:
        if order.get("jobId", "") != "":
            findings.append(shown(exchange, f"{order['status']} order: jobId {order.get('jobId')!r}, expected \"\""))
        for wallet in all_wallets(order):
            wrong = {k: wallet.get(k) for k, v in SHELL_VALUES.items()
                     if wallet.get(k) != (list(v) if isinstance(v, tuple) else v)}
            if wrong:
                findings.append(shown(exchange, f"{order['status']} order: shell wallet {wallet.get('seqNo')} has "
                                                f"{wrong}; a shell has {dict(SHELL_VALUES)}"))
    return _judged(pairs, findings)


@check(family="orders", subject="order", rules=["orders.minted"])
def minted_when_settled(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """Draft and Issued orders carry minted wallets: ids, reference numbers and assets."""
    pairs = [(e, d) for e, d in documents(history) if d["status"] in MINTED]
    findings = []
    for exchange, order in pairs:
        for line in lines(order):
            if not wallets(line):
                findings.append(shown(exchange, f"{order['status']} order: line {line.get('lineNo')} has no wallets"))
            for wallet in wallets(line):
                missing = [k for k in ("walletId", "walletReferenceNumber", "assets") if not wallet.get(k)]
                if missing or wallet.get("walletId") == EMPTY_GUID:
                    findings.append(shown(exchange, f"{order['status']} order: wallet {wallet.get('seqNo')} is not "
                                                    f"minted (empty {', '.join(missing) or 'walletId'})"))
    return _judged(pairs, findings)


@check(family="orders", subject="order", rules=["orders.job-id"], level="strict")
def job_id_when_minted(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """Draft and Issued orders carry the issuance's `jobId`."""
    pairs = [(e, d) for e, d in documents(history) if d["status"] in MINTED]
    return _judged(pairs, [shown(e, f"{d['status']} order has jobId {d.get('jobId')!r}; expected the issuance job's id")
                           for e, d in pairs if not isinstance(d.get("jobId"), str) or not d.get("jobId")])


def _echo_findings(ctx: "CheckContext", history: "OrderHistory", field: str, key: str) -> list[Finding] | None:
    """Wallet values sent per line (`wallet.<field>`) come back in order as each wallet's `key`."""
    judged, findings = False, []
    for exchange, order in documents(history):
        if order["status"] not in IN_FLIGHT | MINTED:
            continue
        for sent, line in zip(request_lines(sent_body(history, exchange)), lines(order), strict=False):
            values = (sent.get("wallet") or {}).get(field) if isinstance(sent.get("wallet"), dict) else None
            if not isinstance(values, list):
                continue
            judged = True
            got = [w.get(key) for w in wallets(line)]
            if got != values:
                findings.append(shown(exchange, f"{order['status']} order, line {line.get('lineNo')}: wallet {key}s "
                                                f"{got}, expected the submitted {field} {values}"))
    return findings if judged else None


@check(family="orders", subject="order", rules=["orders.external-references"])
def external_references_echoed(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """wallet.externalReferenceNumbers come back on the shells and stay the same on the minted wallets."""
    return _echo_findings(ctx, history, "externalReferenceNumbers", "externalReferenceNumber")


@check(family="orders", subject="order", rules=["orders.names"])
def wallet_names_echoed(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """wallet.names come back as the wallets' names, in order."""
    return _echo_findings(ctx, history, "names", "name")


@check(family="orders", subject="order", rules=["orders.line-overrides"])
def line_overrides_echoed(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """A line's own sellToName, sellToEmail and sellToLanguage (overriding the header's) come back on that line."""
    judged, findings = False, []
    for exchange, order in documents(history):
        for sent, line in zip(request_lines(sent_body(history, exchange)), lines(order), strict=False):
            for key in ("sellToName", "sellToEmail", "sellToLanguage"):
                if not isinstance(sent.get(key), str):
                    continue
                judged = True
                if str(line.get(key, "")).casefold() != sent[key].casefold():
                    findings.append(shown(exchange, f"{order['status']} order, line {line.get('lineNo')}: {key} "
                                                    f"{line.get(key)!r}, expected the line's own {sent[key]!r}"))
    return findings if judged else None


@check(family="orders", subject="order", rules=["orders.status-message"])
def status_message_only_on_error(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """statusMessage is "" except on Error, where it says what failed."""
    pairs = list(documents(history))
    findings = []
    for exchange, order in pairs:
        message = order.get("statusMessage", "")
        if order["status"] == "Error" and (not isinstance(message, str) or not message.strip()):
            findings.append(shown(exchange, "Error order with an empty statusMessage; it must say what failed"))
        elif order["status"] != "Error" and message not in ("", None):
            findings.append(shown(exchange, f"{order['status']} order with statusMessage {message!r}; expected \"\""))
    return _judged(pairs, findings)


@check(family="orders", subject="order", rules=["orders.manifest-issued"])
def manifest_on_issued(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """An Issued order and each of its wallets carry a manifestUrl."""
    pairs = [(e, d) for e, d in documents(history) if d["status"] == "Issued"]
    findings = []
    for exchange, order in pairs:
        bare = [w.get("seqNo") for w in all_wallets(order) if not w.get("manifestUrl")]
        if not order.get("manifestUrl") or bare:
            findings.append(shown(exchange, "Issued order without a manifestUrl"
                                  + (f" on wallet(s) {bare}" if bare else " on the order")))
    return _judged(pairs, findings)


@check(family="orders", subject="order", rules=["orders.cancelled-shape"], level="strict")
def cancelled_shape(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """A Cancelled order is torn down: items [], statusMessage "", jobId "", no manifest."""
    pairs = [(e, d) for e, d in documents(history) if d["status"] == "Cancelled"]
    findings = []
    for exchange, order in pairs:
        wrong = [k for k, v in (("items", []), ("statusMessage", ""), ("jobId", "")) if order.get(k) != v]
        if order.get("manifestUrl"):
            wrong.append("manifestUrl")
        if wrong:
            findings.append(shown(exchange, f"Cancelled order: {', '.join(wrong)} not torn down "
                                            "(expected items [], statusMessage \"\", jobId \"\", no manifestUrl)"))
    return _judged(pairs, findings)


@check(family="orders", subject="order", rules=["orders.identity-echo"])
def identity_echoed(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """partnerId and sellToOrderReference come back as sent (compared case-insensitively)."""
    pairs = list(documents(history))
    findings = []
    for exchange, order in pairs:
        for key in ("partnerId", "sellToOrderReference"):
            sent, got = str(history.request.get(key, "")), order.get(key)
            if not isinstance(got, str) or got.casefold() != sent.casefold():
                findings.append(shown(exchange, f"{key} {got!r}, expected the submitted {sent!r}"))
    return _judged(pairs, findings)


@check(family="orders", subject="order", rules=["orders.upper-case"], level="strict")
def references_upper_cased(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """sellToOrderReference, paymentReference and sellToLanguage are stored upper-cased."""
    pairs = list(documents(history))
    findings = []
    for exchange, order in pairs:
        for key in ("sellToOrderReference", "paymentReference", "sellToLanguage"):
            value = order.get(key)
            if isinstance(value, str) and value != value.upper():
                findings.append(shown(exchange, f"{key} {value!r} is not stored upper-cased ({value.upper()!r})"))
    return _judged(pairs, findings)
