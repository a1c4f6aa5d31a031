"""Progress bars: shown for work that lasts over two seconds, silenced by --quiet."""
from __future__ import annotations

from typing import Iterable, TypeVar

from tqdm import tqdm

T = TypeVar("T")
_quiet = False


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    return _quiet


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it") -> Iterable[T]:
    """Wrap an iterable in a bar that appears only if the loop takes more than two seconds."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, delay=2.0, disable=_quiet, leave=False, dynamic_ncols=True)
