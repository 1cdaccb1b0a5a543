"""Reading run folders to compare: load the finished ones, filter them, pick the keys that differ.

    runs, comparisons = collect_runs(["outputs"], warn=print)  # broken or unfinished folders → one warn() each
    runs = select_runs(runs, filters=["architecture=lstm"], last=5)
    differing_keys(runs)                                # ['model.units', 'train.seed']

A run folder counts when its `config.yaml`, `metrics.json` and `history.json` parse and its
`status.json`, if there is one, says `completed` (see `imdb_rnn.runs.Run.check_finished`).
Nothing in a run folder is ever written.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from imdb_rnn.config.reading import parse_assignment
from imdb_rnn.errors import RunError, show
from imdb_rnn.runs.folders import COMPARISONS, DEFAULT_FOLDER, run_folders
from imdb_rnn.runs.run import Run

MISSING = object()  # a config key that a run does not have (another architecture's parameter)


def collect_runs(paths: Sequence[str | Path], warn: Callable[[str], None]) -> tuple[list[Run], Path]:
    """Loads every finished run under `paths` (see `run_folders`); `warn` gets one line per folder left out.

    Returns the runs and the folder a comparison goes in by default: `<folder of the runs>/comparisons`
    (`outputs/comparisons` when the runs come from several folders). Raises `RunError` when no run is usable.
    """
    folders, roots = run_folders(paths)
    runs = []
    for folder in folders:
        try:
            runs.append(Run(folder).check_finished())
        except RunError as error:
            warn(f"{error} Left out.")
    if not runs:
        where = ", ".join(str(root) for root in roots) or ", ".join(str(p) for p in paths)
        found = f"{len(folders)} folder{'s' if len(folders) != 1 else ''}, none usable" if folders else "no run folder"
        raise RunError(
            f"{where}: no usable run: expected finished run folders (config.yaml, metrics.json and history.json, "
            f"made by imdb-rnn train), received {found}."
        )
    parent = roots[0] if len(roots) == 1 else DEFAULT_FOLDER
    return runs, parent / COMPARISONS


def canonical(value: Any) -> str:
    """A text that is equal for equal config values (a missing key has its own), for grouping and comparing."""
    return "<missing>" if value is MISSING else json.dumps(value, sort_keys=True, default=str)


def differing_keys(runs: Sequence[Run], ignore: Sequence[str] = ()) -> list[str]:
    """The config keys whose value is not the same in every run (a key some runs lack counts):
    `model.*` first, then `train.*`, `data.*`, each in config order."""
    keys = sorted(dict.fromkeys(key for run in runs for key in run.settings), key=_section_rank)
    return [
        key
        for key in keys
        if key not in ignore and len({canonical(run.settings.get(key, MISSING)) for run in runs}) > 1
    ]


def _section_rank(key: str) -> int:
    return {"model": 0, "train": 1, "data": 2}.get(key.partition(".")[0], 3)


def repeat_key(run: Run) -> str:
    """Equal for runs whose resolved configs differ at most in `train.seed` (repeats of one experiment)."""
    return canonical({key: value for key, value in run.settings.items() if key != "train.seed"})


def resolve_key(key: str, keys: Sequence[str], where: str) -> str:
    """`architecture` → `model.architecture`: a dotted key, or a bare name that only one key ends in."""
    if key in keys:
        return key
    matches = [candidate for candidate in keys if candidate.rpartition(".")[2] == key]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise RunError(f"{where}: ambiguous key `{key}`: expected one of {', '.join(matches)}, received {show(key)}.")
    names = list(keys) + sorted({candidate.rpartition(".")[2] for candidate in keys})
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    raise RunError(
        f"{where}: unknown key `{key}`{hint}: expected a key of the runs' config.yaml "
        f"({', '.join(keys)}) or its last part alone, received {show(key)}."
    )


def select_runs(runs: list[Run], filters: Sequence[str] = (), last: int | None = None) -> list[Run]:
    """The runs matching every `key=value` filter (value read as YAML), then the `last` most recent of them."""
    keys = list(dict.fromkeys(key for run in runs for key in run.settings))
    for text in filters:
        parsed = parse_assignment(text)
        if parsed is None:
            raise RunError(
                f"--filter {text}: invalid filter: expected key=value (e.g. architecture=lstm or "
                f"model.units=64), received {show(text)}."
            )
        key = resolve_key(parsed[0], keys, f"--filter {text}")
        wanted = parsed[1]
        kept = [run for run in runs if key in run.settings and same_value(run.settings[key], wanted)]
        if not kept:
            values = sorted({canonical(run.settings.get(key, MISSING)) for run in runs})
            raise RunError(
                f"--filter {text}: no run matches: expected a value that `{key}` has in the "
                f"{len(runs)} run{'s' if len(runs) != 1 else ''} left, received {show(wanted)} "
                f"(values there: {', '.join(values)})."
            )
        runs = kept
    if last is not None:
        runs = sorted(runs, key=lambda run: run.started)[-last:]
    return runs


def same_value(actual: Any, wanted: Any) -> bool:
    """Whether a config value equals a filter's value: numbers by value (`1e-3` = 0.001), else exactly."""
    if isinstance(actual, bool) or isinstance(wanted, bool) or actual is None or wanted is None:
        return actual is wanted
    if isinstance(actual, (int, float)):
        try:
            return math.isclose(actual, float(wanted), rel_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(actual, str):
        return actual == str(wanted)
    return actual == wanted
