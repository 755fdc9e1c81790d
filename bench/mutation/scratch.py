"""The scratch copy a mutation run works in, never the working tree.

Others edit the working tree while a run takes an hour: mutating a file there
in place would hand them a broken file (and lose their edit when restored).
The copy holds what `git ls-files` names (tracked and untracked, not ignored)
as it is on disk, without `.git`, so nothing is installed or committed there.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class InPlaceRefused(RuntimeError):
    """A mutation was about to touch the working tree (or a git checkout)."""


def working_files(root: Path) -> list[str]:
    """The repository's files as git sees them: tracked plus untracked, not ignored."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, check=True).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (root / name).is_file()})


def ensure_scratch(path: Path, root: Path) -> Path:
    """`path` resolved, if it is safe to mutate in: outside `root`, `root` not inside it, no `.git`."""
    path, root = path.resolve(), root.resolve()
    if path == root or root in path.parents or path in root.parents:
        raise InPlaceRefused(f"refusing to mutate in {path}: it overlaps the working tree {root}")
    if (path / ".git").exists():
        raise InPlaceRefused(f"refusing to mutate in {path}: it is a git checkout")
    return path


def make_scratch(root: Path, parent: Path | None = None) -> Path:
    """A fresh copy of `root`'s working files in a new temporary directory."""
    destination = ensure_scratch(Path(tempfile.mkdtemp(prefix="otacm-mutation-", dir=parent)), root)
    for name in working_files(root):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    return destination


def remove_scratch(path: Path, root: Path) -> None:
    """Delete a scratch copy (after checking once more that it is one)."""
    shutil.rmtree(ensure_scratch(path, root), ignore_errors=True)
