"""`imdb-rnn evaluate`: test-set metrics and plots of a run's best model, added to its folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from imdb_rnn.cli.common import Invocation, Parser, add_run_arguments, quiet_tensorflow
from imdb_rnn.errors import UserError

HELP = "evaluate a run's best model on the test set (metrics, confusion matrix, ROC curve)"
DESCRIPTION = (
    "Evaluate a run's best model on the test set: adds the metrics to its metrics.json and draws "
    "confusion_matrix.png and roc_curve.png."
)


def add_arguments(parser: Parser) -> None:
    add_run_arguments(parser, "a review is predicted positive")


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    quiet_tensorflow()
    from imdb_rnn.evaluation.evaluate import confusion_matrix_file, format_evaluation
    from imdb_rnn.runs import load_run

    try:
        evaluation = load_run(args.run).evaluate(args.threshold, save=True)
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    print(format_evaluation(evaluation))
    plots = confusion_matrix_file(args.threshold) + (" and roc_curve.png" if "roc_auc" in evaluation else "")
    print(f"Added to {Path(args.run) / 'metrics.json'}; plots {plots}.")
    return 0
