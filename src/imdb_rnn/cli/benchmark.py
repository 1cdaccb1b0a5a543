"""`imdb-rnn benchmark`: time plain Keras, the trainer, and the trainer with length bucketing."""

from __future__ import annotations

import argparse
from pathlib import Path

from imdb_rnn.cli.common import Invocation, Parser, positive_int, quiet_tensorflow
from imdb_rnn.errors import RunFailed, UserError

HELP = "time plain Keras vs the trainer vs length bucketing on the same data"
DESCRIPTION = "Time plain Keras, the trainer and the trainer with length bucketing on the same data."
RECIPES = ("seed LSTM", "cnn_lstm")  # imdb_rnn.reports.benchmark.RECIPES, named here so --help needs no Keras
BACKENDS = ("tensorflow", "jax", "torch")  # imdb_rnn.reports.benchmark.BACKENDS


def add_arguments(parser: Parser) -> None:
    parser.add_argument("--limit", type=positive_int, help="training reviews (default: all 25,000); test reviews too")
    parser.add_argument("--epochs", type=positive_int, default=3, help="epochs per way (default: 3)")
    parser.add_argument("--maxlen", type=positive_int, help="padded length (default: each recipe's own: 500, 400)")
    parser.add_argument(
        "--repeats", type=positive_int, default=1, help="train each way this many times, seeds 42, 43, … (default: 1)"
    )
    parser.add_argument(
        "--recipes",
        nargs="+",
        choices=RECIPES,
        default=list(RECIPES),
        metavar="RECIPE",
        help=f"which recipes (default: all): {', '.join(map(repr, RECIPES))}",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("outputs/benchmarks"),
        help="a new folder benchmark-<timestamp> here gets the runs and the report (default: outputs/benchmarks)",
    )
    parser.add_argument("--out", type=Path, help="also write the report here (e.g. docs/BENCHMARK.md)")
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=BACKENDS,
        metavar="BACKEND",
        help="Keras backends to time, each in its own process, in turn (tensorflow, jax, torch; default: "
        "this process's backend only)",
    )
    parser.add_argument(
        "--jit",
        action="store_true",
        help="also time way (d) under TensorFlow: the trainer with train.jit_compile (XLA, bucket widths of 32)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead, time train steps of a few widths: the cost a step and a token, and the ratio to plain "
        "Keras that length bucketing can reach",
    )
    parser.add_argument("--first-seed", type=int, help=argparse.SUPPRESS)  # a child of --backends: its repeat's seed
    parser.add_argument("--results-json", type=Path, help=argparse.SUPPRESS)  # … and where its results go


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    quiet_tensorflow()
    from imdb_rnn.reports.benchmark import benchmark, run_benchmark, save_results, table

    try:
        if args.profile:
            from imdb_rnn.reports.step_profile import profile_table, profiles

            print(profile_table(profiles(args.recipes, args.limit, args.maxlen)))
            return 0
        if args.results_json is not None:  # one backend's share of `--backends`, for the parent process
            results = run_benchmark(
                args.limit, args.epochs, args.maxlen, args.recipes, args.output_dir, 1, args.first_seed, args.jit
            )
            save_results(results, args.results_json)
            return 0
        results, reports = benchmark(
            args.limit,
            args.epochs,
            args.maxlen,
            args.recipes,
            args.output_dir,
            args.repeats,
            args.out,
            args.backends,
            args.jit,
        )
    except (UserError, RunFailed) as error:
        return invocation.fail(str(error), error.exit_code)
    print(table(results))
    print(f"Written to {' and '.join(map(str, reports))}")
    return 0
