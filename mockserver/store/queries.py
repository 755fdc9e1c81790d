"""Named SQL queries and numbered migrations, read from store/sql/ (procrastinate's layout).

A queries file holds `-- name: <name>` blocks; a migration is
`NNNN_<engine>_<what>.sql`, applied in number order.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

SQL_DIR = Path(__file__).parent / "sql"
_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def queries(engine: str) -> Mapping[str, str]:
    """name → SQL text of `sql/<engine>_queries.sql`."""
    text = (SQL_DIR / f"{engine}_queries.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)[1:]
    return MappingProxyType({name: sql.strip() for name, sql in zip(parts[::2], parts[1::2], strict=True)})


def migrations(engine: str) -> list[tuple[int, str]]:
    """(number, SQL text) of every `sql/NNNN_<engine>_*.sql`, in number order."""
    found = []
    for path in sorted(SQL_DIR.glob(f"[0-9][0-9][0-9][0-9]_{engine}_*.sql")):
        found.append((int(path.name[:4]), path.read_text(encoding="utf-8")))
    return found
