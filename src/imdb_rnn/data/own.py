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
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
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


def own_data_path(data: DataConfig) -> Path:
    """`data.path` of your own data; a one-line `DataError` when nothing is there."""
    path = Path(str(data.path)).expanduser()
    if not path.exists():
        raise DataError(
            f"data.path={path}: no such file or folder: expected {LAYOUTS[data.source]}, received a path that "
            "does not exist."
        )
    return path


def read_own_data(data: DataConfig) -> tuple[LabeledTexts, LabeledTexts | None]:
    """The training texts and the test texts (None when the data has no test part) of `data.path`."""
    path = own_data_path(data)
    if data.source == "directory":
        return _read_directory(path)
    extension = "." + data.source
    if path.is_file():
        return _read_table(path, data), None
    train, test = path / f"train{extension}", path / f"test{extension}"
    if not train.is_file():
        entries = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in path.iterdir())
        shown = ", ".join(entries[:6]) + (", …" if len(entries) > 6 else "")
        raise DataError(
            f"data.path={path}: no train{extension}: expected {LAYOUTS[data.source]}, received "
            + (f"a folder with {shown}." if entries else "an empty folder.")
        )
    return _read_table(train, data), _read_table(test, data) if test.is_file() else None


def class_names(labels: list[str]) -> list[str]:
    """The distinct labels in class-index order: by value when every label is a number (`1` … `10`),
    else alphabetically (`neg`, `pos`). With two classes the second is the one a sigmoid predicts."""
    distinct = set(labels)
    try:
        return sorted(distinct, key=lambda name: (float(name), name))
    except ValueError:
        return sorted(distinct)


# Folders of text files --------------------------------------------------------------------------


def _read_directory(path: Path) -> tuple[LabeledTexts, LabeledTexts | None]:
    if path.is_file():
        raise DataError(
            f"data.path={path}: not a folder: expected {LAYOUTS['directory']}, received the file {path.name}."
        )
    train = path / "train" if (path / "train").is_dir() else path
    test = path / "test" if train != path and (path / "test").is_dir() else None
    return _read_label_folders(train), _read_label_folders(test) if test is not None else None


def _read_label_folders(folder: Path) -> LabeledTexts:
    """`folder/<label>/**/*.txt`, labels and files in sorted order; empty files skipped and counted."""
    labels = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
    texts, kept, skipped = [], [], []
    for label in labels:
        for file in sorted((folder / label).rglob("*.txt")):
            content = _decode(file.read_bytes(), str(file))
            if content.strip():
                texts.append(content)
                kept.append(label)
            else:
                skipped.append(str(file.relative_to(folder)))
    _report(str(folder), texts, skipped, "files", "empty files")
    if not texts and not skipped:
        raise DataError(
            f"{folder}: no texts: expected label folders of .txt files (e.g. {folder.name}/pos/1.txt), received "
            + (f"the folders {', '.join(labels)} without .txt files." if labels else "no label folders.")
        )
    return LabeledTexts(texts, kept, str(folder))


# Tables -----------------------------------------------------------------------------------------


def _read_table(file: Path, data: DataConfig) -> LabeledTexts:
    rows = _csv_rows(file, data) if data.source == "csv" else _jsonl_rows(file, data)
    texts, labels, skipped = [], [], []
    for row, text, label in rows:
        if text is None or label is None or not text.strip() or not label.strip():
            skipped.append(row)
        else:
            texts.append(text)
            labels.append(label.strip())
    _report(str(file), texts, skipped, "rows", "rows with no text or no label")
    return LabeledTexts(texts, labels, str(file))


def _csv_rows(file: Path, data: DataConfig) -> Iterator[tuple[str, str | None, str | None]]:
    """`(row name, text, label)` of each record; `row 2` is the first after the header, as in a spreadsheet."""
    with open(file, encoding="utf-8-sig", newline="") as handle:
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


def _jsonl_rows(file: Path, data: DataConfig) -> Iterator[tuple[str, str | None, str | None]]:
    content = _decode(file.read_bytes(), str(file))
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
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


def _report(where: str, texts: list[str], skipped: list[str], unit: str, what: str) -> None:
    """Warns of skipped rows or files; a `DataError` when nothing usable is left."""
    if not skipped:
        return
    shown = ", ".join(skipped[:SHOWN_ROWS]) + (", …" if len(skipped) > SHOWN_ROWS else "")
    if not texts:
        raise DataError(
            f"{where}: no usable {unit}: expected a text and a label in at least one, received {len(skipped)} "
            f"{what} ({shown})."
        )
    total = len(texts) + len(skipped)
    warnings.warn(f"{where}: skipped {len(skipped)} of {total} {what} ({shown}).", ImdbRnnWarning, stacklevel=3)
