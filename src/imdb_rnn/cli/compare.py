"""`imdb-rnn compare`: a leaderboard of finished runs, written with overlay plots to a comparison folder."""

from __future__ import annotations

import argparse
import sys

from imdb_rnn.cli.common import Invocation, Parser, positive_int
from imdb_rnn.errors import UserError

HELP = "compare finished runs: leaderboard, overlay plots, seed statistics"
DESCRIPTION = (
    "Compare finished runs: print a leaderboard and write it, with overlay plots, to a new comparison "
    "folder. Runs that differ only in train.seed are grouped (mean ± std)."
)


def add_arguments(parser: Parser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="RUN",
        help="run folders, or folders of run folders (default: outputs): outputs/lstm-* outputs/gru-*",
    )
    parser.add_argument(
        "--sort",
        default="test_accuracy",
        metavar="COLUMN",
        help="column to sort by (default: test_accuracy); accuracies best first, others ascending",
    )
    parser.add_argument("--reverse", action="store_true", help="reverse the sort order")
    parser.add_argument(
        "--no-group",
        dest="group",
        action="store_false",
        help="one row per run, repeats (same config, other train.seed) not grouped",
    )
    parser.add_argument(
        "--filter",
        dest="filters",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep runs whose resolved config has this value (repeatable, all must match): "
        "architecture=lstm, model.units=64",
    )
    parser.add_argument("--last", type=positive_int, metavar="N", help="only the N most recent runs (after --filter)")
    parser.add_argument(
        "--out", metavar="DIR", help="comparison folder, new or empty (default: <runs' folder>/comparisons/<timestamp>)"
    )


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    from imdb_rnn.comparison.report import FILES, compare

    try:
        result = compare(
            args.paths,
            filters=args.filters,
            last=args.last,
            sort=args.sort,
            reverse=args.reverse,
            group=args.group,
            out=args.out,
            warn=lambda line: print(f"warning: {line}", file=sys.stderr),
        )
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    print(result.table.text())
    repeats = result.table.repeats()
    if repeats:
        print("\nRepeats (same config but train.seed; mean ± sample std):")
        print("\n".join(f"  {line}" for line in repeats))
    print(f"\nComparison folder: {result.folder} ({', '.join(FILES)})")
    return 0
