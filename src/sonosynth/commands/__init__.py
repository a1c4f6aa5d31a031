"""Command groups of the CLI. Each module has `register(app)`; heavy imports stay inside commands."""
from __future__ import annotations

import typer

from . import clips, demo, doppler, evaluate, study, train, translate

MODULES = (clips, doppler, translate, train, evaluate, study, demo)


def register_all(app: typer.Typer) -> None:
    for module in MODULES:
        module.register(app)
