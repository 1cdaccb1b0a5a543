"""Reading run folders to compare: find them, load the finished ones, filter, pick what differs.

    runs, comparisons = collect_runs(["outputs"], warn=print)  # broken or unfinished folders → one warn() each
    runs = select_runs(runs, filters=["architecture=lstm"], last=5)
    differing_keys(runs)                                # ['model.units', 'train.seed']

A run folder counts when its `config.yaml`, `metrics.json` and `history.json` parse and its
`status.json`, if there is one, says `completed`. Nothing in a run folder is ever written.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from imdb_rnn.errors import RunError, show

DEFAULT_FOLDER = Path("outputs")
COMPARISONS = "comparisons"  # outputs/comparisons/<timestamp>/ holds comparisons, never runs
RUN_FILES = ("metrics.json", "history.json", "history.csv", "status.json", "summary.txt")  # beside config.yaml
STAMP = re.compile(r"-(\d{8}-\d{6})(?:-(\d+))?$")  # lstm-20260102-030405 (-2, -3 for the same second)
MISSING = object()  # a config key that a run does not have (another architecture's parameter)


@dataclass
class Run:
    """One finished run folder, read.

    `config` is `config.yaml` flattened to dotted keys (`{"model.units": 32, …}`); `metrics` is
    `metrics.json` as written (any extra keys kept); `history` is `history.json`: one list per key,
    numbers or None, `history["epoch"]` = [1, …, N]; `started` sorts runs by start time.
    """

    folder: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    history: dict[str, list[float | None]]
    started: tuple[float, int] = field(default=(0.0, 0))

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def config_name(self) -> str:
        """`lstm` for `lstm-20260102-030405`: metrics.json's `config`, else the folder name less its timestamp."""
        name = self.metrics.get("config")
        return name if isinstance(name, str) and name else STAMP.sub("", self.name)

    def number(self, key: str) -> float | None:
        """`metrics.json`'s `key` as a float; None when it is missing or not a finite number."""
        return number(self.metrics.get(key))


def number(value: Any) -> float | None:
    """`value` as a float if it is a finite number (JSON's true/false are not), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def is_comparison(folder: Path) -> bool:
    """`outputs/comparisons` itself, or a folder that a comparison wrote (it holds `comparison.csv`)."""
    return folder.name == COMPARISONS or (folder / "comparison.csv").is_file()


def is_run_folder(folder: Path) -> bool:
    """A folder named `<config>-<timestamp>`, or one holding `config.yaml` and another file a run writes."""
    if STAMP.search(folder.name):
        return True
    return (folder / "config.yaml").is_file() and any((folder / name).exists() for name in RUN_FILES)


def run_folders(paths: Sequence[str | Path]) -> tuple[list[Path], list[Path]]:
    """The folders to read and the folders they were found in.

    Each path is a run folder or a folder holding run folders, at any depth (`outputs/` holds
    `outputs/reproduce/lstm-…`); no paths means `outputs/`. Comparison folders and hidden folders are
    passed over without a word, and so are folders that hold neither a run nor a folder.
    """
    folders: list[Path] = []
    roots: list[Path] = []
    for path in [Path(p) for p in paths] or [DEFAULT_FOLDER]:
        if not path.is_dir():
            problem = "not a folder" if path.exists() else "no such folder"
            raise RunError(
                f"{path}: {problem}: expected a run folder or a folder of run folders such as outputs/ "
                f"(made by scripts/train.py), received {show(str(path))}."
            )
        if is_comparison(path):
            continue
        found = _runs_in(path)
        folders.extend(found)
        roots.append(path.parent if found == [path] else path)
    unique: dict[Path, Path] = {}
    for folder in folders:  # a folder named twice (outputs/lstm-* outputs/*) is read once
        unique.setdefault(folder.resolve(), folder)
    return list(unique.values()), list(dict.fromkeys(roots))


def _runs_in(folder: Path) -> list[Path]:
    """`[folder]` when it is a run: it holds `config.yaml` or another file a run writes, or it is named
    `<config>-<timestamp>` and holds no folder to look into (a broken run, to be reported). Otherwise
    the runs in its folders, at any depth (hidden and comparison folders passed over)."""
    if (folder / "config.yaml").is_file() or any((folder / name).exists() for name in RUN_FILES):
        return [folder]
    children = [
        child for child in sorted(folder.iterdir())
        if child.is_dir() and not child.name.startswith(".") and not is_comparison(child)
    ]
    if children:
        return [run for child in children for run in _runs_in(child)]
    return [folder] if STAMP.search(folder.name) else []


def collect_runs(paths: Sequence[str | Path], warn: Callable[[str], None]) -> tuple[list[Run], Path]:
    """Loads every finished run under `paths` (see `run_folders`); `warn` gets one line per folder left out.

    Returns the runs and the folder a comparison goes in by default: `<folder of the runs>/comparisons`
    (`outputs/comparisons` when the runs come from several folders). Raises `RunError` when no run is usable.
    """
    folders, roots = run_folders(paths)
    runs = []
    for folder in folders:
        try:
            runs.append(load_run(folder))
        except RunError as error:
            warn(f"{error} Left out.")
    if not runs:
        where = ", ".join(str(root) for root in roots) or ", ".join(str(p) for p in paths)
        found = f"{len(folders)} folder{'s' if len(folders) != 1 else ''}, none usable" if folders else "no run folder"
        raise RunError(
            f"{where}: no usable run: expected finished run folders (config.yaml, metrics.json and history.json, "
            f"made by scripts/train.py), received {found}."
        )
    parent = roots[0] if len(roots) == 1 else DEFAULT_FOLDER
    return runs, parent / COMPARISONS


def load_run(folder: Path) -> Run:
    """Reads one run folder; `RunError` saying what is wrong when it is unfinished, failed or broken."""
    if (folder / "status.json").exists():
        status = _read_mapping(folder, "status.json", json.loads)
        state = status.get("state")
        if state != "completed":
            error = status.get("error")
            reason = f": {str(error).strip().splitlines()[0]}" if error else ""
            raise RunError(f"{folder}: unfinished or failed run (status.json says state {show(state)}{reason}).")
    config = flatten(_read_mapping(folder, "config.yaml", yaml.safe_load))
    metrics = _read_mapping(folder, "metrics.json", json.loads)
    history = _read_history(folder)
    derived = _from_history(history)
    for key, value in derived.items():  # fills gaps in this copy only
        if number(metrics.get(key)) is None:
            metrics[key] = value
    return Run(folder, config, metrics, history, _started(folder))


def _read_mapping(folder: Path, name: str, parse: Callable[[str], Any]) -> dict[str, Any]:
    path = folder / name
    try:
        content = parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{folder}: no {name} (unfinished, failed or not a run folder).") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RunError(f"{folder}: cannot read {name}: {getattr(error, 'strerror', None) or error}.") from None
    except (ValueError, yaml.YAMLError) as error:
        problem = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RunError(f"{folder}: {name} is corrupt: {problem}.") from None
    if not isinstance(content, dict):
        raise RunError(f"{folder}: {name} is corrupt: expected a mapping, received {type(content).__name__}.")
    return content


def _read_history(folder: Path) -> dict[str, list[float | None]]:
    content = _read_mapping(folder, "history.json", json.loads)
    history = {}
    for key, values in content.items():
        if not isinstance(values, list):
            raise RunError(
                f"{folder}: history.json is corrupt: expected a list per key, "
                f"received {type(values).__name__} for {show(key)}."
            )
        history[key] = [number(value) for value in values]
    length = max((len(values) for key, values in history.items() if key != "epoch"), default=0)
    if len(history.get("epoch", [])) < length:
        history["epoch"] = list(range(1, length + 1))
    return history


def _from_history(history: dict[str, list[float | None]]) -> dict[str, float]:
    """`epochs_run`, `best_epoch` and `best_val_accuracy` as the history tells them."""
    derived: dict[str, float] = {"epochs_run": len(history["epoch"])} if history.get("epoch") else {}
    accuracies = [(value, index) for index, value in enumerate(history.get("val_accuracy", [])) if value is not None]
    if accuracies:
        best, index = max(accuracies, key=lambda pair: (pair[0], -pair[1]))
        derived.update(best_val_accuracy=best, best_epoch=history["epoch"][index])
    return derived


def _started(folder: Path) -> tuple[float, int]:
    """(seconds since the epoch, same-second suffix): the folder name's timestamp, else config.yaml's time."""
    match = STAMP.search(folder.name)
    try:
        return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").timestamp(), int(match.group(2) or 1)
    except (AttributeError, ValueError):  # no timestamp, or not a real date
        return (folder / "config.yaml").stat().st_mtime, 0


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"model": {"units": 32}}` → `{"model.units": 32}`; lists and other values stay as they are."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def canonical(value: Any) -> str:
    """A text that is equal for equal config values (a missing key has its own), for grouping and comparing."""
    return "<missing>" if value is MISSING else json.dumps(value, sort_keys=True, default=str)


def differing_keys(runs: Sequence[Run], ignore: Sequence[str] = ()) -> list[str]:
    """The config keys whose value is not the same in every run (a key some runs lack counts):
    `model.*` first, then `train.*`, `data.*`, each in config order."""
    keys = sorted(dict.fromkeys(key for run in runs for key in run.config), key=_section_rank)
    return [
        key for key in keys
        if key not in ignore and len({canonical(run.config.get(key, MISSING)) for run in runs}) > 1
    ]


def _section_rank(key: str) -> int:
    return {"model": 0, "train": 1, "data": 2}.get(key.partition(".")[0], 3)


def repeat_key(run: Run) -> str:
    """Equal for runs whose resolved configs differ at most in `train.seed` (repeats of one experiment)."""
    return canonical({key: value for key, value in run.config.items() if key != "train.seed"})


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
    keys = list(dict.fromkeys(key for run in runs for key in run.config))
    for text in filters:
        name, equals, raw = text.partition("=")
        if not equals or not name.strip():
            raise RunError(
                f"--filter {text}: invalid filter: expected key=value (e.g. architecture=lstm or "
                f"model.units=64), received {show(text)}."
            )
        key = resolve_key(name.strip(), keys, f"--filter {text}")
        try:
            wanted = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            wanted = raw
        kept = [run for run in runs if key in run.config and same_value(run.config[key], wanted)]
        if not kept:
            values = sorted({canonical(run.config.get(key, MISSING)) for run in runs})
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
