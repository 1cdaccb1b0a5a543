"""`imdb-rnn benchmark`: time plain Keras, the trainer, and the trainer with length bucketing."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import time
from pathlib import Path

from imdb_rnn.cli.common import Invocation, Parser, add_set_argument, folder_name, positive_int, quiet_tensorflow
from imdb_rnn.errors import RunFailed, UserError

HELP = "time plain Keras vs the trainer vs length bucketing on the same data"
DESCRIPTION = "Time plain Keras, the trainer and the trainer with length bucketing on the same data."
RECIPES = ("seed LSTM", "cnn_lstm")  # imdb_rnn.reports.benchmark.RECIPES, named here so --help needs no Keras
BACKENDS = ("tensorflow", "jax", "torch")  # imdb_rnn.reports.benchmark.BACKENDS
SETTINGS = (
    "limit",
    "epochs",
    "maxlen",
    "repeats",
    "recipes",
    "backends",
    "jit",
    "profile",
    "overrides",
)  # for the record


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
        "--json",
        type=Path,
        metavar="PATH",
        help="write the raw timings here, with the machine, commit and command (default: timings.json in the "
        "new benchmark-<timestamp> or profile-<timestamp> folder under --output-dir); commit it beside "
        "docs/BENCHMARK.md, under docs/benchmarks/, with a table made from it",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=BACKENDS,
        metavar="BACKEND",
        help="Keras backends to time, each in its own process, in turn (tensorflow, jax, torch; default: "
        "this process's backend only); plain Keras (a), the baseline, runs under tensorflow alone when it is one",
    )
    parser.add_argument(
        "--jit",
        action="store_true",
        help="also time way (d) under TensorFlow: the trainer with train.jit_compile (XLA, bucket widths of 32)",
    )
    add_set_argument(
        parser,
        "override a config key in the trainer's ways (b), (c), (d) (repeatable): --set "
        "train.mixed_precision=bfloat16; plain Keras (a) and the PyTorch reference (r) stay the keras-io recipe",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead, time train steps of a few widths: the cost a step and a token, and the ratio to plain "
        "Keras that length bucketing can reach",
    )
    parser.add_argument(
        "--serving",
        type=folder_name,
        metavar="RUN",
        help="instead, time imdb-rnn serve on RUN on the loopback: requests/s and p50/p99 latency at 1, 8 and 64 "
        "clients with and without batching, and the server's memory over 10,000 requests (training reviews of "
        "the run's IMDB data)",
    )
    parser.add_argument(
        "--requests",
        type=positive_int,
        default=1000,
        help="with --serving: requests a level at most (default: 1000; a level also stops after 60 s)",
    )
    parser.add_argument("--first-seed", type=int, help=argparse.SUPPRESS)  # a child of --backends: its repeat's seed
    parser.add_argument("--results-json", type=Path, help=argparse.SUPPRESS)  # … and where its results go
    parser.add_argument("--without-plain", action="store_true", help=argparse.SUPPRESS)  # … without way (a)


def command_line(args: argparse.Namespace) -> str:
    """The command that ran this benchmark, as a user would type it again (for the raw timings' record)."""
    if args.serving:
        words = ["imdb-rnn", "benchmark", "--serving", args.serving, "--requests", str(args.requests)]
        return shlex.join(words + (["--json", str(args.json)] if args.json else []))
    words = ["imdb-rnn", "benchmark"] + (["--profile"] if args.profile else [])
    words += ["--limit", str(args.limit)] if args.limit else []
    words += ["--maxlen", str(args.maxlen)] if args.maxlen else []
    if not args.profile:
        words += ["--epochs", str(args.epochs), "--repeats", str(args.repeats)]
        words += ["--backends", *args.backends] if args.backends else []
        words += ["--jit"] if args.jit else []
        words += [word for override in args.overrides for word in ("--set", override)]
        words += ["--out", str(args.out)] if args.out else []
    words += ["--recipes", *args.recipes, "--output-dir", str(args.output_dir)]
    words += ["--json", str(args.json)] if args.json else []
    return shlex.join(words)


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if args.overrides and (args.serving or args.profile):
        parser.error(
            f"argument --set: expected with the epoch benchmark (the trainer's ways), received it with "
            f"{'--serving' if args.serving else '--profile'}, which trains no run"
        )
    if args.serving:
        return serving(args, invocation)
    quiet_tensorflow()
    from imdb_rnn.reports.benchmark import STATISTIC, benchmark, run_benchmark, save_results, table
    from imdb_rnn.reports.timings import FILE_NAME, record

    started = time.monotonic()
    settings = {name: value for name, value in vars(args).items() if name in SETTINGS}
    settings.update(output_dir=str(args.output_dir), out=str(args.out) if args.out else None)
    try:
        if args.profile:
            from imdb_rnn.files import new_folder
            from imdb_rnn.reports.step_profile import STATISTIC as STEP_STATISTIC
            from imdb_rnn.reports.step_profile import profile_table, profiles, raw

            found = profiles(args.recipes, args.limit, args.maxlen)
            print(profile_table(found))
            path = args.json or new_folder(args.output_dir, "profile", what="profile folder") / FILE_NAME
            record(
                path,
                "step profile",
                command_line(args),
                STEP_STATISTIC,
                settings,
                raw(found),
                time.monotonic() - started,
            )
            print(f"Raw timings: {path}")
            return 0
        if args.results_json is not None:  # one backend's share of `--backends`, for the parent process
            results = run_benchmark(
                args.limit,
                args.epochs,
                args.maxlen,
                args.recipes,
                args.output_dir,
                1,
                args.first_seed,
                args.jit,
                plain=not args.without_plain,
                overrides=args.overrides,
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
            args.overrides,
        )
        path = args.json or reports[0].parent / FILE_NAME
        raw = [dataclasses.asdict(result) for result in results]
        record(path, "epochs", command_line(args), STATISTIC, settings, raw, time.monotonic() - started)
    except (UserError, RunFailed) as error:
        return invocation.fail(str(error), error.exit_code)
    print(table(results))
    print(f"Written to {' and '.join(map(str, reports))}")
    print(f"Raw timings: {path}")
    return 0


def serving(args: argparse.Namespace, invocation: Invocation) -> int:
    """`--serving RUN`: the server under load (`imdb_rnn.reports.serving`); raw figures to `--json`."""
    from imdb_rnn.files import new_folder
    from imdb_rnn.reports.serving import STATISTIC, benchmark_serving, serving_table, training_texts
    from imdb_rnn.reports.timings import FILE_NAME, record

    started = time.monotonic()
    try:
        reviews = training_texts(args.serving)
        raw = benchmark_serving(args.serving, reviews, requests=args.requests)
        path = args.json or new_folder(args.output_dir, "serving", what="benchmark folder") / FILE_NAME
        settings = {"run": Path(args.serving).name, "requests": args.requests, "reviews": len(reviews)}
        record(path, "serving", command_line(args), STATISTIC, settings, [raw], time.monotonic() - started)
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    print(serving_table(raw))
    print(f"Raw figures: {path}")
    return 0
