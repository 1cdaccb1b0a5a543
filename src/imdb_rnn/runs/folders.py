"""Finding run folders: a run folder, or a folder of them at any depth (`outputs/`, `outputs/reproduce/`).

A run folder is named `<config>-<YYYYmmdd-HHMMSS>` (see `imdb_rnn.files.new_folder`) and holds its
`config.yaml` beside the files training writes. Comparison folders (`outputs/comparisons/…`, made
by `imdb-rnn compare`), pretraining runs (`outputs/pretrain/…`, made by `imdb-rnn pretrain`: not
classifiers) and hidden folders are never taken for runs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from imdb_rnn.config.pretraining import FOLDER as PRETRAINING
from imdb_rnn.errors import RunError, show
from imdb_rnn.files import stamp_of

DEFAULT_FOLDER = Path("outputs")
COMPARISONS = "comparisons"  # outputs/comparisons/<timestamp>/ holds comparisons, never runs
RUN_FILES = ("metrics.json", "history.json", "history.csv", "status.json", "summary.txt")  # beside config.yaml


WORKER_PREFIX = ".worker-"  # outputs/.worker-<id>/<run>/: a worker's copy of a multi_worker run
PROCESS_ID = "KERAS_DISTRIBUTION_PROCESS_ID"  # this process's id in a cluster, as keras.distribution reads it


def process_id() -> int:
    """This process's id in a cluster (`KERAS_DISTRIBUTION_PROCESS_ID`), 0 outside one."""
    value = os.environ.get(PROCESS_ID, "").strip()
    return int(value) if value.isdigit() else 0


def worker_folder(output_dir: str | Path, process: int) -> Path:
    """Where a worker other than the chief keeps its copies of runs (its checkpoints, for `--resume`):
    a hidden folder that comparison passes over."""
    return Path(output_dir) / f"{WORKER_PREFIX}{process}"


def own_copy(run: str | Path, process: int | None = None) -> Path:
    """The folder of `run` that this process (or `process`) trains in: the run itself for the chief or a
    single process, a worker's hidden copy of it otherwise."""
    run = Path(run)
    process = process_id() if process is None else process
    return run if not process else worker_folder(run.parent, process) / run.name


def is_worker_copy(folder: Path) -> bool:
    """A worker's copy of a run (see `own_copy`)."""
    return Path(folder).parent.name.startswith(WORKER_PREFIX)


def is_comparison(folder: Path) -> bool:
    """`outputs/comparisons` itself, or a folder that a comparison wrote (it holds `comparison.csv`)."""
    return folder.name == COMPARISONS or (folder / "comparison.csv").is_file()


def is_passed_over(folder: Path) -> bool:
    """Hidden folders, comparisons and the folder of pretraining runs (`outputs/pretrain/`, not
    classifiers): never searched for runs."""
    return folder.name.startswith(".") or folder.name == PRETRAINING or is_comparison(folder)


def is_run_folder(folder: Path) -> bool:
    """A folder named `<config>-<timestamp>`, or one holding `config.yaml` and another file a run writes."""
    if stamp_of(folder) is not None:
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
                f"(made by imdb-rnn train), received {show(str(path))}."
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
    children = [child for child in sorted(folder.iterdir()) if child.is_dir() and not is_passed_over(child)]
    if children:
        return [run for child in children for run in _runs_in(child)]
    return [folder] if stamp_of(folder) is not None else []
