"""Atomic writes: a temporary file beside the target, renamed into place on success.

A stop (Ctrl-C, or SIGTERM, which the CLI turns into the same) can land anywhere, also between making a
temporary and entering the block that removes it again. So every temporary is recorded in `_UNFINISHED`
as it is made, with the stop held back for those two steps (`_stops_held`), and whatever is still
recorded when the interpreter exits is removed (`_remove_unfinished`): no `.part` file outlives a stop.
"""
from __future__ import annotations

import atexit
import contextlib
import errno
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import BadOption, OutputExists

# Failures of the machine a user writes to (full disk, read-only mount, quota), not of sonosynth.
WRITE_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
_UNFINISHED: set[Path] = set()  # temporaries (files and folders) made and not yet renamed into place or removed


@contextlib.contextmanager
def _stops_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back for the block and delivered to their own handlers right after it
    (main thread only, where Python runs signal handlers; elsewhere the block runs as it is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held: dict[int, object] = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not None:  # None: a handler set outside Python, which cannot be put back
                held[signum] = signal.signal(signum, lambda number, frame: caught.append(number))
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler)
        for signum in caught:
            signal.raise_signal(signum)


def _forget(temporary: Path) -> None:
    """Remove `temporary` (a file or a folder) if it is still there, and stop recording it."""
    if temporary.is_dir():
        shutil.rmtree(temporary, ignore_errors=True)
    elif temporary.exists():
        temporary.unlink()
    _UNFINISHED.discard(temporary)


@atexit.register
def _remove_unfinished() -> None:
    for temporary in list(_UNFINISHED):
        with contextlib.suppress(OSError):
            _forget(temporary)


def check_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse to clobber an existing output unless asked, and check that its folder exists and takes files."""
    p = Path(path)
    try:
        if p.is_dir():
            raise BadOption(f"output {p} is a directory")
        exists = p.exists()
    except OSError as e:  # a name over the system's limit
        raise BadOption(f"output {str(p)[:60]}...: {e.strerror}") from None
    if exists and not overwrite:
        raise OutputExists(f"output {p} exists; pass --overwrite to replace it")
    if not p.parent.exists():
        raise BadOption(f"output folder {p.parent} does not exist")
    if not p.parent.is_dir():
        raise BadOption(f"output folder {p.parent} is a file, not a folder")
    if not os.access(p.parent, os.W_OK | os.X_OK):  # also false on a read-only mount, even for root
        raise BadOption(f"cannot write in output folder {p.parent} (read-only or no permission)")
    # the temporary beside the target adds a prefix and a suffix to its name
    if len(os.fsencode(p.name)) + 24 > _name_max(p.parent):
        raise BadOption(f"output file name {p.name[:40]}... is too long for its folder")
    return p


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):  # a file system that does not say
        return 255


def machine_refusal(e: BaseException) -> OSError | None:
    """The OSError of the machine behind `e` (writers such as pydicom re-raise it without its errno), if any."""
    while e is not None:
        if isinstance(e, OSError) and e.errno in WRITE_FAILURES:
            return e
        e = e.__cause__ or e.__context__
    return None


def write_failed(target: Path, e: OSError) -> BadOption:
    """One line for a write the machine refused part-way (the caller has removed the partial file)."""
    return BadOption(f"cannot write {target}: {e.strerror or e}")


@contextlib.contextmanager
def refusals_named(target: Path, every: bool = False) -> Iterator[None]:
    """Within the block, a write the machine refuses (`every` OSError: making the temporary) becomes one
    line naming `target` and the reason."""
    try:
        yield
    except OSError as e:
        refusal = e if every else machine_refusal(e)
        if refusal is not None:
            raise write_failed(target, refusal) from None
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path with the target's suffix; rename it onto `path` only if the block succeeds."""
    target = check_writable(path, overwrite)
    with refusals_named(target, every=True), _stops_held():
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".part{target.suffix}", dir=target.parent)
        tmp_path = Path(tmp)
        _UNFINISHED.add(tmp_path)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        with refusals_named(target):
            yield tmp_path
            if target.exists() and not overwrite:  # appeared while we were writing
                raise OutputExists(f"output {target} exists; pass --overwrite to replace it")
            # mkstemp makes 0600, and some writers (safetensors) make their file anew: an output gets the usual
            # permissions, set once it is written
            os.chmod(tmp_path, 0o666 & ~umask)
            os.replace(tmp_path, target)
    finally:
        _forget(tmp_path)


@contextlib.contextmanager
def atomic_paths(paths: Iterable[str | os.PathLike], overwrite: bool = False) -> Iterator[list[Path]]:
    """Temporaries for several outputs, renamed into place together only if the block succeeds: a failure
    at the second (a full disk) leaves none. Every target is checked before any is written."""
    targets = [check_writable(p, overwrite) for p in paths]
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(t, overwrite)) for t in targets]


@contextlib.contextmanager
def made_folder(folder: Path) -> Iterator[Path]:
    """`folder`, made with its missing parents for the block; those it made that the block left empty are
    removed again (deepest first), so a command that wrote nothing there leaves no folder behind."""
    if folder.exists() and not folder.is_dir():
        raise BadOption(f"{folder} is a file, not a folder")
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        for made in missing:
            try:
                made.rmdir()
            except OSError:  # not empty: it and the folders above it stay
                break


@contextlib.contextmanager
def atomic_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `out`; it takes `out`'s place (replacing an earlier one) only if the
    block succeeds, and a write the machine refuses part-way becomes one line with nothing left behind."""
    with refusals_named(out, every=True), _stops_held():
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
        _UNFINISHED.add(work)
    try:
        with refusals_named(out):
            yield work
            if out.exists():
                shutil.rmtree(out)
            os.replace(work, out)
    finally:
        _forget(work)


def check_replaceable_folder(out: str | os.PathLike, own: Iterable[str], what: str, overwrite: bool) -> Path:
    """An output folder may be new or empty, or (with overwrite) hold only what an earlier run of the same
    command wrote (`own`): never a user's other files, such as the inputs themselves."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExists(f"{out} is a file, not a {what} folder; choose another output (the file is left alone)")
    if not out.parent.is_dir():
        raise BadOption(f"output folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise BadOption(f"cannot write in output folder {out.parent} (read-only or no permission)")
    if not out.is_dir():
        return out
    try:
        entries = {p.name for p in out.iterdir()}
    except OSError as e:
        raise BadOption(f"cannot read output folder {out}: {e.strerror or e}") from None
    if entries - set(own):
        raise OutputExists(f"{out} holds files that are not part of a {what}; choose a new or empty folder")
    if entries and not overwrite:
        raise OutputExists(f"{out} already holds a {what}; pass --overwrite to replace it")
    return out


def check_apart(folder: str | os.PathLike | None, what: str, source: str | os.PathLike, source_what: str) -> None:
    """An output `folder` (None: not asked for) must lie outside an input folder and not hold it: a second run
    would take the outputs for inputs, and what they hold (a study's key, say) would sit among the user's files."""
    if folder is None:
        return
    inside, outside = Path(source).resolve(), Path(folder).resolve()
    if inside == outside or inside in outside.parents or outside in inside.parents:
        raise BadOption(f"the {what} {folder} must lie outside the {source_what} {source}, and not hold it")
