"""An on-disk cache of encoded reviews, so that only the first run tokenizes the raw text.

Files live in `$IMDB_RNN_CACHE_DIR`, else `$XDG_CACHE_HOME/imdb-rnn`, else `~/.cache/imdb-rnn`.
A file's name carries a key made of the cache's version, the text encoding's (`text.ENCODING`) and the path, size and modification time
of each source file (and any settings that shape the content), so editing or replacing the data (or changing the encoder) makes a new entry.
Writes go to a temporary file that is renamed into place, so concurrent runs leave a valid cache.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from imdb_rnn.data import text
from imdb_rnn.errors import ImdbRnnWarning
from imdb_rnn.files import atomic_write

ENCODING_VERSION = 2  # bump when what is cached changes (2: the movie of each review); text.ENCODING is in the key too


def cache_dir() -> Path:
    if os.environ.get("IMDB_RNN_CACHE_DIR"):
        return Path(os.environ["IMDB_RNN_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "imdb-rnn"


def cache_file(kind: str, *sources: Path, settings: str = "") -> Path:
    """`<cache dir>/<kind>-<key>.npz`, the key changing with the sources' path, size and mtime, and with
    `settings` (what else decides the content: your data's text and label columns)."""
    digest = hashlib.sha256(f"{kind} v{ENCODING_VERSION} encoding {text.ENCODING}".encode())
    if settings:
        digest.update(f"|{settings}".encode())
    for source in sources:
        stat = Path(source).stat()
        digest.update(f"|{Path(source).resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return cache_dir() / f"{kind}-{digest.hexdigest()[:16]}.npz"


def load(file: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when the file is missing or unreadable (then it is rebuilt)."""
    if not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as content:
            return {name: content[name] for name in content.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        warnings.warn(f"{file}: unreadable cache ({error}); rebuilding it.", ImdbRnnWarning, stacklevel=2)
        return None


def save(file: Path, arrays: dict[str, np.ndarray]) -> None:
    """Writes atomically; a cache that cannot be written only costs time, so it warns and goes on."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(file) as temporary, open(temporary, "wb") as handle:
            np.savez(handle, **arrays)
    except OSError as error:
        message = f"{file}: cannot write the cache ({error.strerror or error}); going on without it."
        warnings.warn(message, ImdbRnnWarning, stacklevel=2)
