"""`imdb-rnn train`: train configs (× seeds) into new run folders, or resume one."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from imdb_rnn.cli.common import Invocation, Parser, add_set_argument, guarded, quiet_tensorflow

HELP = "train models from YAML configs (one new run folder each), or resume a run"
DESCRIPTION = "Train sentiment classifiers on IMDB from YAML configs; each run goes to a new run folder."


def add_arguments(parser: Parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--config",
        nargs="+",
        metavar="CONFIG",
        help="YAML configs: paths, names of shipped configs (lstm.yaml or lstm), or globs (configs/*.yaml)",
    )
    source.add_argument("--resume", type=Path, metavar="RUN", help="continue an interrupted or failed run folder")
    add_set_argument(parser, "override one config key, value read as YAML (repeatable): --set train.epochs=1")
    parser.add_argument("--seeds", nargs="+", type=int, metavar="SEED", help="train each config once per seed")
    parser.add_argument("--dry-run", action="store_true", help="check configs and build models; train nothing")
    parser.add_argument("--output-dir", default="outputs", help="where run folders are created (default: outputs)")


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if args.resume and (args.overrides or args.seeds or args.dry_run):
        parser.error("--resume takes no --set, --seeds or --dry-run: a run resumes with the config in its folder")
    code = guarded(invocation, lambda: _train(args))
    if code != 0 and "jax" in sys.modules:  # a process of a cluster whose run failed: leave it at once
        from imdb_rnn.training.distribution import leave_failed_cluster

        leave_failed_cluster(code)
    return code


def _train(args: argparse.Namespace) -> int:
    if args.resume:
        use_backend_of(args.resume)
    quiet_tensorflow()
    from imdb_rnn.config.checks import advice
    from imdb_rnn.training import distribution, sweep
    from imdb_rnn.training.recipe import resume, train

    if args.resume:
        folder, trained = resume(args.resume)
        if not trained:
            print(f"{folder} already completed; nothing to resume.")
            return 0
        return _report(folder)
    configs = sweep.plan(args.config, args.seeds, args.overrides)
    distribution.prepare(configs)  # before any run starts TensorFlow's runtime
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


def use_backend_of(run: Path) -> None:
    """Before Keras is imported: resume with the backend that trained `run` (its `status.json`), unless
    `KERAS_BACKEND` is set (a different one is then refused by the resume itself)."""
    from imdb_rnn.runs import status
    from imdb_rnn.runs.folders import own_copy

    run = own_copy(run)  # a worker of a cluster resumes its own copy of the run
    backend = (status.read(run) or {}).get("backend") if run.is_dir() else None
    if isinstance(backend, str) and "keras" not in sys.modules and not os.environ.get("KERAS_BACKEND"):
        os.environ["KERAS_BACKEND"] = backend


def _report(folder: Path) -> int:
    from imdb_rnn.runs import Run
    from imdb_rnn.runs.folders import is_worker_copy

    if is_worker_copy(folder):
        print(f"Worker copy: {folder} (the chief, process 0, writes the run folder and its results)")
        return 0
    metrics = Run(folder).metrics
    print(f"Run folder: {folder}")
    print(
        f"Test accuracy: {metrics['test_accuracy']:.4f} (test loss {metrics['test_loss']:.4f}, "
        f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']})"
    )
    return 0
