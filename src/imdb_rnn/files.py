"""Files that are never seen half-written, and folders that are never reused.

Every file the project writes for others to read (run folders, caches, comparisons) goes through
`atomic_write`: a temporary file in the same folder, renamed into place, so a reader or a killed
process never leaves half a file. `new_folder` makes `<parent>/<name>-<YYYYmmdd-HHMMSS>` (then
`-2`, `-3`, … when taken) with `mkdir`, which fails when the folder exists, so two processes
never share one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from imdb_rnn.errors import RunError

STAMP_FORMAT = "%Y%m%d-%H%M%S"
# `lstm-20260102-030405`, `lstm-20260102-030405-2`: the name, the timestamp, the same-second suffix.
STAMPED = re.compile(r"^(?P<name>.+?)-(?P<stamp>\d{8}-\d{6})(?:-(?P<suffix>\d+))?$")


@contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; when the block ends without error it replaces `path`."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text(path: Path, text: str) -> None:
    """Writes UTF-8 text atomically."""
    with atomic_write(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path: Path, content: Any) -> None:
    """Writes JSON (indented, with a final newline) atomically."""
    write_text(path, json.dumps(content, indent=2) + "\n")


def copy_file(source: Path, path: Path) -> None:
    """Copies `source` to `path` atomically (a kill leaves the old `path` or the whole copy)."""
    with atomic_write(path) as temporary:
        shutil.copyfile(source, temporary)


def save_figure(figure: Any, path: Path) -> Path:
    """Writes a matplotlib `Figure` as a PNG atomically, cropped to what it draws (a legend outside the
    axes included); returns `path`."""
    with atomic_write(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100, bbox_inches="tight")
    return path


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_json_or_none(path: Path) -> Any:
    """The parsed file, or None when it is missing or not valid JSON."""
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def new_folder(parent: str | Path, name: str = "", now: datetime | None = None, what: str = "folder") -> Path:
    """Makes `<parent>/<name>-<timestamp>` (`<parent>/<timestamp>` without a name), adding `-2`, `-3`, …
    when it exists; creates `parent` as needed. A one-line `RunError` names the path it cannot create."""
    stamp = (now or datetime.now()).strftime(STAMP_FORMAT)
    base = f"{name}-{stamp}" if name else stamp
    attempt = 1
    while True:
        folder = Path(parent) / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            attempt += 1
        except OSError as error:
            raise RunError(
                f"{folder}: cannot create the {what}: expected a writable folder, received {error.strerror or error}."
            ) from None


def stamp_of(folder: Path) -> tuple[str, datetime, int] | None:
    """`(name, time, suffix)` of a folder named `<name>-<timestamp>` by `new_folder`, or None for any other name."""
    match = STAMPED.match(Path(folder).name)
    if match is None:
        return None
    try:
        when = datetime.strptime(match["stamp"], STAMP_FORMAT)
    except ValueError:
        return None
    return match["name"], when, int(match["suffix"] or 1)
