"""`Violation`: one broken property, the common result type of every check.

The webhook checks (`contracts.checks.webhooks`), the lifecycle checks
(`contracts.checks.lifecycle`) and the scenario runner all report with it, so
`otacm verify`, `otacm webhooks listen` and `otacm scenarios run` print the
same thing the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Violation:
    """One broken property.

    `where` points at the offending part: a JSON path inside the delivery
    (`values[0].clientState`) or an order (`order <id>`), so a report can say
    which event of which delivery is wrong.
    """

    check: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        return f"VIOLATION [{self.check}] {self.message}"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)
