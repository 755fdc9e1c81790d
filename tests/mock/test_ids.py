"""Order ids from the backend's pooled randomness (mockserver/sandbox/ids.py)."""

from __future__ import annotations

import uuid

from mockserver.sandbox.ids import CHUNK, RandomIds


def test_ids_are_distinct_version_4_uuids_across_refills() -> None:
    ids = RandomIds()
    made = [ids.uuid() for _ in range(3 * CHUNK // 16)]  # several refills of the pool
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
    assert len(ids.hex(2)) == 4
