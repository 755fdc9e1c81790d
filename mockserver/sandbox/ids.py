"""Random ids for new orders, without a system call per id.

`uuid.uuid4()` and `secrets.token_hex()` each read os.urandom; createOrder
needs 18 random bytes. A pool reads 4 KiB at a time (the same source) and
hands them out under a lock, so the ids stay as unpredictable as before.
Each backend owns its pool (no module state).
"""

from __future__ import annotations

import os
import threading

CHUNK = 4096


class RandomIds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffer = b""
        self._offset = 0

    def take(self, count: int) -> bytes:
        """`count` bytes from os.urandom, read a chunk at a time."""
        with self._lock:
            if self._offset + count > len(self._buffer):
                self._buffer, self._offset = os.urandom(max(CHUNK, count)), 0
            start = self._offset
            self._offset += count
            return self._buffer[start:self._offset]

    def hex(self, count: int) -> str:
        """`count` random bytes as lower-case hex."""
        return self.take(count).hex()

    def uuid(self) -> str:
        """A random (version 4, RFC 4122 variant) UUID in its canonical text form."""
        value = int.from_bytes(self.take(16), "big")
        value = (value & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
