"""What every subcommand shares: one-line errors, exit codes, SIGTERM as Ctrl-C, warnings as one line,
and TensorFlow imported quietly (and only by the subcommands that need it).

Exit codes: 0 done; 1 a run failed (NaN loss, full disk, unexpected error); 2 bad input (config,
data, run folder, arguments), reported before anything is trained or written; 130 Ctrl-C; 143
SIGTERM. Every error is one line on stderr, prefixed with the command the user typed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imdb_rnn.errors import ImdbRnnWarning, RunFailed, RunInterrupted, Terminated, UserError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2) like every other user error."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help).\n")


@dataclass(frozen=True)
class Invocation:
    """How the user called a subcommand: `prog` prefixes its messages (`imdb-rnn train`, `train.py`),
    `command` is what to type to run it again (`imdb-rnn train`, `python scripts/train.py`)."""

    prog: str
    command: str

    def fail(self, message: str, code: int) -> int:
        """Prints `<prog>: error: <message>` as one line on stderr; returns `code`."""
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        return code


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` (a KeyboardInterrupt), so it stops a run like Ctrl-C."""

    def terminate(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Within the block, each `ImdbRnnWarning` is printed once as `warning: <message>` on stderr."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001 - warnings' hook
        if issubclass(category, ImdbRnnWarning):
            print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            print(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr, end="")

    with warnings.catch_warnings():
        warnings.simplefilter("default", ImdbRnnWarning)
        warnings.showwarning = show
        yield


def quiet_tensorflow() -> None:
    """Imports TensorFlow with file descriptor 2 silenced: its C++ start-up notes ("Could not find
    cuda drivers…") bypass Python and every log-level setting, and would bury our one-line errors.
    Later C++ messages below FATAL are hidden too unless TF_CPP_MIN_LOG_LEVEL is set, and so are
    TensorFlow's Python warnings. Only the command line does this: it owns the process."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.get_logger().setLevel("ERROR")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, received {text!r}")
    return value


def folder_name(text: str) -> str:
    """argparse type of a folder the user names: any non-blank text (an empty one would mean the current
    folder, which was not named)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a folder, received {text!r}")
    return text


def threshold(value: str) -> float:
    """argparse type of `--threshold`: a number strictly between 0 and 1."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), received {value!r}")
    return number


def add_set_argument(parser: Parser, help: str) -> None:
    """`--set SECTION.KEY=VALUE`, repeatable, collected in `args.overrides`."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE", help=help)


def add_run_arguments(parser: Parser, positive: str) -> None:
    """A run folder as the first argument, and `--threshold` (`positive` says what it decides)."""
    parser.add_argument("run", help="a run folder, e.g. outputs/lstm-20261122-023703")
    parser.add_argument(
        "--threshold",
        type=threshold,
        default=0.5,
        help=f"{positive} when P(positive) is above it (default: 0.5; two-class runs only)",
    )


def guarded(invocation: Invocation, body: Callable[[], int], what: str = "run") -> int:
    """Runs `body` with SIGTERM as Ctrl-C and turns what a training command can end with into one line
    and an exit status: a user error (2), a failed run (1), an interrupted run (130/143, with the
    command that resumes it). `what` names the kind of run in messages."""
    try:
        with sigterm_as_interrupt():
            return body()
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    except RunFailed as error:
        return invocation.fail(f"{what} {error.run} failed: {error}", error.exit_code)
    except RunInterrupted as interrupt:
        print(f"Interrupted: {interrupt.run} is marked interrupted; resume it with", file=sys.stderr)
        print(f"  {invocation.command} --resume {interrupt.run}", file=sys.stderr)
        return interrupt.exit_code
    except KeyboardInterrupt as interrupt:
        print(f"Interrupted before a {what} folder was made.", file=sys.stderr)
        return 143 if isinstance(interrupt, Terminated) else 130
