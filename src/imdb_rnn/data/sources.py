"""Where the IMDB reviews come from: finding a local copy, downloading one, and reading it as token ids.

Two sources give the same encoding (see `imdb_rnn.data.text`):
- `keras`: `keras.datasets.imdb` (`imdb.npz`, downloaded when online or read from a local copy);
- `aclimdb`: the raw Large Movie Review Dataset (`aclImdb/` or `aclImdb_v1.tar.gz`) tokenized and
  encoded with `imdb_word_index.json`; the encoded reviews are cached (see `imdb_rnn.data.cache`).

A folder the user names (`data.path`, or `$IMDB_DATA_DIR`) is read or rejected with a one-line
`DataError` that says what is missing there; only when no folder is named are `~/.keras/datasets`
and then a download tried.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.data import cache, text
from imdb_rnn.data.aclimdb import read_aclimdb
from imdb_rnn.data.reviews import Reviews
from imdb_rnn.errors import DataError

KERAS_FILE = "imdb.npz"
ACLIMDB_FOLDER = "aclImdb"
ACLIMDB_ARCHIVE = "aclImdb_v1.tar.gz"
WORD_INDEX_FILE = "imdb_word_index.json"
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DOWNLOADS = {  # file: (url, hash), the hashes Keras and Stanford publish
    KERAS_FILE: (KERAS_ORIGIN + KERAS_FILE, "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),
    WORD_INDEX_FILE: (KERAS_ORIGIN + WORD_INDEX_FILE, "bfafd718b763782e994055a2d397834f"),
    ACLIMDB_ARCHIVE: ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz", None),
}


@dataclass
class Location:
    source: str  # "keras" or "aclimdb"
    path: Path | None  # None: download
    word_index: Path | None = None  # None: none found (aclimdb downloads it; keras does not need it)
    searched: list[Path] = field(default_factory=list)  # the folders looked in


def keras_datasets_dir() -> Path:
    """Where `keras.utils.get_file` stores downloads: `$KERAS_HOME/datasets`, default `~/.keras/datasets`."""
    return Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "datasets"


def named_folder(data: DataConfig) -> tuple[str, Path] | None:
    """`("data.path", path)` or `("IMDB_DATA_DIR", path)` when the user named where the data is, else None."""
    if data.path:
        return "data.path", Path(data.path).expanduser()
    if os.environ.get("IMDB_DATA_DIR"):
        return "IMDB_DATA_DIR", Path(os.environ["IMDB_DATA_DIR"]).expanduser()
    return None


def search_dirs(data: DataConfig) -> list[Path]:
    """Where local copies are looked for: the named folder alone (`data.path`, else `$IMDB_DATA_DIR`),
    else `~/.keras/datasets`."""
    named = named_folder(data)
    return [named[1]] if named else [keras_datasets_dir()]


def locate(data: DataConfig) -> Location:
    """Finds a local copy for `data.source`, or says to download one (`Location.path is None`).

    A named folder (see `named_folder`) that holds no usable copy is a `DataError`, never a download."""
    dirs = search_dirs(data)
    wanted = ("keras", "aclimdb") if data.source == "auto" else (data.source,)
    for folder in dirs:
        for source in wanted:
            found = _local_copy(folder, source)
            if found is not None:
                return Location(source, found, _find_word_index(found, dirs), dirs)
    named = named_folder(data)
    if named is not None:
        raise _nothing_usable(*named, wanted)
    source = "keras" if data.source == "auto" else data.source
    return Location(source, None, _find_word_index(None, dirs), dirs)


def _expected(sources: tuple[str, ...]) -> str:
    kinds = {"keras": KERAS_FILE, "aclimdb": f"{ACLIMDB_ARCHIVE} or an {ACLIMDB_FOLDER}/ folder with train/ and test/"}
    return " or ".join(kinds[source] for source in sources)


def _nothing_usable(name: str, path: Path, sources: tuple[str, ...]) -> DataError:
    """Says what the named `path` lacks: it does not exist, or what it holds instead of the data."""
    expected = f"a folder holding {_expected(sources)} (or that file itself)"
    if not path.exists():
        received = "a path that does not exist"
    elif path.is_file():
        received = f"the file {path.name}, which is not {_expected(sources)}"
    elif (path / ACLIMDB_FOLDER).is_dir():
        parts = [f"{part}/" for part in ("train", "test") if (path / ACLIMDB_FOLDER / part).is_dir()]
        received = (
            f"an incomplete {ACLIMDB_FOLDER}/ folder (with {', '.join(parts) or 'neither train/ nor test/'} only)"
        )
    else:
        entries = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in path.iterdir())
        shown = ", ".join(entries[:6]) + (", …" if len(entries) > 6 else "")
        received = f"a folder with {shown}" if entries else "an empty folder"
    problem = "no IMDB data there" if path.exists() else "no such file or folder"
    return DataError(f"{name}={path}: {problem}: expected {expected}, received {received}.")


def _local_copy(path: Path, source: str) -> Path | None:
    if path.is_file():
        is_archive = path.name.endswith((".tar.gz", ".tgz"))
        matches = path.suffix == ".npz" if source == "keras" else is_archive
        return path if matches else None
    if source == "keras":
        return path / KERAS_FILE if (path / KERAS_FILE).is_file() else None
    for candidate in (path, path / ACLIMDB_FOLDER):
        if (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return candidate
    return path / ACLIMDB_ARCHIVE if (path / ACLIMDB_ARCHIVE).is_file() else None


def _find_word_index(found: Path | None, dirs: list[Path]) -> Path | None:
    """`imdb_word_index.json` beside the reviews, in the folders searched, or in Keras's download folder."""
    near = [found.parent, found.parent.parent] if found is not None else []
    for folder in dict.fromkeys(near + [d if d.is_dir() else d.parent for d in dirs] + [keras_datasets_dir()]):
        if (folder / WORD_INDEX_FILE).is_file():
            return folder / WORD_INDEX_FILE
    return None


def load_reviews(data: DataConfig) -> tuple[Reviews, Reviews, Location]:
    """The 25,000 training and 25,000 test reviews, ids capped at `data.num_words`."""
    location = locate(data)
    if location.source == "keras":
        train, test = _load_keras(location, data.num_words)
    else:
        location = complete_aclimdb(location, data)
        train, test = _cached_aclimdb(location, data.num_words)
    return train, test, location


def complete_aclimdb(location: Location, data: DataConfig) -> Location:
    """An `aclimdb` location with both the reviews and the word index: what is missing is downloaded,
    unless the user named the folder (then a missing word index is a `DataError`)."""
    if location.path is None:
        location.path = _download(ACLIMDB_ARCHIVE, location.searched)
    if location.word_index is None:
        named = named_folder(data)
        if named is not None:
            raise DataError(
                f"{named[0]}={named[1]}: no {WORD_INDEX_FILE} for {location.path}: expected Keras's word index "
                f"beside the reviews (or in {keras_datasets_dir()}), received none."
            )
        location.word_index = _download(WORD_INDEX_FILE, location.searched)
    return location


def _cached_aclimdb(location: Location, num_words: int) -> tuple[Reviews, Reviews]:
    """`read_aclimdb` through the cache: arrays of all ids plus offsets, vocabulary capped on load."""
    file = cache.cache_file("aclimdb", location.path, location.word_index)
    arrays = cache.load(file)
    names = {f"{split}_{part}" for split in ("train", "test") for part in ("ids", "offsets", "labels")}
    if arrays is None or not names <= arrays.keys():
        arrays = {}
        for split, reviews in zip(("train", "test"), read_aclimdb(location.path, location.word_index)):
            arrays[f"{split}_ids"] = np.concatenate(reviews.sequences)
            arrays[f"{split}_offsets"] = np.cumsum([0] + [len(s) for s in reviews.sequences])
            arrays[f"{split}_labels"] = reviews.labels
            if reviews.movies is not None:
                arrays[f"{split}_movies"] = reviews.movies
        cache.save(file, arrays)

    def reviews(split: str) -> Reviews:
        ids = text.limit_vocabulary(arrays[f"{split}_ids"], num_words)
        sequences = np.split(ids, arrays[f"{split}_offsets"][1:-1])
        return Reviews(sequences, arrays[f"{split}_labels"], arrays.get(f"{split}_movies"))

    return reviews("train"), reviews("test")


def download_word_index(data: DataConfig) -> Path | None:
    """Keras's `imdb_word_index.json` through `keras.utils.get_file`, or None when that fails (offline)."""
    try:
        return _download(WORD_INDEX_FILE, search_dirs(data))
    except DataError:
        return None


def imdb_word_index() -> Path | None:
    """Keras's `imdb_word_index.json` for data that is not IMDB's (word vectors for your own texts): in
    `$IMDB_DATA_DIR` or Keras's download folder, else downloaded; None when neither works (offline)."""
    named = os.environ.get("IMDB_DATA_DIR")
    dirs = [Path(named).expanduser()] if named else []
    found = _find_word_index(None, dirs)
    if found is not None:
        return found
    try:
        return _download(WORD_INDEX_FILE, dirs + [keras_datasets_dir()])
    except DataError:
        return None


def _download(filename: str, searched: list[Path]) -> Path:
    """Downloads through `keras.utils.get_file` into ~/.keras/datasets (hash-checked); one-line
    `DataError` naming the folders searched when that fails (for example offline)."""
    url, file_hash = DOWNLOADS[filename]
    try:
        return Path(keras.utils.get_file(filename, url, file_hash=file_hash))
    except Exception as error:  # noqa: BLE001 - urllib, HTTP and hash errors all mean "not downloaded"
        looked = ", ".join(str(folder) for folder in searched)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(
            f"IMDB data not found in {looked} and the download from {url} failed ({reason}): expected "
            f"{KERAS_FILE}, or {ACLIMDB_ARCHIVE} with {WORD_INDEX_FILE}, in a folder named by IMDB_DATA_DIR "
            f"or data.path (e.g. IMDB_DATA_DIR=../shared/data), received none."
        ) from None


def _load_keras(location: Location, num_words: int) -> tuple[Reviews, Reviews]:
    """Reads `imdb.npz` (downloading it through `keras.utils.get_file` first when there is no local copy).

    The sequences are encoded as `keras.datasets.imdb.load_data` does (start 1, ranks + 3, OOV 2), in
    the file's order; `load_data` itself only reads from ~/.keras/datasets, so a copy elsewhere is
    read here with Keras's restricted unpickler.
    """
    if location.path is None:
        location.path = _download(KERAS_FILE, location.searched)
    try:
        content = _load_npz(location.path)
        arrays = {name: content[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    except Exception as error:  # noqa: BLE001 - zip, pickle and key errors: not a Keras IMDB file
        raise DataError(
            f"{location.path}: cannot read the Keras IMDB file: expected the imdb.npz of keras.datasets.imdb "
            f"(x_train, y_train, x_test, y_test), received a file that fails to load ({error})."
        ) from None

    def reviews(x: np.ndarray, y: np.ndarray) -> Reviews:
        lengths = np.array([len(s) for s in x], dtype=np.int64)
        ranks = np.concatenate([np.asarray(s, dtype=np.int32) for s in x]) if len(x) else np.zeros(0, np.int32)
        ids = np.insert(ranks + text.INDEX_FROM, np.cumsum(lengths) - lengths, text.START)
        ids = text.limit_vocabulary(ids, num_words)
        return Reviews(np.split(ids, np.cumsum(lengths + 1)[:-1]), np.asarray(y, dtype=np.int8))

    return reviews(arrays["x_train"], arrays["y_train"]), reviews(arrays["x_test"], arrays["y_test"])


def _load_npz(path: Path):
    try:  # Keras 3.12.4 and >= 3.15.1 read the pickled object arrays with an unpickler limited to numpy arrays
        from keras.src.datasets.npz_utils import load_npz
    except ImportError:  # the other Keras 3 releases read them with plain pickle, as this does
        return np.load(path, allow_pickle=True)
    return load_npz(str(path))
