"""`imdb-rnn search`: search config keys on validation accuracy (Optuna), each trial a run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imdb_rnn.cli.common import Invocation, Parser, add_set_argument, guarded, positive_int, quiet_tensorflow
from imdb_rnn.errors import RunInterrupted

HELP = "search config keys (lists, ranges) on validation accuracy; the winner written as a config"
DESCRIPTION = (
    "Search the keys of a space file (a list of values or a range each) over a base config with Optuna: "
    "each trial trains a run folder and is judged on its best validation accuracy (the test set is never "
    "read), unpromising trials are pruned, and the winner is written as a config in the search folder. "
    "Starting the same search again, or --resume, continues it."
)


def add_arguments(parser: Parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", metavar="CONFIG", help="the base config: a path or a shipped config's name")
    source.add_argument("--resume", type=Path, metavar="SEARCH", help="continue a search folder (outputs/search/…)")
    parser.add_argument(
        "--space", metavar="SPACE", help="the search space: a YAML path or a name in configs/search/ (e.g. lstm)"
    )
    parser.add_argument(
        "--trials", type=positive_int, metavar="N", help="finished trials to reach (default: 20; --resume: as before)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampler (default: 0)")
    parser.add_argument(
        "--pruner",
        choices=("median", "none"),
        default="median",
        help="stop a trial whose validation accuracy falls below the median of finished trials at that epoch "
        "(median, the default; from epoch 2, after 3 finished trials), or never (none)",
    )
    add_set_argument(parser, "override a key of the base config for every trial (repeatable): --set train.epochs=3")
    parser.add_argument(
        "--output-dir", default="outputs", help="search folders go in OUTPUT_DIR/search (default: outputs)"
    )


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if args.resume and (args.space or args.overrides):
        parser.error("--resume takes no --space or --set: a search resumes with what its folder recorded")
    if args.config and not args.space:
        parser.error("--config needs --space: the YAML file of the keys to search")
    return guarded(invocation, lambda: _search(args, invocation), what="search")


def _search(args: argparse.Namespace, invocation: Invocation) -> int:
    quiet_tensorflow()
    from imdb_rnn.training import search

    search.optuna_module()  # before anything is written: say how to install it when missing
    if args.resume:
        search.check_search_folder(args.resume)
        folder, resumed = args.resume, True
    else:
        folder, resumed = search.start(
            args.config, args.space, args.overrides, args.output_dir, args.seed, args.trials or 20
        )
    print(f"{'Continuing' if resumed else 'Search folder:'} {folder}", flush=True)
    pruner = None
    if args.pruner == "none":
        pruner = search.optuna_module().pruners.NopPruner()
    try:
        result = search.run_search(folder, args.trials, pruner=pruner)
    except RunInterrupted as interrupt:
        print(f"Interrupted: the search {folder} keeps its finished trials; continue it with", file=sys.stderr)
        print(f"  {invocation.command} --resume {folder}", file=sys.stderr)
        return interrupt.exit_code
    print(search.table(result.rows))
    print(f"Trials: {folder / search.TRIALS}")
    if result.winner is None:
        print("No trial completed: no winner.")
        return 1
    print(f"Winner: trial {result.best['trial']}, best validation accuracy {result.best['val_accuracy']:.4f}")
    print(f"Config: {result.winner}")
    return 0
