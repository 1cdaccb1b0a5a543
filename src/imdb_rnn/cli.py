"""Command-line entry points (`scripts/train.py`, `evaluate.py`, `predict.py`).

User errors end as one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imdb_rnn.errors import UserError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2) like every other user error."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help).\n")


def train_parser() -> Parser:
    parser = Parser(
        prog="train.py",
        description="Train a sentiment classifier on IMDB from a YAML config; results go to a new run folder.",
    )
    parser.add_argument(
        "--config",
        required=True,
        help="a YAML config: a path, or a name in configs/ (lstm.yaml, or just lstm)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config key, value read as YAML (repeatable): --set train.epochs=1",
    )
    parser.add_argument("--output-dir", default="outputs", help="where run folders are created (default: outputs)")
    return parser


def train_main(argv: list[str] | None = None) -> int:
    args = train_parser().parse_args(argv)
    try:
        from imdb_rnn.checks import advice
        from imdb_rnn.config import load_config

        config = load_config(args.config, args.overrides)
        for note in advice(config):
            print(f"warning: {note}", file=sys.stderr)
        from imdb_rnn.train import train

        run = train(config, args.output_dir)
    except UserError as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return error.exit_code
    metrics = __import__("json").loads((Path(run) / "metrics.json").read_text())
    print(f"Run folder: {run}")
    print(
        f"Test accuracy: {metrics['test_accuracy']:.4f} (test loss {metrics['test_loss']:.4f}, "
        f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']})"
    )
    return 0


def report(prog: str, error: UserError) -> int:
    """Prints a user error as one line on stderr and returns its exit status (2)."""
    print(f"{prog}: error: {error}", file=sys.stderr)
    return error.exit_code


def threshold(value: str) -> float:
    """argparse type of `--threshold`: a number strictly between 0 and 1."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), received {value!r}")
    return number


def run_parser(prog: str, description: str, positive: str) -> Parser:
    """A parser whose first argument is a run folder, with `--threshold` (`positive` says what it decides)."""
    parser = Parser(prog=prog, description=description)
    parser.add_argument("run", help="a run folder, e.g. outputs/lstm-20261122-023703")
    parser.add_argument(
        "--threshold", type=threshold, default=0.5, help=f"{positive} when P(positive) is above it (default: 0.5)"
    )
    return parser


def evaluate_parser() -> Parser:
    return run_parser(
        "evaluate.py",
        "Evaluate a run's best model on the test set: adds the metrics to its metrics.json and draws "
        "confusion_matrix.png and roc_curve.png.",
        "a review is predicted positive",
    )


def evaluate_main(argv: list[str] | None = None) -> int:
    args = evaluate_parser().parse_args(argv)
    try:
        from imdb_rnn.evaluate import confusion_matrix_file, evaluate_run, format_evaluation
        from imdb_rnn.predict import load_run

        evaluation = evaluate_run(load_run(args.run), args.threshold, save=True)
    except UserError as error:
        return report("evaluate.py", error)
    print(format_evaluation(evaluation))
    plots = f"{confusion_matrix_file(args.threshold)} and roc_curve.png"
    print(f"Added to {Path(args.run) / 'metrics.json'}; plots {plots}.")
    return 0


def predict_parser() -> Parser:
    parser = run_parser(
        "predict.py",
        "Probability that each review is positive, from a run folder. Reviews come from the arguments, "
        "from --file (one review a line) or, with -, from standard input.",
        "the label is positive",
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="a review; - reads reviews from standard input")
    parser.add_argument("--file", help="a UTF-8 file of reviews, one a line (blank lines are skipped)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {text, probability, label}")
    return parser


def predict_main(argv: list[str] | None = None) -> int:
    parser = predict_parser()
    args = parser.parse_args(argv)
    if not args.texts and args.file is None:
        parser.error("no reviews: expected one or more TEXT arguments, --file FILE or - (standard input)")
    try:
        from imdb_rnn.predict import gather_reviews, label, load_run

        texts = gather_reviews(args.texts, args.file)
        probabilities = load_run(args.run).predict(texts)
    except UserError as error:
        return report("predict.py", error)
    results = [
        {"text": review, "probability": float(p), "label": label(p, args.threshold)}
        for review, p in zip(texts, probabilities)
    ]
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for result in results:
            print(f"{result['probability']:.4f}  {result['label']:<8}  {shorten(result['text'])}")
    return 0


def shorten(review: str, width: int = 70) -> str:
    """One line of at most `width` characters: whitespace collapsed, `…` where it is cut."""
    line = " ".join(review.split())
    return line if len(line) <= width else line[: width - 1] + "…"
