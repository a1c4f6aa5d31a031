"""sonosynth: synthesise realistic ultrasound video and prove it is realistic."""
from __future__ import annotations

from .clip import Clip
from .errors import UserError

__version__ = "0.1.0"
__all__ = ["Clip", "UserError", "read_clip", "write_clip", "translate", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import sonosynth` stays light (no torch, no av until needed).
    if name in ("read_clip", "write_clip"):
        from . import io

        return getattr(io, name)
    if name == "translate":
        from .methods.translate.pipeline import translate

        return translate
    raise AttributeError(name)
