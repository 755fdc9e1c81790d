"""Store URLs as the user writes them, and as they may be shown (in a banner, an error, a log).

Apart from the engines so that the CLI and `open_store` can mask a URL
without importing a database driver (psycopg is an optional extra).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

STORE_URLS = "memory, or sqlite:PATH (e.g. sqlite:sandbox.db), or postgresql://USER@HOST:PORT/DATABASE"
POSTGRESQL_SCHEMES = frozenset({"postgresql", "postgres"})
MASK = "***"
_PASSWORD_PARAMETER = re.compile(r"(?i)(\bpassword=)[^&\s]*")


def is_postgresql(url: str) -> bool:
    return url.partition(":")[0].lower() in POSTGRESQL_SCHEMES and url.partition(":")[2].startswith("//")


def shown(url: str) -> str:
    """The URL with any password replaced by ***: what a banner or an error may print."""
    if "://" not in url:
        return url  # memory, sqlite:PATH: nothing secret
    try:
        parts = urlsplit(url)
    except ValueError:  # not even a URL: mask what looks like user:password@
        return re.sub(r"(://[^/:@]*:)[^/]*@", rf"\1{MASK}@", url)
    netloc = parts.netloc
    user, at, host = netloc.rpartition("@")
    if at and ":" in user:
        netloc = f"{user.partition(':')[0]}:{MASK}@{host}"
    query = _PASSWORD_PARAMETER.sub(rf"\1{MASK}", parts.query)
    return parts._replace(netloc=netloc, query=query).geturl()
