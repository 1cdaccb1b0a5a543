"""What pretraining may read: the training and unlabeled reviews, never a test review (issue 12, item 5)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from conftest import write
from imdb_rnn.data.aclimdb import pretraining_texts
from imdb_rnn.errors import DataError

SENTINEL = "zzsentinelzz"  # only the test reviews hold it: it must never come out


def corpus(root: Path) -> Path:
    """`root/aclImdb` with 2 reviews in each labeled folder, 3 unlabeled ones, and urls files."""
    for folder in ("train/pos", "train/neg", "train/unsup", "test/pos", "test/neg"):
        split = folder.split("/")[0]
        for number in range(3 if folder == "train/unsup" else 2):
            words = f"{SENTINEL} a test review" if split == "test" else f"review {number} of {folder}"
            write(root / "aclImdb" / folder / f"{number}_0.txt", words)
        write(root / "aclImdb" / split / f"urls_{folder.split('/')[1]}.txt", "http://www.imdb.com/title/tt0000001/\n")
    return root / "aclImdb"


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_pretraining_reads_training_and_unlabeled_reviews_and_never_a_test_review(tmp_path: Path, packed: bool) -> None:
    folder = corpus(tmp_path / "data")
    source = folder
    if packed:
        source = tmp_path / "aclImdb_v1.tar.gz"
        with tarfile.open(source, "w:gz") as archive:
            archive.add(folder, arcname="aclImdb")
    found = list(pretraining_texts(source))
    members = [member for member, _ in found]
    assert len(found) == 2 + 2 + 3
    assert not any("test/" in member or "urls_" in member for member in members)
    assert sum("/unsup/" in member for member in members) == 3
    assert not any(SENTINEL in text for _, text in found)


def test_a_folder_without_training_reviews_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "aclImdb" / "test" / "pos" / "0_9.txt", f"{SENTINEL} only test reviews here")
    with pytest.raises(DataError, match=r"no reviews to read: expected aclImdb/train/neg/\*\.txt or aclImdb/train/pos"):
        list(pretraining_texts(tmp_path / "aclImdb"))


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_pretraining_drops_texts_identical_to_a_test_review(tmp_path: Path, packed: bool) -> None:
    """The dataset holds test reviews byte-identical to training (123) or unlabeled (269) ones: pretraining
    drops those copies, found by hash, and keeps a text that differs from a test review by one byte."""
    folder = corpus(tmp_path / "data")
    test_review = (folder / "test" / "pos" / "0_0.txt").read_bytes()
    (folder / "train" / "pos" / "7_9.txt").write_bytes(test_review)
    (folder / "train" / "unsup" / "7_0.txt").write_bytes(test_review)
    (folder / "train" / "unsup" / "8_0.txt").write_bytes(test_review + b" ")
    source = folder
    if packed:
        source = tmp_path / "aclImdb_v1.tar.gz"
        with tarfile.open(source, "w:gz") as archive:
            archive.add(folder, arcname="aclImdb")
    members = [member for member, _ in pretraining_texts(source)]
    assert len(members) == 2 + 2 + 3 + 1
    assert not any(member.endswith("7_9.txt") or member.endswith("7_0.txt") for member in members)
    assert any(member.endswith("unsup/8_0.txt") for member in members)
