"""Your own labeled texts: a folder of text files, a CSV file or a JSON Lines file, read as texts and labels.

Three sources (`data.source`), each reading the folder or file `data.path`:
- `directory`: the layout of `keras.utils.text_dataset_from_directory`, `train/<label>/*.txt` and
  optionally `test/<label>/*.txt` (a folder that holds label folders only is the training part);
- `csv`: a file with a header row, or a folder with `train.csv` and optionally `test.csv`; the texts are in
  the column `data.text_column`, the labels in `data.label_column`; quoted fields may hold commas and
  newlines;
- `jsonl`: one JSON object a line (keys `data.text_column`, `data.label_column`), or a folder with
  `train.jsonl` and optionally `test.jsonl`.

Files are read as UTF-8, with or without a byte-order mark. Labels are kept as strings (`5`, `pos`,
`neutral`): JSON numbers and booleans are written as they read (`5`, `4.5`, `true`). A row whose text or
label is missing or blank is skipped and counted (a warning names the file, the count and the first rows);
a row that cannot be parsed, or a file without one usable row, is a one-line `DataError` naming the file
and the row.

Files are streamed: `OwnRows` reads one part (the training or the test file or folder) a row at a time,
so a file of a million reviews is never held in memory whole (`own_tokens` tokenizes as it reads);
`read_own_data` collects the texts in lists, for small data and tests.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from imdb_rnn.config import DataConfig
from imdb_rnn.errors import DataError, ImdbRnnWarning, show

LAYOUTS = {
    "directory": "a folder with train/<label>/*.txt (and optionally test/<label>/*.txt)",
    "csv": "a .csv file, or a folder with train.csv (and optionally test.csv)",
    "jsonl": "a .jsonl file, or a folder with train.jsonl (and optionally test.jsonl)",
}
SHOWN_ROWS = 5  # skipped rows named in the warning


@dataclass
class LabeledTexts:
    """Texts and their labels (strings), as read from `where` (a file or folder)."""

    texts: list[str]
    labels: list[str]
    where: str

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Skipped:
    """The rows (or files) of one part left out for having no text or no label: how many, and the first
    ones' names (`row 3`, `line 4`, `pos/empty.txt`)."""

    where: str
    unit: str  # "rows" or "files"
    what: str  # "rows with no text or no label" or "empty files"
    count: int = 0
    first: list[str] = field(default_factory=list)

    def add(self, name: str) -> None:
        self.count += 1
        if len(self.first) < SHOWN_ROWS:
            self.first.append(name)

    def report(self, kept: int) -> None:
        """Warns of the skipped rows, `kept` being the usable ones; a `DataError` when none is usable."""
        if not self.count:
            return
        shown = ", ".join(self.first) + (", …" if self.count > SHOWN_ROWS else "")
        if not kept:
            raise DataError(
                f"{self.where}: no usable {self.unit}: expected a text and a label in at least one, received "
                f"{self.count} {self.what} ({shown})."
            )
        total = kept + self.count
        warnings.warn(
            f"{self.where}: skipped {self.count} of {total} {self.what} ({shown}).", ImdbRnnWarning, stacklevel=3
        )


def own_data_path(data: DataConfig) -> Path:
    """`data.path` of your own data; a one-line `DataError` when nothing is there."""
    path = Path(str(data.path)).expanduser()
    if not path.exists():
        raise DataError(
            f"data.path={path}: no such file or folder: expected {LAYOUTS[data.source]}, received a path that "
            "does not exist."
        )
    return path


def own_parts(data: DataConfig) -> tuple[Path, Path | None]:
    """The training part of `data.path` (a file, or a folder of label folders) and its test part (None when
    the data has none)."""
    path = own_data_path(data)
    if data.source == "directory":
        if path.is_file():
            raise DataError(
                f"data.path={path}: not a folder: expected {LAYOUTS['directory']}, received the file {path.name}."
            )
        train = path / "train" if (path / "train").is_dir() else path
        test = path / "test" if train != path and (path / "test").is_dir() else None
        return train, test
    extension = "." + data.source
    if path.is_file():
        return path, None
    train, test = path / f"train{extension}", path / f"test{extension}"
    if not train.is_file():
        entries = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in path.iterdir())
        shown = ", ".join(entries[:6]) + (", …" if len(entries) > 6 else "")
        raise DataError(
            f"data.path={path}: no train{extension}: expected {LAYOUTS[data.source]}, received "
            + (f"a folder with {shown}." if entries else "an empty folder.")
        )
    return train, test if test.is_file() else None


class OwnRows:
    """The usable rows of one part of your data (`where`: a CSV or JSON Lines file, or a folder of label
    folders of .txt files), streamed: iterating yields `(text, label)`, labels stripped, one row at a
    time. When the part is read to its end, skipped rows are counted in one warning (`Skipped`), or a
    `DataError` when none is usable. `files` are what it reads, `size` their bytes and `done` the bytes
    read so far (for a progress bar)."""

    def __init__(self, where: Path, data: DataConfig) -> None:
        self.where, self.data, self.done = Path(where), data, 0
        if data.source == "directory":
            self.labels = sorted(entry.name for entry in self.where.iterdir() if entry.is_dir())
            self.files = [file for label in self.labels for file in sorted((self.where / label).rglob("*.txt"))]
            self.skipped = Skipped(str(where), "files", "empty files")
        else:
            self.files = [self.where]
            self.skipped = Skipped(str(where), "rows", "rows with no text or no label")
        self.size = sum(file.stat().st_size for file in self.files)
        self.kept = 0

    def __iter__(self) -> Iterator[tuple[str, str]]:
        self.done = self.kept = 0
        self.skipped = Skipped(self.skipped.where, self.skipped.unit, self.skipped.what)
        if self.data.source == "directory":
            rows = self._files()
        else:
            rows = _csv_rows(self.where, self.data, self._read) if self.data.source == "csv" else self._jsonl()
        for row, text, label in rows:
            if text is None or label is None or not text.strip() or not label.strip():
                self.skipped.add(row)
            else:
                self.kept += 1
                yield text, label.strip()
        if self.data.source == "directory" and not self.kept and not self.skipped.count:
            folder = self.where
            raise DataError(
                f"{folder}: no texts: expected label folders of .txt files (e.g. {folder.name}/pos/1.txt), received "
                + (f"the folders {', '.join(self.labels)} without .txt files." if self.labels else "no label folders.")
            )
        self.skipped.report(self.kept)

    def _read(self, count: int) -> None:
        self.done += count

    def _files(self) -> Iterator[tuple[str, str | None, str | None]]:
        """`folder/<label>/**/*.txt`, labels and files in sorted order; an empty file has no text."""
        for file in self.files:
            raw = file.read_bytes()
            self._read(len(raw))
            label = file.relative_to(self.where).parts[0]
            yield str(file.relative_to(self.where)), _decode(raw, str(file)), label

    def _jsonl(self) -> Iterator[tuple[str, str | None, str | None]]:
        with open(self.where, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                position = self.done
                self._read(len(raw))
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise DataError(
                        f"{self.where}: cannot read the text: expected UTF-8, received byte 0x{raw[error.start]:02x} "
                        f"at position {position + error.start}, which is not UTF-8."
                    ) from None
                yield from _jsonl_row(
                    self.where, self.data, number, line.removeprefix("\ufeff") if number == 1 else line
                )


def read_own_data(data: DataConfig) -> tuple[LabeledTexts, LabeledTexts | None]:
    """The training texts and the test texts (None when the data has no test part) of `data.path`, in lists
    (a large file is better streamed: `OwnRows`)."""
    train, test = own_parts(data)

    def collected(where: Path) -> LabeledTexts:
        rows = list(OwnRows(where, data))
        return LabeledTexts([text for text, _ in rows], [label for _, label in rows], str(where))

    return collected(train), collected(test) if test is not None else None


def class_names(labels: list[str]) -> list[str]:
    """The distinct labels in class-index order: by value when every label is a number (`1` … `10`),
    else alphabetically (`neg`, `pos`). With two classes the second is the one a sigmoid predicts."""
    distinct = set(labels)
    try:
        return sorted(distinct, key=lambda name: (float(name), name))
    except ValueError:
        return sorted(distinct)


# Tables -----------------------------------------------------------------------------------------


class _Counting(io.RawIOBase):
    """A binary file that tells `read(count)` of each chunk it gives (the CSV reader's progress)."""

    def __init__(self, handle: io.BufferedReader, read: Callable[[int], None]) -> None:
        self.handle, self.read_bytes = handle, read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.handle.readinto(buffer)
        self.read_bytes(count or 0)
        return count


def _csv_rows(
    file: Path, data: DataConfig, read: Callable[[int], None] = lambda count: None
) -> Iterator[tuple[str, str | None, str | None]]:
    """`(row name, text, label)` of each record; `row 2` is the first after the header, as in a spreadsheet."""
    with (
        open(file, "rb", buffering=0) as raw,
        io.TextIOWrapper(io.BufferedReader(_Counting(raw, read)), encoding="utf-8-sig", newline="") as handle,
    ):
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise DataError(f"{file}: no header row: expected {_columns(data)}, received an empty file.")
            columns = []
            for key, column in (("text_column", data.text_column), ("label_column", data.label_column)):
                if column not in header:
                    raise DataError(
                        f"{file}: no column {show(column)} (data.{key}): expected a header row naming "
                        f"{_columns(data)}, received the columns {show(header)}."
                    )
                columns.append(header.index(column))
            for number, record in enumerate(reader, 2):
                if record:  # a blank line is no record
                    yield (f"row {number}", *(record[index] if index < len(record) else None for index in columns))
        except csv.Error as error:
            raise DataError(
                f"{file}: row {reader.line_num}: cannot parse the CSV: expected comma-separated fields, quoted "
                f'with " when they hold commas or newlines, received {error}.'
            ) from None
        except UnicodeDecodeError as error:
            raise DataError(f"{file}: cannot read the CSV: expected UTF-8 text, received {error.reason}.") from None


def _jsonl_row(file: Path, data: DataConfig, number: int, line: str) -> Iterator[tuple[str, str | None, str | None]]:
    """The `(row name, text, label)` of line `number` of a JSON Lines file (nothing for a blank line)."""
    if not line.strip():
        return
    try:
        record = json.loads(line)
    except ValueError as error:
        raise DataError(
            f"{file}: line {number}: cannot parse the JSON: expected one JSON object a line, received {error}."
        ) from None
    if not isinstance(record, dict):
        raise DataError(
            f"{file}: line {number}: expected a JSON object with {_columns(data)}, received "
            f"{type(record).__name__} {show(record)}."
        )
    text, label = record.get(data.text_column), record.get(data.label_column)
    for key, value in (("text_column", text), ("label_column", label)):
        if value is not None and not isinstance(value, (str, int, float)) or value in (math.inf, -math.inf):
            raise DataError(
                f"{file}: line {number}: invalid `{getattr(data, key)}` (data.{key}): expected a string or a "
                f"number, received {show(value)}."
            )
    yield f"line {number}", _as_text(text), _as_text(label)


def _as_text(value: str | int | float | bool | None) -> str | None:
    """A JSON value as a string: `5`, `4.5`, `true`; None stays None (a missing value)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


# Shared -----------------------------------------------------------------------------------------


def _columns(data: DataConfig) -> str:
    return f"the columns {show(data.text_column)} (data.text_column) and {show(data.label_column)} (data.label_column)"


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{where}: cannot read the text: expected UTF-8, received byte 0x{raw[error.start]:02x} at position "
            f"{error.start}, which is not UTF-8."
        ) from None
