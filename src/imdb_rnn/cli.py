"""Command-line entry points (`scripts/train.py`). User errors end as one line on stderr and exit 2."""

from __future__ import annotations

import argparse
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
