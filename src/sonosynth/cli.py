"""The `sonosynth` command: one typer app; each command group lives in sonosynth.commands."""
from __future__ import annotations

import os
import sys

import click
import typer

from .commands import register_all
from .errors import UserError
from .progress import set_quiet

app = typer.Typer(
    name="sonosynth",
    help="Synthesise and evaluate ultrasound video: colour-Doppler masks, CFD to greyscale translation, metrics, reader studies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global(quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars.")) -> None:
    set_quiet(quiet)


register_all(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a user's mistake becomes one line on stderr and exit code 2."""
    command = typer.main.get_command(app)
    try:
        rc = command.main(args=argv, prog_name="sonosynth", standalone_mode=False)
    except UserError as e:
        print(f"sonosynth: error: {e}", file=sys.stderr)
        sys.exit(2)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        print("sonosynth: aborted", file=sys.stderr)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(2)
    except KeyboardInterrupt:
        print("sonosynth: interrupted", file=sys.stderr)
        sys.exit(130)
    except MemoryError:
        print("sonosynth: error: out of memory (input too large for this machine)", file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # a bug, not the user's fault: still one line unless debugging
        if os.environ.get("SONOSYNTH_DEBUG"):
            raise
        print(f"sonosynth: internal error: {type(e).__name__}: {e} (set SONOSYNTH_DEBUG=1 for a traceback)", file=sys.stderr)
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
