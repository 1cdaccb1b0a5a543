"""Several configs × several seeds, one run after another; a failed run does not stop the others.

    python scripts/train.py --config configs/*.yaml --seeds 1 2 3
"""

from __future__ import annotations

import glob
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from imdb_rnn import runs
from imdb_rnn.config import Config, find_config, load_config
from imdb_rnn.data import locate
from imdb_rnn.errors import ConfigError, RunFailed, UserError, show


@dataclass
class Outcome:
    """What became of one run of a sweep."""

    name: str
    run: Path | None
    state: str  # completed, failed
    test_accuracy: float | None = None
    error: str | None = None


def expand(patterns: list[str]) -> list[Path]:
    """Config paths from names, paths and globs (`configs/*.yaml`), in order, without repeats."""
    paths: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise ConfigError(f"--config {pattern}: no file matches: expected a glob matching YAML configs, received {show(pattern)}.")
        for match in matches:
            path = find_config(match)
            if path.resolve() not in [p.resolve() for p in paths]:
                paths.append(path)
    return paths


def plan(patterns: list[str], seeds: list[int] | None, overrides: list[str]) -> list[Config]:
    """Every (config, seed) to run, each loaded and checked before anything trains."""
    configs = []
    for path in expand(patterns):
        for seed in seeds or [None]:
            extra = [] if seed is None else [f"train.seed={seed}"]
            configs.append(load_config(path, [*overrides, *extra]))
    return configs


def run_all(configs: list[Config], output_dir: str | Path, verbose: int | None = None) -> list[Outcome]:
    """Trains each config in turn; failures are recorded and reported, and the sweep goes on.
    Ctrl-C or SIGTERM stops the whole sweep (`RunInterrupted` propagates)."""
    import keras

    from imdb_rnn.train import train

    outcomes = []
    for number, config in enumerate(configs, 1):
        label = f"{config.name} (seed {config.train.seed})"
        print(f"== run {number} of {len(configs)}: {label}", flush=True)
        keras.backend.clear_session(free_memory=True)  # drop the previous run's graphs and weights
        try:
            run = train(config, output_dir, verbose=verbose)
        except (RunFailed, UserError) as error:
            run = getattr(error, "run", None)
            print(f"warning: {label} failed: {error}", file=sys.stderr, flush=True)
            outcomes.append(Outcome(label, run, "failed", error=str(error)))
            continue
        accuracy = json.loads((run / "metrics.json").read_text())["test_accuracy"]
        outcomes.append(Outcome(label, run, "completed", accuracy))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """An aligned table: run folder (or config when none was made), status, test accuracy."""
    rows = [("run", "status", "test accuracy")] + [
        (
            str(outcome.run) if outcome.run else outcome.name,
            outcome.state,
            f"{outcome.test_accuracy:.4f}" if outcome.test_accuracy is not None else "-",
        )
        for outcome in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def dry_run(configs: list[Config]) -> None:
    """Builds each model, prints its summary, parameter count and where its data would come from."""
    from imdb_rnn.train import compile_model

    for config in configs:
        model = compile_model(config)
        location = locate(config.data)
        where = f"{location.source} from {location.path}" if location.path else f"{location.source}, to be downloaded"
        print(f"== {config.name} (seed {config.train.seed})")
        print(runs.summary(model))
        print(f"{config.name}: {model.count_params():,} parameters; data: {where}")
