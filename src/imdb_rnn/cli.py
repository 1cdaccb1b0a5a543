"""Command-line entry points (`scripts/train.py`, `compare.py`, `evaluate.py`, `predict.py`).

Exit codes: 0 done; 1 a run failed (NaN loss, full disk, unexpected error); 2 bad input (config,
data, run folder, arguments), reported before anything is trained or written; 130 Ctrl-C; 143
SIGTERM. Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from imdb_rnn.errors import RunFailed, RunInterrupted, Terminated, UserError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2) like every other user error."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help).\n")


def train_parser() -> Parser:
    parser = Parser(
        prog="train.py",
        description="Train sentiment classifiers on IMDB from YAML configs; each run goes to a new run folder.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--config",
        nargs="+",
        metavar="CONFIG",
        help="YAML configs: paths, names in configs/ (lstm.yaml or lstm), or globs (configs/*.yaml)",
    )
    source.add_argument("--resume", type=Path, metavar="RUN", help="continue an interrupted or failed run folder")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config key, value read as YAML (repeatable): --set train.epochs=1",
    )
    parser.add_argument("--seeds", nargs="+", type=int, metavar="SEED", help="train each config once per seed")
    parser.add_argument("--dry-run", action="store_true", help="check configs and build models; train nothing")
    parser.add_argument("--output-dir", default="outputs", help="where run folders are created (default: outputs)")
    return parser


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


def train_main(argv: list[str] | None = None) -> int:
    parser = train_parser()
    args = parser.parse_args(argv)
    if args.resume and (args.overrides or args.seeds or args.dry_run):
        parser.error("--resume takes no --set, --seeds or --dry-run: a run resumes with the config in its folder")
    try:
        with sigterm_as_interrupt():
            return _train(args)
    except UserError as error:
        return _fail(str(error), error.exit_code)
    except RunFailed as error:
        return _fail(f"run {error.run} failed: {error}", error.exit_code)
    except RunInterrupted as interrupt:
        print(f"Interrupted: {interrupt.run} is marked interrupted; resume it with", file=sys.stderr)
        print(f"  python scripts/train.py --resume {interrupt.run}", file=sys.stderr)
        return interrupt.exit_code
    except KeyboardInterrupt as interrupt:
        print("Interrupted before a run folder was made.", file=sys.stderr)
        return 143 if isinstance(interrupt, Terminated) else 130


def _fail(message: str, code: int) -> int:
    print(f"train.py: error: {message}", file=sys.stderr)
    return code


def _train(args: argparse.Namespace) -> int:
    from imdb_rnn import sweep
    from imdb_rnn.checks import advice
    from imdb_rnn.train import resume, train

    if args.resume:
        run, trained = resume(args.resume)
        if not trained:
            print(f"{run} already completed; nothing to resume.")
            return 0
        return _report(run)
    configs = sweep.plan(args.config, args.seeds, args.overrides)
    for note in dict.fromkeys(note for config in configs for note in advice(config)):
        print(f"warning: {note}", file=sys.stderr)
    if args.dry_run:
        sweep.dry_run(configs)
        return 0
    if len(configs) == 1:
        return _report(train(configs[0], args.output_dir))
    outcomes = sweep.run_all(configs, args.output_dir)
    print(sweep.table(outcomes))
    return 0 if all(outcome.state == "completed" for outcome in outcomes) else 1


def _report(run: Path) -> int:
    metrics = json.loads((Path(run) / "metrics.json").read_text(encoding="utf-8"))
    print(f"Run folder: {run}")
    print(
        f"Test accuracy: {metrics['test_accuracy']:.4f} (test loss {metrics['test_loss']:.4f}, "
        f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']})"
    )
    return 0


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, received {text!r}")
    return value


def compare_parser() -> Parser:
    parser = Parser(
        prog="compare.py",
        description="Compare finished runs: print a leaderboard and write it, with overlay plots, to a new "
        "comparison folder. Runs that differ only in train.seed are grouped (mean ± std).",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="RUN",
        help="run folders, or folders of run folders (default: outputs): outputs/lstm-* outputs/gru-*",
    )
    parser.add_argument("--sort", default="test_accuracy", metavar="COLUMN",
                        help="column to sort by (default: test_accuracy); accuracies best first, others ascending")
    parser.add_argument("--reverse", action="store_true", help="reverse the sort order")
    parser.add_argument("--no-group", dest="group", action="store_false",
                        help="one row per run, repeats (same config, other train.seed) not grouped")
    parser.add_argument("--filter", dest="filters", action="append", default=[], metavar="KEY=VALUE",
                        help="keep runs whose resolved config has this value (repeatable, all must match): "
                        "architecture=lstm, model.units=64")
    parser.add_argument("--last", type=positive_int, metavar="N", help="only the N most recent runs (after --filter)")
    parser.add_argument("--out", metavar="DIR",
                        help="comparison folder, new or empty (default: <runs' folder>/comparisons/<timestamp>)")
    return parser


def compare_main(argv: list[str] | None = None) -> int:
    args = compare_parser().parse_args(argv)
    try:
        from imdb_rnn.compare import FILES, compare

        result = compare(
            args.paths, filters=args.filters, last=args.last, sort=args.sort, reverse=args.reverse,
            group=args.group, out=args.out, warn=lambda line: print(f"warning: {line}", file=sys.stderr),
        )
    except UserError as error:
        print(f"compare.py: error: {error}", file=sys.stderr)
        return error.exit_code
    print(result.table.text())
    repeats = result.table.repeats()
    if repeats:
        print("\nRepeats (same config but train.seed; mean ± sample std):")
        print("\n".join(f"  {line}" for line in repeats))
    print(f"\nComparison folder: {result.folder} ({', '.join(FILES)})")
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
