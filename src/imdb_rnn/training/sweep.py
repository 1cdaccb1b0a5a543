"""Several configs × several seeds, one run after another; a failed run does not stop the others.

    imdb-rnn train --config configs/*.yaml --seeds 1 2 3

With `reuse=True` (what `imdb-rnn reproduce` does) a sweep can be stopped and started again: a
config that already has a completed run folder under the output folder is not trained again, and
an interrupted or crashed one is resumed.
"""

from __future__ import annotations

import glob
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import keras

from imdb_rnn.config import Config, find_config, load_config
from imdb_rnn.data.own import LAYOUTS, own_data_path
from imdb_rnn.data.sources import locate
from imdb_rnn.errors import ConfigError, RunFailed, UserError, show
from imdb_rnn.files import read_json, stamp_of
from imdb_rnn.runs import Run, status
from imdb_rnn.runs.lifecycle import newest_run
from imdb_rnn.runs.provenance import KERNEL_KEYS
from imdb_rnn.training.recipe import compile_model, resolve_for_backend, resume, train
from imdb_rnn.training.records import summary


@dataclass
class Outcome:
    """What became of one (config, seed) of a sweep: `state` is `completed` or `failed`."""

    config: Config
    run: Path | None
    state: str
    error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.config.name} (seed {self.config.train.seed})"

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """The run's `metrics.json` (completed runs only)."""
        return read_json(self.run / "metrics.json")

    @property
    def test_accuracy(self) -> float | None:
        return self.metrics["test_accuracy"] if self.state == "completed" else None


def expand(patterns: list[str]) -> list[Path]:
    """Config paths from names, paths and globs (`configs/*.yaml`), in order, without repeats."""
    paths: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise ConfigError(
                f"--config {pattern}: no file matches: expected a glob matching YAML configs, received {show(pattern)}."
            )
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


def find_run(output_dir: Path, config: Config) -> Path | None:
    """The newest run folder under `output_dir` trained with exactly `config` (any state) on this Keras
    backend. Each folder's `config.yaml` is read with today's defaults (a key added since then takes its
    default, resolved for the backend as training resolves it), a config whose `model.pretrained` names a
    pretraining config matches a run that started from a folder of it, and the keys that only choose a
    kernel for the same arithmetic (`KERNEL_KEYS`: `train.fused_lstm`) are not compared."""

    def compared(config: Config) -> dict:
        resolved = resolve_for_backend(config).to_dict()
        resolved["train"] = {key: value for key, value in resolved["train"].items() if key not in KERNEL_KEYS}
        return resolved

    wanted = compared(config)

    def matches(folder: Path) -> bool:
        try:
            found = compared(load_config(folder / "config.yaml", name=config.name))
        except UserError:
            return False
        if Run(folder).backend != keras.backend.backend():
            return False
        stamp = stamp_of(Path(found["model"]["pretrained"])) if found["model"]["pretrained"] else None
        if stamp is not None and stamp[0] == wanted["model"]["pretrained"]:
            found["model"]["pretrained"] = wanted["model"]["pretrained"]
        return found == wanted

    return newest_run(output_dir, config.name, matches)


def run_all(
    configs: list[Config],
    output_dir: str | Path,
    verbose: int | None = None,
    reuse: bool = False,
    after: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Trains each config in turn; failures are recorded and reported, and the sweep goes on.
    Ctrl-C or SIGTERM stops the whole sweep (`RunInterrupted` propagates). With `reuse`, a config's
    completed run folder under `output_dir` is taken as it is, and an unfinished one resumed. `after`
    is called with each outcome as soon as it is known (reproduce records each run at once)."""
    outcomes = []
    for number, config in enumerate(configs, 1):
        label = f"{config.name} (seed {config.train.seed})"
        previous = find_run(Path(output_dir), config) if reuse else None
        state = status.state_of(previous) if previous else None
        found = f": {state} ({previous})" if previous else ""
        print(f"== run {number} of {len(configs)}: {label}{found}", flush=True)
        keras.backend.clear_session(free_memory=True)  # drop the previous run's graphs and weights
        try:
            if previous is not None and state == "completed":
                run = previous
            elif previous is not None and state != "failed":
                run, _ = resume(previous, verbose=verbose)
            else:
                run = train(config, output_dir, verbose=verbose)
        except (RunFailed, UserError) as error:
            print(f"warning: {label} failed: {error}", file=sys.stderr, flush=True)
            outcomes.append(Outcome(config, getattr(error, "run", None), "failed", str(error)))
        else:
            outcomes.append(Outcome(config, run, "completed"))
        if after is not None:
            after(outcomes[-1])
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """An aligned table: run folder (or config when none was made), status, test accuracy."""
    rows = [("run", "status", "test accuracy")] + [
        (
            str(outcome.run) if outcome.run else outcome.label,
            outcome.state,
            f"{outcome.test_accuracy:.4f}" if outcome.test_accuracy is not None else "-",
        )
        for outcome in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def dry_run(configs: list[Config]) -> None:
    """Builds each model, prints its summary, parameter count and where its data would come from."""
    for config in configs:
        model = compile_model(config)
        if config.data.source in LAYOUTS:  # your own texts
            where = f"{config.data.source} from {own_data_path(config.data)}"
        else:
            location = locate(config.data)
            where = (
                f"{location.source} from {location.path}" if location.path else f"{location.source}, to be downloaded"
            )
        print(f"== {config.name} (seed {config.train.seed})")
        print(summary(model))
        print(f"{config.name}: {model.count_params():,} parameters; data: {where}")
