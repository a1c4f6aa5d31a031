"""Atomic writes: a temporary file beside the target, renamed into place on success."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import BadOption, OutputExists


def check_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse to clobber an existing output unless asked, and check its folder exists."""
    p = Path(path)
    if p.is_dir():
        raise BadOption(f"output {p} is a directory")
    if p.exists() and not overwrite:
        raise OutputExists(f"output {p} exists; pass --overwrite to replace it")
    if not p.parent.exists():
        raise BadOption(f"output folder {p.parent} does not exist")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path with the target's suffix; rename it onto `path` only if the block succeeds."""
    target = check_writable(path, overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".part{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; an output should get the usual permissions
    try:
        yield tmp_path
        if target.exists() and not overwrite:  # appeared while we were writing
            raise OutputExists(f"output {target} exists; pass --overwrite to replace it")
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
