"""read_clip / write_clip: formats chosen by content and extension."""
from __future__ import annotations
