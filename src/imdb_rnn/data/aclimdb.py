"""Reading the raw Large Movie Review Dataset (`aclImdb/` or `aclImdb_v1.tar.gz`) into encoded reviews.

`read_aclimdb` reads `train/{neg,pos}` and `test/{neg,pos}` (with `urls_*.txt`, which name the movie of
each review); `pretraining_texts` reads `train/{neg,pos,unsup}`, less the reviews byte-identical to a test
review (`test_review_hashes`: the test files are hashed, never read as text); `training_reviews` reads
`train/{neg,pos}` alone, as text; `validation_files` names the training reviews a classifier validates on,
from the file names and urls files, for a pretraining corpus to leave out.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from imdb_rnn.data import text
from imdb_rnn.data.reviews import Reviews, validation_indices
from imdb_rnn.errors import DataError
from imdb_rnn.progress import progress_bar

LABELED_REVIEWS = 50_000  # train and test, both classes: the progress bar's total for the full dataset
LABELED = ("train/neg", "train/pos", "test/neg", "test/pos")
PRETRAINING = ("train/neg", "train/pos", "train/unsup")  # what pretraining may read: never a test review
TRAINING = ("train/neg", "train/pos")  # the labeled training reviews
UNLABELED = ("train/unsup",)  # the unlabeled reviews


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
    bar = progress_bar(LABELED_REVIEWS if path.name.endswith((".tar.gz", ".tgz")) else None, "review")
    for member, raw in _review_files(path):
        parts = member.split("/")
        if len(parts) >= 3 and parts[-3] in ("train", "test") and parts[-2] in ("neg", "pos"):
            review = raw.decode("utf-8", errors="replace")
            found[(parts[-3], int(parts[-2] == "pos"))].append((parts[-1], text.encode(review, word_index)))
            bar.add(1)
        elif len(parts) >= 2 and parts[-2] in ("train", "test") and parts[-1] in ("urls_neg.txt", "urls_pos.txt"):
            movie_lists[(parts[-2], int(parts[-1] == "urls_pos.txt"))] = _movie_numbers(raw)
    for (split, label), items in found.items():
        if not items:
            raise DataError(
                f"{path}: no {split}/{'pos' if label else 'neg'} reviews: expected the Large Movie Review "
                f"Dataset layout aclImdb/{{train,test}}/{{pos,neg}}/*.txt, received none there."
            )

    def reviews(split: str) -> Reviews:
        items, movies = _ordered(found, movie_lists, split)
        sequences = [ids for label in (0, 1) for _, ids in items[label]]
        labels = np.concatenate([np.full(len(items[label]), label, dtype=np.int8) for label in (0, 1)])
        return Reviews(sequences, labels, movies)

    return reviews("train"), reviews("test")


def _ordered(found: dict, movie_lists: dict, split: str) -> tuple[dict[int, list], np.ndarray | None]:
    """`found[(split, label)]`'s `(file name, …)` items of each label in the one order of the dataset's reviews
    (by file number; negative, then positive), and the movie of each review in that order (`_movies`)."""
    items = {label: sorted(found[(split, label)], key=lambda item: _file_order(item[0])) for label in (0, 1)}
    return items, _movies(items, movie_lists, split)


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


def test_review_hashes(path: Path) -> set[bytes]:
    """The SHA-256 of each test review file's bytes: what pretraining must not read again under another name.
    Only the hashes leave this function; the test texts feed nothing else."""
    return {
        hashlib.sha256(raw).digest()
        for member, raw in _review_files(path, ("test/neg", "test/pos"))
        if not member.rsplit("/", 1)[-1].startswith("urls_")
    }


def pretraining_texts(
    path: Path, folders: tuple[str, ...] = PRETRAINING, leave_out: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """`(member path, text)` of every review pretraining may read — the 25,000 training reviews and the
    50,000 unlabeled ones of `train/unsup` (or those of `folders` among them: `UNLABELED`, what the mixed
    objective reads) — from a folder or `.tar.gz` archive, less those byte-identical to a test review (the
    dataset has 123 such training reviews and 270 unlabeled ones; compared by `test_review_hashes`) and
    those `leave_out` names (`review_key`s, e.g. a classifier's validation reviews). A folder with no such
    review is a `DataError`."""
    if not set(folders) <= set(PRETRAINING):
        raise ValueError(f"folders: expected some of {PRETRAINING}, received {folders}")
    count, test_reviews = 0, test_review_hashes(path)
    for member, raw in _review_files(path, folders):
        if member.rsplit("/", 1)[-1].startswith("urls_") or (leave_out and review_key(member) in leave_out):
            continue
        if hashlib.sha256(raw).digest() not in test_reviews:
            count += 1
            yield member, raw.decode("utf-8", errors="replace")
    if not count:
        raise DataError(
            f"{path}: no reviews to read: expected {' or '.join(f'aclImdb/{folder}/*.txt' for folder in folders)}, "
            "received none there."
        )


def training_reviews(path: Path) -> Iterator[tuple[str, str, str]]:
    """`(label, file name, text)` of each labeled training review (`train/neg`, `train/pos`; label `neg` or
    `pos`) of a folder or `.tar.gz` archive, in the archive's order. Nothing of `test/` or `train/unsup` is
    opened. A folder with no such review is a `DataError`."""
    count = 0
    for member, raw in _review_files(path, TRAINING):
        parts = member.split("/")
        if not parts[-1].startswith("urls_"):
            count += 1
            yield parts[-2], parts[-1], raw.decode("utf-8", errors="replace")
    if not count:
        raise DataError(
            f"{path}: no training reviews: expected aclImdb/train/neg/*.txt and aclImdb/train/pos/*.txt, "
            "received none there."
        )


def review_key(member: str) -> str:
    """A review file's name within the dataset, the same in a folder and an archive: `train/pos/12_8.txt`."""
    return "/".join(member.split("/")[-3:])


def training_files(path: Path) -> tuple[list[str], np.ndarray | None]:
    """The `review_key` of each labeled training review of a folder or `.tar.gz` archive, in the order of
    `read_aclimdb`'s training `Reviews` (negative then positive, by file number), and the movie of each (None
    when the urls files do not cover them). Only the file names and `train/urls_*.txt` are used: no review is
    decoded, nothing of `test/` or `train/unsup` is opened."""
    found: dict[tuple[str, int], list[tuple[str, None]]] = {("train", 0): [], ("train", 1): []}
    movie_lists: dict[tuple[str, int], list[int]] = {}
    for member, raw in _review_files(path, TRAINING):
        parts = member.split("/")
        if parts[-1].startswith("urls_"):
            movie_lists[("train", int(parts[-1] == "urls_pos.txt"))] = _movie_numbers(raw)
        else:
            found[("train", int(parts[-2] == "pos"))].append((parts[-1], None))
    if not any(found.values()):
        raise DataError(
            f"{path}: no training reviews: expected aclImdb/train/neg/*.txt and aclImdb/train/pos/*.txt, "
            "received none there."
        )
    items, movies = _ordered(found, movie_lists, "train")
    keys = [f"train/{'pos' if label else 'neg'}/{name}" for label in (0, 1) for name, _ in items[label]]
    return keys, movies


def validation_files(path: Path, share: float, seed: int, by_movie: bool) -> frozenset[str]:
    """The `review_key`s (`train/pos/12_8.txt`) of the training reviews of the aclImdb folder or archive
    `path` that a classifier with `data.validation_split: share`, `data.seed: seed` and
    `data.validation_split_by: movie` (`by_movie`) validates on, all 25,000 training reviews read (no
    `data.limit`): what a pretraining corpus leaves out so that validation stays honest. Read from the
    file names and urls files alone (`aclimdb.training_files`)."""
    keys, movies = training_files(Path(path))
    labels = np.array([key.split("/")[1] == "pos" for key in keys], dtype=np.int8)
    chosen = validation_indices(Reviews([], labels, movies), share, seed, by_movie)
    return frozenset(keys[index] for index in chosen)


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


def _review_files(path: Path, folders: tuple[str, ...] = LABELED):
    """Yields `(member path, bytes)` for the `.txt` files of `folders` (`train/pos`, …) of a folder or
    `.tar.gz` archive, each folder's `urls_<label>.txt` included. Nothing outside `folders` is opened."""
    if path.is_dir():
        for folder in folders:
            split, label = folder.split("/")
            urls = path / split / f"urls_{label}.txt"
            if urls.is_file():
                yield f"{split}/{urls.name}", urls.read_bytes()
            for file in sorted((path / folder).glob("*.txt")) if (path / folder).is_dir() else []:
                yield f"{folder}/{file.name}", file.read_bytes()
        return
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                parts = member.name.split("/")
                if not member.isfile() or not member.name.endswith(".txt") or len(parts) < 2:
                    continue
                review = len(parts) >= 3 and f"{parts[-3]}/{parts[-2]}" in folders
                urls = parts[-1].startswith("urls_") and f"{parts[-2]}/{parts[-1][5:-4]}" in folders
                if review or urls:
                    yield member.name, archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DataError(
            f"{path}: cannot read the archive: expected a complete aclImdb_v1.tar.gz, received a truncated "
            f"or corrupt file ({error or type(error).__name__})."
        ) from None
