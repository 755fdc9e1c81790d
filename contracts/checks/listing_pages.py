"""Checks on how the probe's own list queries were answered page by page: a list at all, and pages that say
truly whether more follow and how to ask for them.

Every query the probe builds (contracts.verify.listing_walks) is one the docs
or CONTRACT.md describe, so it must be answered with a list; a refused one
would otherwise only leave the completeness checks nothing to judge. The
queries the docs describe (a status or a comma list of them, a reference, a
window with both bounds, these together) are judged at `documented`; the
ones only CONTRACT.md describes (a bound alone, pageSize and pageKey) at
`strict`, with the envelope's paging fields: `morePages` true only when rows
follow, and then a `nextPageKey` and a `nextPageURL` that both ask for the
same next page. Only walks during which the window's rows did not change
are judged for what follows a page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.checks.documents import shown
from contracts.checks.listing import rows
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence, ListingWalk

NOT_JUDGED = frozenset({401, 403, 429})  # the key, the partner scope, a rate limit: not how a query is answered
OWN_CHECK = ("listing.unknown-partner",)  # list_unknown_partner_empty judges that walk


def _where(walk: ListingWalk, page: Exchange) -> str:
    query = "&".join(f"{k}={v}" for k, v in walk.query.items())
    number = walk.pages.index(page) + 1 if page in walk.pages else 0
    return f"list {walk.purpose} (?{query})" + (f", page {number}" if number else "")


def _more(page: Exchange) -> bool:
    return isinstance(page.response, dict) and page.response.get("morePages") is True


@check(family="listing", subject="run", rules=["listing.answers"])
def list_queries_answered(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """Every list query the probe built for its own orders is answered 200 with a list, each page of it: the docs'
    filters (a status, a comma list, a reference, a window, together) at both levels, CONTRACT.md's (a bound
    alone, pageSize and pageKey) at `strict`."""
    levels = ("documented", "strict") if ctx.strictness == "strict" else ("documented",)
    walks = [w for w in evidence.listings if w.pages and w.level in levels and w.rule not in OWN_CHECK]
    findings = []
    for walk in walks:
        page = next((p for p in walk.pages if p.status != 200 or rows(p) is None), None)
        if page is None or page.status in NOT_JUDGED:
            continue
        got = page.status if page.status is not None else f"no answer ({page.error})"
        findings.append(shown(page, f"a list query the probe built answered {got} without a list "
                                    f"({str(page.response)[:120]!r}); expected 200 with the matching orders (none is "
                                    "an empty list)", _where(walk, page)))
    return findings if walks else None


def _paged(evidence: Evidence) -> list[ListingWalk]:
    """The walks in pages (pageSize) that reached their last page while the window's rows stayed the same."""
    return [w for w in evidence.listings if w.complete and "pageSize" in w.query]


@check(family="listing", subject="run", rules=["listing.more-pages"], level="strict")
def list_more_pages_true(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """morePages is true only when rows follow: a page saying so is followed by a page with rows, and a last page
    that is exactly full (pageSize rows, none after) says false."""
    walks = _paged(evidence)
    findings = []
    for walk in walks:
        for page, following in zip(walk.pages, walk.pages[1:], strict=False):
            if _more(page) and not rows(following):
                findings.append(shown(page, f"page {walk.pages.index(page) + 1} holds {len(rows(page) or [])} "
                                            f"row(s) (pageSize={walk.query['pageSize']}) and says morePages true, but "
                                            "the next page holds none: no rows followed", _where(walk, page)))
    return findings if walks else None


def _ids(page: Exchange) -> list[str]:
    return [str(row.get("orderId")) for row in rows(page) or []]


def _next_page_problem(walk: ListingWalk, index: int, fetched: Exchange | None) -> str:
    """Why a page that says more follow does not say how to ask for the next one ("" when it does)."""
    body: Any = walk.pages[index].response
    missing = [k for k in ("nextPageKey", "nextPageURL") if not isinstance(body.get(k), str) or not body.get(k)]
    if missing:
        return f"says morePages true but gives no {' and no '.join(missing)}"
    if fetched is None or index + 1 >= len(walk.pages):
        return ""  # a nextPageURL on another origin (a proxy's) is not followed
    by_key = walk.pages[index + 1]
    if fetched.status != 200 or rows(fetched) is None:
        return f"gives nextPageURL {body['nextPageURL']!r}, which answered {fetched.status or fetched.error}"
    if _ids(fetched) != _ids(by_key):
        return (f"gives nextPageURL {body['nextPageURL']!r}, which answered orders {_ids(fetched)[:5]}, but "
                f"pageKey={body['nextPageKey']} with the same filters answered {_ids(by_key)[:5]}")
    return ""


@check(family="listing", subject="run", rules=["listing.next-page"], level="strict")
def list_next_page_given(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """A page saying more follow gives a nextPageKey and a nextPageURL, and the nextPageURL answers the same next
    page as the query with pageKey=nextPageKey (the filters and pageSize kept)."""
    judged, findings = False, []
    for walk in [w for w in evidence.listings if "pageSize" in w.query and w.pages]:
        fetched = dict(walk.next_urls)
        for index, page in enumerate(walk.pages):
            if not _more(page):
                continue
            judged = True  # the two next pages are compared only if no row came or went during the walk
            problem = _next_page_problem(walk, index, fetched.get(index) if walk.complete else None)
            if problem:
                findings.append(shown(page, f"page {index + 1} {problem}", _where(walk, page)))
    return findings if judged else None
