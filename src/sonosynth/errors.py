"""Errors a user can cause. The CLI prints their message on one line and exits 2 (130 for `Interrupted`)."""


class UserError(Exception):
    """Base for every problem caused by input, options or missing files (not by a bug)."""


class UnreadableInput(UserError):
    """The input file is missing, empty, corrupt, truncated or of an unsupported kind."""


class BadOption(UserError):
    """A command-line option or API argument is out of range or inconsistent."""


class OutputExists(UserError):
    """The output path exists and overwriting was not asked for."""


class MissingWeights(UserError):
    """A weights file is missing, unreadable or does not match the model."""


class MissingDependency(UserError):
    """An optional extra (SimpleITK, lightning, ...) is needed but not installed."""


class Interrupted(UserError):
    """A long command stopped by a signal (SIGTERM, Ctrl-C); the message says what it left. Exit code 130."""

    exit_code = 130


def one_line(message: object) -> str:
    """A message on one line: decoders and libraries put newlines and indented lists in theirs."""
    return " ".join(str(message).split())


def first_line(error: BaseException) -> str:
    """The first non-empty line of an exception's text (what follows is often advice or a long listing)."""
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
