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
