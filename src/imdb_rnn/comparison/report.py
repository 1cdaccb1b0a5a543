"""Compare runs: a leaderboard, and a new comparison folder with the table and the plots.

    result = compare(["outputs"], filters=["architecture=lstm"], warn=print)
    print(result.table.text())      # result.folder: outputs/comparisons/<YYYYmmdd-HHMMSS>/

The comparison folder holds `comparison.md`, `comparison.csv`, `val_accuracy.png`, `val_loss.png`
and `test_accuracy.png`. Run folders are only read; a comparison folder is never reused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from imdb_rnn.comparison import plots
from imdb_rnn.comparison.collect import collect_runs, select_runs
from imdb_rnn.comparison.leaderboard import Table, leaderboard
from imdb_rnn.errors import RunError, show
from imdb_rnn.files import new_folder, save_figure, write_text
from imdb_rnn.runs.folders import is_run_folder

FILES = ("comparison.csv", "comparison.md", "val_accuracy.png", "val_loss.png", "test_accuracy.png")


@dataclass
class Comparison:
    """What `compare` made: the table, the folder it wrote, and one line per run folder left out."""

    table: Table
    folder: Path
    left_out: list[str] = field(default_factory=list)


def compare(
    paths: Sequence[str | Path] = (),
    filters: Sequence[str] = (),
    last: int | None = None,
    sort: str = "test_accuracy",
    reverse: bool = False,
    group: bool = True,
    out: str | Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> Comparison:
    """Reads the runs under `paths` (default `outputs/`), keeps those matching every `filters` entry
    (`key=value`) and the `last` most recent, and writes the comparison to `out` (a new or empty
    folder; default `<folder of the runs>/comparisons/<timestamp>/`).

    `warn` gets one line per run folder left out (unfinished, failed or broken). Raises `RunError`
    (before writing anything) when there is no usable run, or a filter, `sort` or `out` is wrong.
    """
    left_out: list[str] = []

    def note(line: str) -> None:
        left_out.append(line)
        if warn is not None:
            warn(line)

    runs, comparisons = collect_runs(paths, note)
    runs = select_runs(runs, filters, last)
    table = leaderboard(runs, group=group, sort=sort, reverse=reverse)
    folder = empty_folder(Path(out)) if out is not None else new_folder(comparisons, what="comparison folder")
    selection = [f"--filter {text}" for text in filters] + ([f"--last {last}"] if last is not None else [])
    write_comparison(table, folder, left_out, selection)
    return Comparison(table, folder, left_out)


def empty_folder(out: Path) -> Path:
    """`--out`: made if new; refused when it holds files or lies inside a run folder (runs are only read)."""
    inside = next((folder for folder in [out.resolve(), *out.resolve().parents] if is_run_folder(folder)), None)
    if inside is not None:
        raise RunError(
            f"--out {out}: inside the run folder {inside}: expected a folder outside every run folder "
            f"(a comparison never writes into a run), received {show(str(out))}."
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunError(
            f"--out {out}: already exists and is not an empty folder: expected a new or empty folder "
            f"(a comparison never overwrites files), received {show(str(out))}."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(f"--out {out}: cannot create the comparison folder: {error.strerror or error}.") from None
    return out


def write_comparison(table: Table, folder: Path, left_out: Sequence[str] = (), selection: Sequence[str] = ()) -> None:
    """Writes `FILES` to `folder`: `comparison.csv` first, so the folder is never mistaken for a run."""
    write_text(folder / "comparison.csv", table.csv())
    write_text(folder / "comparison.md", markdown(table, left_out, selection))
    for metric in ("val_accuracy", "val_loss"):
        save_figure(plots.curves_figure(table, metric), folder / f"{metric}.png")
    save_figure(plots.accuracy_figure(table), folder / "test_accuracy.png")


def markdown(table: Table, left_out: Sequence[str] = (), selection: Sequence[str] = ()) -> str:
    """`comparison.md`: what was compared and how, the table, the repeats, the folders left out, the plots."""
    count = sum(len(row.runs) for row in table.rows)
    order = "best first" if next(c for c in table.columns if c.name == table.sort).descending else "ascending"
    grouped = any(len(row.runs) > 1 for row in table.rows)
    chosen = f" chosen by `{' '.join(selection)}`" if selection else ""
    lines = [
        f"# Comparison of {count} run{'s' if count != 1 else ''}",
        "",
        f"Written {datetime.now():%Y-%m-%d %H:%M}: {count} runs{chosen} in {len(table.rows)} rows"
        f"{' (repeats grouped)' if grouped else ''}, sorted by `{table.sort}` ({order}). "
        "Hyperparameter columns: the config keys that differ between the runs.",
        "",
        table.markdown(),
        "",
    ]
    if table.repeats():
        lines += ["Repeats (same config but `train.seed`), shown as mean ± sample standard deviation:", ""]
        lines += [f"- {line}" for line in table.repeats()] + [""]
    if left_out:
        lines += ["Left out:", ""] + [f"- {line}" for line in left_out] + [""]
    lines += [
        "![Validation accuracy per epoch](val_accuracy.png)",
        "",
        "![Validation loss per epoch](val_loss.png)",
        "",
        "![Test accuracy](test_accuracy.png)",
        "",
    ]
    return "\n".join(lines)
