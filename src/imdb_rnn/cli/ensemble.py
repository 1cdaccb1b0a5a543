"""`imdb-rnn ensemble`: a new run folder whose model averages the probabilities of completed runs."""

from __future__ import annotations

import argparse
import sys

from imdb_rnn.cli.common import Invocation, Parser, quiet_tensorflow, sigterm_as_interrupt
from imdb_rnn.errors import RunFailed, RunInterrupted, Terminated, UserError

HELP = "average the probabilities of completed runs in a new run folder (equal or validation weights)"
DESCRIPTION = (
    "Make a run folder whose model is the weighted mean of the class probabilities of completed runs "
    "(which may differ in architecture, data.num_words and data.maxlen, but not in data, classes or text "
    "encoding). Weights are equal, or chosen on the validation reviews alone; the test set is evaluated once, "
    "at the end. evaluate, predict, compare and export take the folder as any run."
)


def add_arguments(parser: Parser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", help="completed run folders, at least two")
    parser.add_argument(
        "--weights",
        choices=("equal", "validation"),
        default="equal",
        help="equal: 1/k each (default); validation: chosen on the validation reviews (see --objective)",
    )
    parser.add_argument(
        "--objective",
        choices=("accuracy", "log_loss"),
        help="what validation weights optimise (default: accuracy; only with --weights validation)",
    )
    parser.add_argument("--name", default="ensemble", help="names the folder, <name>-<time> (default: ensemble)")
    parser.add_argument("--output-dir", default="outputs", help="where the run folder is created (default: outputs)")


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if args.objective is not None and args.weights != "validation":
        parser.error(
            f"--objective {args.objective} chooses validation weights: expected --weights validation with it, "
            f"received --weights {args.weights}"
        )
    quiet_tensorflow()
    from imdb_rnn.runs import Run
    from imdb_rnn.training.ensemble import make_ensemble

    try:
        with sigterm_as_interrupt():
            folder = make_ensemble(args.runs, args.weights, args.objective, args.output_dir, args.name)
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    except RunFailed as error:
        return invocation.fail(f"ensemble {error.run} failed: {error}", error.exit_code)
    except RunInterrupted as interrupt:
        print(f"Interrupted: {interrupt.run} is marked interrupted; make the ensemble again.", file=sys.stderr)
        return interrupt.exit_code
    except KeyboardInterrupt as interrupt:
        print("Interrupted before the ensemble's folder was made.", file=sys.stderr)
        return 143 if isinstance(interrupt, Terminated) else 130
    metrics = Run(folder).metrics
    weights = ", ".join(f"{member['weight']:.3f}" for member in metrics["ensemble"]["members"])
    print(f"Run folder: {folder}")
    print(
        f"Test accuracy: {metrics['test_accuracy']:.4f} (test loss {metrics['test_loss']:.4f}; validation accuracy "
        f"{metrics['best_val_accuracy']:.4f}; weights {weights})"
    )
    return 0
