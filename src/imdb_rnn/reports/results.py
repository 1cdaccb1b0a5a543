"""The results ledger behind `docs/RESULTS.md`: every run `imdb-rnn reproduce` has measured, kept as
JSON beside the table (`docs/RESULTS.json`) and merged run by run, so the table keeps the figures of
earlier sessions and machines. A run recorded again (the same run folder, say after a resumed
reproduction) replaces its own row; a new run of a config, start, seed and config hash already recorded
(a member of an ensemble trained again on a machine without `outputs/`) is added beside it, never over
it: the same seed on another machine is another measurement, and both count in the table's mean.

    {"runs": [{"config": "lstm", "start": "word2vec", "seed": 1, "test_accuracy": 0.89, "machine": ...,
               "commit": "4b40d37", "dirty": false, "config_hash": "3f1c…", "encoding": 2, "date": ...}],
     "pretraining": [{"name": "word2vec", "folder": ..., "minutes": 3.9, "machine": ...}]}

A row's `commit`, `dirty`, `config_hash` and `encoding` come from the run folder's `provenance.json`
(`imdb_rnn.runs.provenance`), its `date` from the folder's name: where and when the run was trained,
not when the ledger was written. Rows are grouped by config, start and config hash, so the seeds of an
edited config never mix with those of the config before it. Rows of text encoding 1 (before the
encoding became Keras's own, see `imdb_rnn.data.text`) have no provenance: their `ledger_commit` is the
commit at which the ledger recorded them, and RESULTS.md marks them until they are measured again.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from imdb_rnn.data import text
from imdb_rnn.errors import ConfigError
from imdb_rnn.files import read_json, read_json_or_none, stamp_of, write_json
from imdb_rnn.runs.provenance import read_provenance

SCRATCH = "scratch"  # the embedding starts at random
README_BEGIN = "<!-- results table: written by `imdb-rnn reproduce --readme README.md` from docs/RESULTS.json -->"
README_END = "<!-- end of results table -->"
STARTS_SHOWN = {SCRATCH: "from scratch", "ensemble": "ensemble of its members"}  # the README's column names
Goal = Callable[[str, str], tuple[float | None, str]]  # (config, start) -> (goal or None, published figure)


def run_record(run: Path, config_name: str, start: str, seed: int, command: str, machine: str) -> dict:
    """One ledger row from a completed run folder (its `metrics.json` and `provenance.json`)."""
    metrics = read_json(run / "metrics.json")
    return {
        "config": config_name,
        "architecture": metrics["architecture"],
        "start": start,
        "seed": seed,
        "run": run.name,
        "test_accuracy": metrics["test_accuracy"],
        "best_epoch": metrics["best_epoch"],
        "epochs_run": metrics["epochs_run"],
        "median_epoch_seconds": metrics["median_epoch_seconds"],
        "training_seconds": metrics["training_seconds"],
        "parameters": metrics["parameters"],
        "command": command,
        "machine": machine,
        **where_and_when(run),
    }


def where_and_when(run: Path) -> dict:
    """A ledger row's `date` (from the folder's name), `commit`, `dirty`, `config_hash` and `encoding`
    (from its `provenance.json`): when and at what code the run folder was made."""
    provenance, stamp = read_provenance(run) or {}, stamp_of(run)
    return {
        "date": stamp[1].date().isoformat() if stamp else None,
        "commit": provenance["commit"][:7] if provenance.get("commit") else None,
        "dirty": provenance.get("dirty"),
        "config_hash": provenance.get("config_hash"),
        "encoding": provenance.get("encoding", 1),  # a run folder without provenance predates encoding 2
    }


def pretraining_record(folder: Path) -> dict | None:
    """The cost of a pretraining run folder, from its `metrics.json` (None when it has none)."""
    metrics = read_json_or_none(Path(folder) / "metrics.json")
    if not isinstance(metrics, dict):
        return None
    stamp = stamp_of(Path(folder))
    return {
        "name": stamp[0] if stamp else Path(folder).name,
        "folder": Path(folder).name,
        "method": metrics.get("method"),
        "reviews": metrics["corpus"]["reviews"],
        "words": metrics["corpus"]["tokens"],
        "minutes": round(metrics["seconds"] / 60, 1),
        "machine": metrics.get("machine", "unknown"),
        "date": stamp[1].date().isoformat() if stamp else "unknown",
        "encoding": (read_provenance(Path(folder)) or {}).get("encoding", 1),
    }


def merge(ledger: Path, runs: Iterable[dict], pretrainings: Iterable[dict]) -> dict[str, list[dict]]:
    """Adds `runs` and `pretrainings` to the ledger file (a run replaces only its own row, the same run
    folder's; a pretraining, the one of the same folder) and returns the whole ledger."""
    content = read_json_or_none(ledger) if Path(ledger).is_file() else None
    content = content if isinstance(content, dict) else {}
    by_key = {_key(r): r for r in content.get("runs", [])}
    by_key.update({_key(r): r for r in runs})
    folders = {p["folder"]: p for p in content.get("pretraining", [])}
    folders.update({p["folder"]: p for p in pretrainings})

    def order(row: dict) -> tuple:
        return (
            row["config"],
            row["start"] != SCRATCH,
            row["start"],
            row.get("config_hash") or "",
            row["seed"],
            row.get("run") or "",
        )

    merged = {"runs": sorted(by_key.values(), key=order)}
    merged["pretraining"] = sorted(folders.values(), key=lambda p: (p["name"], p["folder"]))
    Path(ledger).parent.mkdir(parents=True, exist_ok=True)
    write_json(ledger, merged)
    return merged


OLD_ENCODING = "†"  # marks a figure measured under text encoding 1
ENCODING_NOTE = (
    f"Figures marked {OLD_ENCODING} were measured under text encoding 1, the project's own before 2026-12-02 "
    "(Unicode lower-casing, split on every whitespace character, words absent from Keras's word index read as "
    "OOV); they stand until measured again. Every other figure reads the reviews exactly as Keras's `imdb.npz` "
    "encodes them (text encoding 2: ASCII lower-casing, split on spaces only, unknown words dropped; "
    "`src/imdb_rnn/data/text.py`)."
)
DUPLICATES_NOTE = (
    "The dataset's own duplicates: 392 of the 25,000 test review files are byte-identical to a training review "
    "(123) or to an unlabeled one (269). The classifier figures include the 123 train/test duplicates, as every "
    "published IMDB figure does; pretraining drops the 123 training and 270 unlabeled files that equal a test "
    "review (compared by hash)."
)


def results_markdown(ledger: dict[str, list[dict]], goal: Goal) -> str:
    """`docs/RESULTS.md` from the ledger: a row per (config, start, config hash) with mean ± std over its
    runs (its seeds, and any seed trained again elsewhere), the pretraining costs, then every run with its
    command, date, commit and encoding.
    `goal(config, start)` is `(goal or None, published figure)`."""
    groups = _groups(ledger)
    machines = sorted({r["machine"] for r in ledger["runs"]})
    shrunk = sorted({r["overrides"] for r in ledger["runs"] if r.get("overrides")})
    lines = [
        "# Results",
        "",
        "Generated by `imdb-rnn reproduce` from [RESULTS.json](RESULTS.json), the record of every run it measured "
        "(each run's date, commit, config hash and machine are in the last table). Every number is accuracy on the "
        "official 25,000-review test set, of the model of the best epoch by validation accuracy (validation: 20% of "
        "the training reviews, seeded); no test review is read by validation, tuning or pretraining. Seconds per "
        "epoch include the validation pass; minutes a run are its whole training, validation included (runs of "
        "2026-12-02 shared the 2 cores with other jobs: their times are upper bounds). Machines of the runs: "
        + "; ".join(machines)
        + ".",
        "",
        ENCODING_NOTE,
        "",
        DUPLICATES_NOTE,
        "",
        *([f"**Not full-data results**: runs shrunk with `{'`, `'.join(shrunk)}`.", ""] if shrunk else []),
        "| config | architecture | embedding starts from | config hash | test accuracy (mean ± std) | runs | goal "
        "| met | published | best epoch | epochs run | s/epoch | min/run | parameters |",
        "|---|---|---|---|---:|---:|---:|:---:|---|---:|---:|---:|---:|---:|",
    ]
    missed = []
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] != SCRATCH, item[0][1], item[0][2] or ""))
    for (name, start, digest), group in ordered:
        target, published = goal(name, start)
        if target is not None and _mean(group) < target:
            several = sum((name, start) == key[:2] for key in groups) > 1  # name the experiment by its hash
            missed.append(f"{name} ({start}{f', {digest[:8]}' if digest and several else ''})")
        lines.append(
            f"| `{name}` | {group[0]['architecture']} | {start} | {_hash(digest)} | {_accuracy(group)} | {len(group)} "
            f"| {_goal_cells(target, _mean(group))} | {published or '-'} "
            f"| {_joined(r['best_epoch'] for r in group)} | {_joined(r['epochs_run'] for r in group)} "
            f"| {_seconds([r['median_epoch_seconds'] for r in group])} "
            f"| {statistics.median(r['training_seconds'] for r in group) / 60:.1f} | {group[0]['parameters']:,} |"
        )
    if missed:
        lines += ["", f"Goals not met: {', '.join(missed)}. What was tried to reach them: [TUNING.md](TUNING.md)."]
    if ledger["pretraining"]:
        lines += ["", "Pretraining cost (on the 25,000 training and 50,000 unlabeled reviews):", ""]
        lines += ["| pretraining | folder | reviews | words | minutes | machine |", "|---|---|---:|---:|---:|---|"]
        for p in ledger["pretraining"]:
            label = p["name"] if p["name"] == p["method"] else f"{p['name']} ({p['method']})"
            label += OLD_ENCODING if p.get("encoding", 1) < text.ENCODING else ""
            lines.append(
                f"| {label} | `{p['folder']}` | {p['reviews']:,} | {p['words']:,} | {p['minutes']} | {p['machine']} |"
            )
    lines += ["", "Each run, and the command that trains it (with `IMDB_DATA_DIR` pointing at the data). The commit "]
    lines[-1] += "is the one the run was trained at (`+dirty`: with uncommitted changes); for rows of encoding 1, "
    lines[-1] += "which predate provenance, the commit at which the ledger recorded them, in brackets:"
    lines += [
        "",
        "| run | test accuracy | best epoch | epochs run | s/epoch | minutes | date | commit | encoding | config hash "
        "| command |",
    ]
    lines += ["|---|---:|---:|---:|---:|---:|---|---|---:|---|---|"]
    for r in ledger["runs"]:
        lines.append(
            f"| `{r['run']}` | {r['test_accuracy']:.4f} | {_joined([r['best_epoch']])} | {r['epochs_run']} "
            f"| {_seconds([r['median_epoch_seconds']])} | {r['training_seconds'] / 60:.1f} | {r['date']} | {_commit(r)} "
            f"| {r.get('encoding', 1)} "
            f"| {_hash(r.get('config_hash'))} | `{r['command']}` |"
        )
    return "\n".join(lines) + "\n"


def summary_table(ledger: dict[str, list[dict]], goal: Goal) -> str:
    """The README's table: a row per config, its test accuracy from scratch and from each pretraining
    (mean ± std, the number of runs in brackets; of the newest config hash, marked † under encoding 1), and
    its goal: the one with pretraining, or for a config without one (the yardstick) its own; met when its
    best start reaches it."""
    groups = _latest(_groups(ledger))
    pretrained = [start for _, start in groups if start != SCRATCH]  # the most used first
    order = lambda start: (start == "ensemble", -pretrained.count(start), start)  # noqa: E731 - ensembles last
    starts = [SCRATCH, *sorted(set(pretrained), key=order)]
    lines = [
        "| config | " + " | ".join(STARTS_SHOWN.get(s, f"{s} start") for s in starts) + " | goal | met |",
        "|---|" + "---:|" * len(starts) + "---:|:---:|",
    ]
    for name in sorted({name for name, _ in groups}):
        row = [f"{_accuracy(groups[name, s])} ({len(groups[name, s])})" if (name, s) in groups else "-" for s in starts]
        ran = [start for start in starts if (name, start) in groups]
        judged = [start for start in ran if start != SCRATCH and goal(name, start)[0] is not None]
        judged = judged or ([SCRATCH] if SCRATCH in ran else [])
        target = goal(name, judged[0])[0] if judged else None
        best = max((_mean(groups[name, start]) for start in judged), default=0.0)
        lines.append(f"| `{name}` | " + " | ".join(row) + f" | {_goal_cells(target, best)} |")
    if any(_old_encoding(group) for group in groups.values()):
        lines += ["", f"{OLD_ENCODING} measured under the old text encoding; see [docs/RESULTS.md](docs/RESULTS.md)."]
    return "\n".join(lines)


def with_summary(readme: Path, table: str) -> str:
    """The text of `readme` with its results table (between `README_BEGIN` and `README_END`) replaced
    by `table`. A missing file, or one without the markers, is a `ConfigError`."""
    try:
        text = Path(readme).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "text that is not UTF-8"
        raise ConfigError(f"--readme {readme}: expected a readable UTF-8 README, received {reason}.") from None
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise ConfigError(
            f"--readme {readme}: expected the lines {README_BEGIN!r} and {README_END!r} around the results "
            "table, received a file without them."
        )
    return text[: begin + len(README_BEGIN)] + "\n" + table + "\n" + text[end:]


def _key(record: dict) -> tuple:
    """A ledger row's identity: its config, start, seed, config hash and run folder (a run recorded again
    replaces its own row; another run of the same seed is another row)."""
    return record["config"], record["start"], record["seed"], record.get("config_hash"), record.get("run")


def _groups(ledger: dict[str, list[dict]]) -> dict[tuple[str, str, str | None], list[dict]]:
    """The runs of each (config, start, config hash): the seeds of one experiment, never of two."""
    groups: dict[tuple[str, str, str | None], list[dict]] = {}
    for record in ledger["runs"]:
        groups.setdefault((record["config"], record["start"], record.get("config_hash")), []).append(record)
    return groups


def _latest(groups: dict[tuple[str, str, str | None], list[dict]]) -> dict[tuple[str, str], list[dict]]:
    """For each (config, start), its group of the newest encoding, then the newest run: what the README shows."""
    latest: dict[tuple[str, str], list[dict]] = {}
    for (name, start, _), group in groups.items():
        rank = lambda runs: (min(r.get("encoding", 1) for r in runs), max(r["run"] for r in runs))  # noqa: E731
        if (name, start) not in latest or rank(group) > rank(latest[name, start]):
            latest[name, start] = group
    return latest


def _old_encoding(group: list[dict]) -> bool:
    return any(r.get("encoding", 1) < text.ENCODING for r in group)


def _mean(group: list[dict]) -> float:
    return statistics.mean(r["test_accuracy"] for r in group)


def _accuracy(group: list[dict]) -> str:
    """`**mean**`, with ` ± std` over two runs or more, and † when measured under text encoding 1."""
    spread = f" ± {statistics.stdev(r['test_accuracy'] for r in group):.4f}" if len(group) > 1 else ""
    return f"**{_mean(group):.4f}**{spread}{OLD_ENCODING if _old_encoding(group) else ''}"


def _hash(digest: str | None) -> str:
    return f"`{digest[:8]}`" if digest else "-"


def _commit(record: dict) -> str:
    if record.get("commit"):
        return record["commit"] + ("+dirty" if record.get("dirty") else "")
    return f"({record['ledger_commit']})" if record.get("ledger_commit") else "-"


def _goal_cells(target: float | None, accuracy: float) -> str:
    """The `goal | met` cells: `-` twice without a goal."""
    if target is None:
        return "- | -"
    shown = f"{target:.2f}" if round(target, 2) == target else f"{target:.3f}"  # 0.90, 0.915
    return f"{shown} | {'yes' if accuracy >= target else 'no'}"


def _joined(values: Iterable[Any]) -> str:
    """`5, 7, 3`; `-` for what a row has none of (an ensemble's best epoch)."""
    return ", ".join("-" if v is None else str(v) for v in values)


def _seconds(values: list[float | None]) -> str:
    """The median of `values` to a tenth; `-` when a row has none (an ensemble trains no epoch)."""
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.1f}" if known else "-"
