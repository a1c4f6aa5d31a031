"""The `sonosynth` command: one typer app; each command group lives in sonosynth.commands."""
from __future__ import annotations

import errno
import os
import signal
import sys

import click
import typer

from .commands import register_all
from .errors import Interrupted, UserError, one_line
from .io.atomic import WRITE_FAILURES
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


def _exception_classes() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(exit, abort, usage error) classes of click and of the copy of click newer typer releases carry."""
    exits, aborts, errors = [click.exceptions.Exit], [click.exceptions.Abort], [click.ClickException]
    exits.append(typer.Exit)
    aborts.append(typer.Abort)
    try:
        from typer._click.exceptions import ClickException  # typer >= 0.26 ships its own click
        errors.append(ClickException)
    except ImportError:
        pass
    return tuple(set(exits)), tuple(set(aborts)), tuple(set(errors))


CLICK_EXIT, CLICK_ABORT, CLICK_ERROR = _exception_classes()


# What the machine refuses (a full disk, a read-only mount, a path too long or through a file): the user's to mend.
MACHINE_REFUSALS = WRITE_FAILURES | {errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR}

OUT_OF_MEMORY = "out of memory (input too large for this machine; a smaller --batch, where there is one, needs less)"


def out_of_memory(e: Exception) -> bool:
    """PyTorch reports a failed allocation as a RuntimeError (torch.OutOfMemoryError on a GPU), not MemoryError."""
    text = str(e)
    return isinstance(e, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text.lower())


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a user's mistake becomes one line on stderr and exit code 2."""
    command = typer.main.get_command(app)
    signal.signal(signal.SIGTERM, _stop)  # Lightning puts its own in place while a training runs
    try:
        rc = command.main(args=argv, prog_name="sonosynth", standalone_mode=False)
        if rc == 130:  # typer's answer to Ctrl-C (or SIGTERM, `_stop`): the exit code, and no word
            print("sonosynth: interrupted", file=sys.stderr)
    except Interrupted as e:
        print(f"sonosynth: interrupted: {one_line(e)}", file=sys.stderr)
        sys.exit(e.exit_code)
    except UserError as e:
        print(f"sonosynth: error: {one_line(e)}", file=sys.stderr)
        sys.exit(2)
    except CLICK_EXIT as e:
        sys.exit(e.exit_code)
    except CLICK_ABORT:
        print("sonosynth: aborted", file=sys.stderr)
        sys.exit(130)
    except CLICK_ERROR as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare `sonosynth` or group: show its help
            e.show()
            sys.exit(0)
        print(f"sonosynth: error: {one_line(e.format_message())}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("sonosynth: interrupted", file=sys.stderr)
        sys.exit(130)
    except MemoryError:
        print(f"sonosynth: error: {OUT_OF_MEMORY}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        if e.errno not in MACHINE_REFUSALS or os.environ.get("SONOSYNTH_DEBUG"):
            _internal_error(e)
        name = str(e.filename or "")
        where = f": {name[:120]}..." if len(name) > 120 else f": {name}" if name else ""
        print(f"sonosynth: error: {e.strerror or one_line(e)}{where}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:
        _internal_error(e)
    sys.exit(rc if isinstance(rc, int) else 0)


def _stop(signum, frame) -> None:
    """SIGTERM (a scheduler's stop, `kill`) unwinds like Ctrl-C: temporary outputs are removed on the way out
    and a folder's log is written; without it the process died where it stood, leaving its temporaries."""
    raise KeyboardInterrupt


def _internal_error(e: Exception) -> None:
    """A bug, not the user's fault: still one line unless debugging."""
    if os.environ.get("SONOSYNTH_DEBUG"):
        raise e
    if out_of_memory(e):
        print(f"sonosynth: error: {OUT_OF_MEMORY}", file=sys.stderr)
        sys.exit(2)
    print(f"sonosynth: internal error: {type(e).__name__}: {one_line(e)} (set SONOSYNTH_DEBUG=1 for a traceback)",
          file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
