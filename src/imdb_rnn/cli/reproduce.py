"""`imdb-rnn reproduce`: every shipped config on the full data with fixed seeds, into docs/RESULTS.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imdb_rnn.cli.common import Invocation, Parser, add_set_argument, quiet_tensorflow, sigterm_as_interrupt
from imdb_rnn.errors import RunFailed, Terminated, UserError

HELP = "train shipped configs (from scratch and pretrained) with seeds 1 2 3 and write docs/RESULTS.md (hours)"
DESCRIPTION = (
    "Train shipped configs on the full data with fixed seeds, from scratch and from each pretraining "
    "(skipping runs already finished, resuming interrupted ones), add them to docs/RESULTS.json and "
    "write docs/RESULTS.md from every run recorded there."
)


def add_arguments(parser: Parser) -> None:
    parser.add_argument(
        "--configs",
        nargs="+",
        metavar="CONFIG",
        help="configs, names or globs (default: configs/*.yaml, or none with --ensembles)",
    )
    parser.add_argument(
        "--ensembles",
        nargs="+",
        default=[],
        metavar="ENSEMBLE",
        help="ensembles of configs/ensembles/ (e.g. lstm_nbsvm): each seed's member runs, trained or found, "
        "and their ensemble (weights chosen on validation)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3], help="seeds (default: 1 2 3)")
    parser.add_argument(
        "--starts",
        nargs="+",
        default=["scratch", "word2vec"],
        metavar="START",
        help="where the embedding starts: scratch, or a pretraining config (default: scratch word2vec)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("outputs/reproduce"),
        help="where the runs go (default: outputs/reproduce)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("docs/RESULTS.md"),
        help="the table (default: docs/RESULTS.md); its ledger of runs is the .json beside it",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        help="also rewrite the results table of this README (between its results-table markers), e.g. README.md",
    )
    parser.add_argument(
        "--tables-only",
        action="store_true",
        help="train nothing: write --results (and --readme's table) again from the ledger as it is",
    )
    add_set_argument(parser, "shrink every run for a smoke test (repeatable; the results then say so)")


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    quiet_tensorflow()
    from imdb_rnn.reports.ensembles import load_spec
    from imdb_rnn.reports.reproduce import read_ledger, record, reproduce, write_results
    from imdb_rnn.reports.results import with_summary
    from imdb_rnn.training.sweep import expand

    try:
        if args.tables_only:
            write_results(read_ledger(args.results.with_suffix(".json")), args.results, args.readme)
            print(f"Written to {args.results}")
            return 0
        ensembles = tuple(load_spec(name) for name in args.ensembles)
        configs = args.configs if args.configs is not None else [] if ensembles else ["configs/*.yaml"]
        paths = expand(configs) if configs else []
        if args.readme is not None:
            with_summary(args.readme, "")  # a README without its markers is refused before hours of training
        with sigterm_as_interrupt():
            ledger_file = args.results.with_suffix(".json")
            done = reproduce(
                paths,
                tuple(args.seeds),
                args.output_dir,
                args.overrides,
                tuple(args.starts),
                ledger=ledger_file,
                ensembles=ensembles,
            )
        ledger = record(done, ledger_file, args.overrides)  # runs found completed under --output-dir too
        write_results(ledger, args.results, args.readme)
    except (UserError, RunFailed) as error:
        return invocation.fail(str(error), error.exit_code)
    except KeyboardInterrupt as interrupt:
        if args.results.with_suffix(".json").is_file():  # the runs recorded before the interruption
            write_results(read_ledger(args.results.with_suffix(".json")), args.results, args.readme)
        print("Interrupted; run the same command again to go on where it stopped.", file=sys.stderr)
        return getattr(interrupt, "exit_code", 143 if isinstance(interrupt, Terminated) else 130)
    print(f"Written to {args.results}")
    return 0 if all(outcome.state == "completed" for _, outcome in done) else 1
