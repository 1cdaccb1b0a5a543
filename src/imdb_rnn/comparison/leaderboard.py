"""The leaderboard: one row per run, or per group of repeats (mean ± sample standard deviation).

    table = leaderboard(runs, group=True, sort="test_accuracy")
    print(table.text())          # aligned columns; also table.markdown(), table.csv()

Columns: `run`, `architecture`, the config keys whose values differ between the runs (dotted:
`model.units`), then `epochs`, `best_val_accuracy`, `best_epoch`, `test_accuracy`, `test_loss`,
`parameters` and `epoch_seconds` (median seconds per epoch). A value a run lacks is a blank cell.
"""

from __future__ import annotations

import csv
import difflib
import io
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from imdb_rnn.comparison.collect import MISSING, differing_keys, repeat_key
from imdb_rnn.errors import RunError, show
from imdb_rnn.runs.run import Run


@dataclass
class Row:
    """One run, or the runs whose resolved configs differ only in `train.seed` (repeats).

    `label` names the row in the table and in every picture: the run folder's name, `lstm-… (×3)` for
    three repeats, and, where that would name two rows alike, the few differing keys that tell them
    apart (`lstm-… (×2) bucketing=false`); `leaderboard` makes the labels unique."""

    runs: list[Run]
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            first = self.runs[0]
            self.label = first.name if len(self.runs) == 1 else f"{first.config_name}-… (×{len(self.runs)})"


@dataclass(frozen=True)
class Column:
    """A leaderboard column: `read` gives one run's value (None or MISSING: blank).

    `digits` is None for a text column (left-aligned, a group shows its distinct values), else the
    decimals of a number column (right-aligned, a group shows mean ± std); 0 means an integer.
    `descending` is the natural `--sort` order (best first for accuracies).
    """

    name: str
    read: Callable[[Run], Any]
    digits: int | None = None
    descending: bool = False

    def numbers(self, row: Row) -> list[float]:
        return [value for value in map(self.read, row.runs) if value is not None]

    def mean(self, row: Row) -> float | None:
        numbers = self.numbers(row)
        return statistics.fmean(numbers) if numbers else None

    def std(self, row: Row) -> float | None:
        """Sample standard deviation (ddof=1); None for fewer than two values."""
        numbers = self.numbers(row)
        return statistics.stdev(numbers) if len(numbers) > 1 else None

    def cell(self, row: Row) -> str:
        if self.digits is None:
            return ", ".join(dict.fromkeys(text(self.read(run)) for run in row.runs))
        numbers = self.numbers(row)
        if not numbers:
            return ""
        if self.digits == 0 and len(set(numbers)) == 1:
            return f"{numbers[0]:,.0f}"
        digits = self.digits or 1  # integers that differ between repeats: one decimal
        std = self.std(row)
        spread = f" ± {std:,.{digits}f}" if std is not None else ""
        return f"{self.mean(row):,.{digits}f}{spread}"

    def sort_key(self, row: Row) -> tuple | None:
        """None (sorted last) for a blank cell; numbers by value, then text."""
        if self.digits is not None:
            mean = self.mean(row)
            return None if mean is None else (0, mean, "")
        value = self.read(row.runs[0])
        if value is MISSING or value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, float(value), "")
        return (1, 0.0, text(value))


class RunColumn(Column):
    def cell(self, row: Row) -> str:
        return row.label


def text(value: Any) -> str:
    """A config value as written in YAML, strings bare: `adam`, `0.001`, `null`, `true`; MISSING → ''."""
    if value is MISSING:
        return ""
    return value if isinstance(value, str) else show(value)


def metric(name: str, key: str, digits: int, descending: bool = False) -> Column:
    return Column(name, lambda run: run.number(key), digits, descending)


RUN = RunColumn("run", lambda run: run.name)
ARCHITECTURE = Column("architecture", lambda run: run.settings.get("model.architecture", MISSING))
METRICS = (
    metric("epochs", "epochs_run", 0),
    metric("best_val_accuracy", "best_val_accuracy", 4, descending=True),
    metric("best_epoch", "best_epoch", 0),
    metric("test_accuracy", "test_accuracy", 4, descending=True),
    metric("test_loss", "test_loss", 4),
    metric("parameters", "parameters", 0),
    metric("epoch_seconds", "median_epoch_seconds", 1),
)


def config_column(key: str) -> Column:
    return Column(key, lambda run: run.settings.get(key, MISSING))


@dataclass
class Table:
    """Sorted rows and the differing hyperparameters' columns, as aligned text, Markdown and CSV."""

    hyperparameters: list[Column]
    rows: list[Row]
    sort: str

    @property
    def columns(self) -> list[Column]:
        return [RUN, ARCHITECTURE, *self.hyperparameters, *METRICS]

    def cells(self) -> list[list[str]]:
        return [[column.cell(row) for column in self.columns] for row in self.rows]

    def text(self) -> str:
        """Space-aligned columns under a dashed rule: numbers right-aligned, text left-aligned."""
        lines = [[column.name for column in self.columns], *self.cells()]
        widths = [max(len(line[index]) for line in lines) for index in range(len(self.columns))]

        def layout(cells: list[str]) -> str:
            parts = [
                cell.rjust(width) if column.digits is not None else cell.ljust(width)
                for cell, width, column in zip(cells, widths, self.columns)
            ]
            return "  ".join(parts).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([layout(lines[0]), rule, *map(layout, lines[1:])])

    def markdown(self) -> str:
        """A GitHub-flavoured Markdown table (numbers right-aligned)."""

        def layout(cells: Sequence[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        align = ["---:" if column.digits is not None else ":---" for column in self.columns]
        return "\n".join([layout([column.name for column in self.columns]), layout(align), *map(layout, self.cells())])

    def csv(self) -> str:
        """Full precision: `n`, `runs` (the folders, space-separated), each number's mean and `<name>_std`."""
        header = ["run", "n", "runs"]
        for column in self.columns[1:]:
            header += [column.name, f"{column.name}_std"] if column.digits is not None else [column.name]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for row in self.rows:
            cells: list[Any] = [row.label, len(row.runs), " ".join(run.name for run in row.runs)]
            for column in self.columns[1:]:
                if column.digits is None:
                    cells.append(column.cell(row))
                else:
                    cells += [_raw(column.mean(row)), _raw(column.std(row))]
            writer.writerow(cells)
        return buffer.getvalue()

    def repeats(self) -> list[str]:
        """One line per group of repeats: its label, then each run folder with its `train.seed`."""
        return [
            f"{row.label}: "
            + ", ".join(f"{run.name} (train.seed {text(run.settings.get('train.seed', MISSING))})" for run in row.runs)
            for row in self.rows
            if len(row.runs) > 1
        ]


def _raw(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def _short(name: str, names: Sequence[str]) -> str:
    """`model.units` → `units` when no other shown key ends the same way."""
    bare = name.rpartition(".")[2]
    return bare if sum(other.rpartition(".")[2] == bare for other in names) == 1 else name


def group_runs(runs: Sequence[Run]) -> list[Row]:
    """Runs of one resolved config (seed aside) in one row each, in the order they first appear."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(repeat_key(run), []).append(run)
    return [Row(members) for members in groups.values()]


def find_column(columns: Sequence[Column], name: str) -> Column:
    """The column called `name` (a config key's last part alone will do); `RunError` listing them otherwise."""
    names = [column.name for column in columns]
    matches = [column for column in columns if name in (column.name, _short(column.name, names))]
    if len(matches) == 1:
        return matches[0]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    raise RunError(
        f"--sort {name}: unknown column `{name}`{hint}: expected one of {', '.join(names)}, received {show(name)}."
    )


def make_labels_unique(rows: Sequence[Row], hyperparameters: Sequence[Column]) -> None:
    """Rows that share a label get the fewest differing `key=value` cells (in column order) that tell
    them apart, then `#1`, `#2`, … if those do not; every other label stays as it is."""
    names = [column.name for column in hyperparameters]
    by_label: dict[str, list[Row]] = {}
    for row in rows:
        by_label.setdefault(row.label, []).append(row)
    for label, alike in by_label.items():
        if len(alike) < 2:
            continue
        parts: list[list[str]] = [[] for _ in alike]
        for name, column in zip(names, hyperparameters):
            cells = [column.cell(row) for row in alike]
            if len(set(cells)) > 1:
                for part, cell in zip(parts, cells):
                    part.append(f"{_short(name, names)}={cell or '-'}")
            if len({" ".join(part) for part in parts}) == len(alike):
                break
        for row, part in zip(alike, parts):
            row.label = " ".join([label, *part])
        if len({row.label for row in alike}) < len(alike):
            for number, row in enumerate(alike, 1):
                row.label = f"{row.label} #{number}"


def leaderboard(runs: Sequence[Run], group: bool = True, sort: str = "test_accuracy", reverse: bool = False) -> Table:
    """The table of `runs`: repeats grouped unless `group=False`, sorted by the column `sort`
    (accuracies best first, everything else ascending; `reverse` flips it; blank cells last)."""
    hyperparameters = [config_column(key) for key in differing_keys(runs, ignore=["model.architecture"])]
    column = find_column([RUN, ARCHITECTURE, *hyperparameters, *METRICS], sort)
    rows = sorted(group_runs(runs) if group else [Row([run]) for run in runs], key=lambda row: row.label)
    make_labels_unique(rows, hyperparameters)
    present = [row for row in rows if column.sort_key(row) is not None]
    blank = [row for row in rows if column.sort_key(row) is None]
    present.sort(key=column.sort_key, reverse=column.descending != reverse)
    return Table(hyperparameters, present + blank, column.name)
