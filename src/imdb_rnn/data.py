"""IMDB reviews as Keras-style token ids, split into training, validation and test arrays.

Two sources give the same encoding (see `imdb_rnn.text`):
- `keras`: `keras.datasets.imdb` (`imdb.npz`, downloaded when online or read from a local copy);
- `aclimdb`: the raw Large Movie Review Dataset (`aclImdb/` or `aclImdb_v1.tar.gz`) tokenized and
  encoded with `imdb_word_index.json`; the encoded reviews are cached (see `imdb_rnn.cache`).

`load_splits(config.data)` is all the pipeline needs: `Splits(train, validation, test)`, each a
`Split` of padded ids `(n, maxlen)`, labels `(n,)` and true lengths `(n,)`. The validation reviews
come from the training set (seeded); the 25,000 test reviews are only used for the final evaluation.
"""

from __future__ import annotations

import os
import re
import sys
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from imdb_rnn import cache, text
from imdb_rnn.config import DataConfig
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
class Reviews:
    """Unpadded reviews: `sequences[i]` is an int32 array of ids, `labels[i]` is 1 for positive,
    `movies[i]` the IMDb title number of the movie reviewed (None when the source does not say)."""

    sequences: list[np.ndarray]
    labels: np.ndarray
    movies: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> Reviews:
        movies = self.movies[indices] if self.movies is not None else None
        return Reviews([self.sequences[i] for i in indices], self.labels[indices], movies)


@dataclass
class Split:
    """Padded ids `x` `(n, maxlen)` int32, labels `y` `(n,)` float32, true lengths `(n,)` int32 (<= maxlen)."""

    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Splits:
    train: Split
    validation: Split
    test: Split
    source: str  # "keras" or "aclimdb"
    location: str  # the file or folder the reviews were read from
    word_index: Path | None = None  # the imdb_word_index.json that encodes this data, when known


@dataclass
class Location:
    source: str  # "keras" or "aclimdb"
    path: Path | None  # None: download
    word_index: Path | None = None  # None: none found (aclimdb downloads it; keras does not need it)
    searched: list[Path] = field(default_factory=list)  # the folders looked in


def keras_datasets_dir() -> Path:
    """Where `keras.utils.get_file` stores downloads: `$KERAS_HOME/datasets`, default `~/.keras/datasets`."""
    return Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "datasets"


def search_dirs(data: DataConfig) -> list[Path]:
    """Where local copies are looked for: `data.path`, else `$IMDB_DATA_DIR`, then `~/.keras/datasets`."""
    if data.path:
        return [Path(data.path).expanduser()]
    dirs = [Path(os.environ["IMDB_DATA_DIR"]).expanduser()] if os.environ.get("IMDB_DATA_DIR") else []
    return dirs + [keras_datasets_dir()]


def locate(data: DataConfig) -> Location:
    """Finds a local copy for `data.source`, or says to download one (`Location.path is None`)."""
    dirs = search_dirs(data)
    named = "data.path" if data.path else "IMDB_DATA_DIR"
    if (data.path or os.environ.get("IMDB_DATA_DIR")) and not dirs[0].exists():
        raise DataError(
            f"{named}={dirs[0]}: no such file or folder: expected a folder holding {KERAS_FILE} or "
            f"{ACLIMDB_ARCHIVE} (or the file itself), received a path that does not exist."
        )
    wanted = ("keras", "aclimdb") if data.source == "auto" else (data.source,)
    for folder in dirs:
        for source in wanted:
            found = _local_copy(folder, source)
            if found is not None:
                return Location(source, found, _find_word_index(found, dirs), dirs)
    source = "keras" if data.source == "auto" else data.source
    return Location(source, None, _find_word_index(None, dirs), dirs)


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
    near = [found.parent, found.parent.parent] if found is not None else []
    for folder in near + [d if d.is_dir() else d.parent for d in dirs]:
        if (folder / WORD_INDEX_FILE).is_file():
            return folder / WORD_INDEX_FILE
    return None


def load_reviews(data: DataConfig) -> tuple[Reviews, Reviews, Location]:
    """The 25,000 training and 25,000 test reviews, ids capped at `data.num_words`."""
    location = locate(data)
    if location.source == "keras":
        train, test = _load_keras(location, data.num_words)
    else:
        if location.path is None:
            location.path = _download(ACLIMDB_ARCHIVE, location.searched)
        if location.word_index is None:
            location.word_index = _download(WORD_INDEX_FILE, location.searched)
        train, test = _cached_aclimdb(location, data.num_words)
    return train, test, location


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
    try:  # Keras >= 3.12 reads the pickled object arrays with an unpickler limited to numpy arrays
        from keras.src.datasets.npz_utils import load_npz
    except ImportError:  # older Keras 3 read them with plain pickle, as this does
        return np.load(path, allow_pickle=True)
    return load_npz(str(path))


def read_aclimdb(path: Path, word_index_path: Path) -> tuple[Reviews, Reviews]:
    """Tokenizes and encodes `train/{neg,pos}` and `test/{neg,pos}` of a folder or `.tar.gz` (full vocabulary).

    Reviews are ordered by split, label (neg, pos) and file name, so the result does not depend on
    the archive's order.
    """
    word_index = read_word_index(word_index_path)
    found: dict[tuple[str, int], list[tuple[str, np.ndarray]]] = {
        (split, label): [] for split in ("train", "test") for label in (0, 1)
    }
    movie_lists: dict[tuple[str, int], list[int]] = {}
    for member, raw in _review_files(path):
        parts = member.split("/")
        if len(parts) >= 3 and parts[-3] in ("train", "test") and parts[-2] in ("neg", "pos"):
            review = raw.decode("utf-8", errors="replace")
            found[(parts[-3], int(parts[-2] == "pos"))].append((parts[-1], text.encode(review, word_index)))
        elif len(parts) >= 2 and parts[-2] in ("train", "test") and parts[-1] in ("urls_neg.txt", "urls_pos.txt"):
            movie_lists[(parts[-2], int(parts[-1] == "urls_pos.txt"))] = _movie_numbers(raw)
    for (split, label), items in found.items():
        if not items:
            raise DataError(
                f"{path}: no {split}/{'pos' if label else 'neg'} reviews: expected the Large Movie Review "
                f"Dataset layout aclImdb/{{train,test}}/{{pos,neg}}/*.txt, received none there."
            )

    def reviews(split: str) -> Reviews:
        items = {label: sorted(found[(split, label)], key=lambda item: _file_order(item[0])) for label in (0, 1)}
        sequences = [ids for label in (0, 1) for _, ids in items[label]]
        labels = np.concatenate([np.full(len(items[label]), label, dtype=np.int8) for label in (0, 1)])
        return Reviews(sequences, labels, _movies(items, movie_lists, split))

    return reviews("train"), reviews("test")


def _movie_numbers(raw: bytes) -> list[int]:
    """`urls_pos.txt` (line i: the IMDb page of the movie of review i) → title numbers (-1 if unreadable)."""
    numbers = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        match = re.search(r"/title/tt(\d+)", line)
        numbers.append(int(match[1]) if match else -1)
    return numbers


def _movies(items: dict, movie_lists: dict, split: str) -> np.ndarray | None:
    """The movie of each review (ordered as `items`), when the urls files cover every review."""
    movies = []
    for label in (0, 1):
        numbers = movie_lists.get((split, label))
        for name, _ in items[label]:
            review_id = _file_order(name)[0]
            if numbers is None or not 0 <= review_id < len(numbers):
                return None
            movies.append(numbers[review_id])
    return np.asarray(movies, dtype=np.int64)


def read_word_index(path: Path) -> dict[str, int]:
    """`text.load_word_index`, with a one-line `DataError` when the file cannot be read."""
    try:
        return text.load_word_index(path)
    except (OSError, ValueError) as error:
        raise DataError(
            f"{path}: cannot read the word index: expected Keras's JSON word index, received {error}."
        ) from None


def _file_order(name: str) -> tuple[int, str]:
    stem = name.split("_")[0]
    return (int(stem), name) if stem.isdigit() else (-1, name)


def _review_files(path: Path):
    """Yields `(member path, bytes)` for every `.txt` file of a folder or `.tar.gz` archive."""
    if path.is_dir():
        for split in ("train", "test"):
            for label in ("neg", "pos"):
                urls = path / split / f"urls_{label}.txt"
                if urls.is_file():
                    yield f"{split}/{urls.name}", urls.read_bytes()
                folder = path / split / label
                for file in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
                    yield f"{split}/{label}/{file.name}", file.read_bytes()
        return
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(".txt") and "/unsup/" not in member.name:
                    yield member.name, archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DataError(
            f"{path}: cannot read the archive: expected a complete aclImdb_v1.tar.gz, received a truncated "
            f"or corrupt file ({error or type(error).__name__})."
        ) from None


def balanced_subset(reviews: Reviews, limit: int, seed: int) -> Reviews:
    """`limit` reviews, half of each class (the first class gets the odd one), chosen with `seed`."""
    if limit >= len(reviews):
        return reviews
    rng = np.random.default_rng(seed)
    chosen = []
    for label, count in ((1, limit - limit // 2), (0, limit // 2)):
        candidates = np.flatnonzero(reviews.labels == label)
        chosen.append(rng.choice(candidates, size=min(count, len(candidates)), replace=False))
    return reviews.take(np.sort(np.concatenate(chosen)))


def pad(reviews: Reviews, data: DataConfig) -> Split:
    """Pads/truncates with `keras.utils.pad_sequences` to `(n, data.maxlen)` int32."""
    x = keras.utils.pad_sequences(
        reviews.sequences, maxlen=data.maxlen, dtype="int32", padding=data.padding, truncating=data.truncating
    )
    lengths = np.minimum([len(s) for s in reviews.sequences], data.maxlen).astype(np.int32)
    return Split(x, reviews.labels.astype(np.float32), lengths)


def validation_indices(reviews: Reviews, share: float, seed: int, by_movie: bool) -> np.ndarray:
    """Sorted indices of the validation reviews, about `share` of `reviews`, chosen with `seed`.

    `by_movie`: whole movies go to validation (all their reviews), as the test set's movies are not
    in the training set: validation accuracy then estimates test accuracy, instead of rewarding the
    memorizing of movie-specific words. Without movie numbers (the `keras` source) reviews are drawn.
    """
    rng = np.random.default_rng(seed)
    wanted = round(len(reviews) * share)
    if by_movie and reviews.movies is None:
        print("warning: this data source does not say which movie a review is about; the validation "
              "reviews are drawn one by one (data.validation_split_by: review).", file=sys.stderr)
    if not by_movie or reviews.movies is None:
        return np.sort(rng.permutation(len(reviews))[:wanted])
    movies, counts = np.unique(reviews.movies, return_counts=True)
    order = rng.permutation(len(movies))
    taken = int(np.searchsorted(np.cumsum(counts[order]), wanted)) + 1
    return np.flatnonzero(np.isin(reviews.movies, movies[order[:taken]]))


def load_splits(data: DataConfig) -> Splits:
    """Training, validation (`data.validation_split` of the training reviews) and test splits."""
    train, test, location = load_reviews(data)
    if data.limit:
        train = balanced_subset(train, data.limit, data.seed)
    if data.test_limit:
        test = balanced_subset(test, data.test_limit, data.seed)
    chosen = validation_indices(train, data.validation_split, data.seed, data.validation_split_by == "movie")
    rest = np.setdiff1d(np.arange(len(train)), chosen)
    validation, train = train.take(chosen), train.take(rest)
    padded = pad(train, data), pad(validation, data), pad(test, data)
    return Splits(*padded, location.source, str(location.path), location.word_index)
