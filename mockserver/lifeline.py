"""A granian worker ends when the `otacm mock` process that forked it dies.

`otacm mock` serves from one granian worker process: the app, its store and
its webhook threads live there, forked by the process the user started.
Granian's main process stops its worker when it is itself stopped (Ctrl-C,
SIGTERM), but when it is killed (`kill -9`, the OOM killer) nothing tells
the worker: it went on serving, holding the sandbox file (one process owns
it) and the port, so `otacm mock` could not start again on that file until
someone found and killed the orphan (issue 19). Now the kernel kills the
worker with its parent on Linux (PR_SET_PDEATHSIG); on other Unixes a
thread notices the parent gone within a second (Windows hands an orphan to
no one, so there it cannot tell). Ending at once, with no graceful
shutdown, is safe: every unit of work that was answered is already written
(store/writethrough.py), and a delivery in flight goes out again.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """Called in the worker with the pid of the process that forked it (a no-op in that process itself)."""
    if os.getpid() == parent:
        return  # the app runs in the main process (granian's threaded runtime): nothing to outlive
    if not _kernel_kills_us():
        threading.Thread(target=_watch, args=(parent,), name="otacm-lifeline", daemon=True).start()
    if os.getppid() != parent:  # it died before we asked
        _die()


def _kernel_kills_us() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    """Once the parent is gone this process has been handed to another one (init, a subreaper)."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    _die()


def _die() -> None:
    os._exit(1)
