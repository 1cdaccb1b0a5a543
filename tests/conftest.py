"""Shared fixtures: the real data in ../shared/data (tests that need it skip without it), a private
cache folder for the session, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((PROJECT / "configs").glob("*.yaml"))
DATA_DIR = Path(os.environ.get("IMDB_DATA_DIR") or PROJECT.parent / "shared" / "data").resolve()
HAS_DATA = (DATA_DIR / "aclImdb_v1.tar.gz").is_file() or (DATA_DIR / "imdb.npz").is_file()

requires_data = pytest.mark.skipif(
    not HAS_DATA,
    reason=f"the IMDB data is not in {DATA_DIR} (set IMDB_DATA_DIR to a folder with aclImdb_v1.tar.gz "
    "and imdb_word_index.json, or imdb.npz)",
)

# Tiny training runs for the end-to-end tests: the real configs, shrunk.
SMOKE = [
    "data.limit=200",
    "data.test_limit=100",
    "data.maxlen=64",
    "train.epochs=2",
    "train.batch_size=32",
]


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Encoded-review cache for this test session only (the first real-data test fills it)."""
    folder = tmp_path_factory.mktemp("cache")
    os.environ["IMDB_RNN_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture
def real_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    if not HAS_DATA:
        pytest.skip(requires_data.kwargs["reason"])
    monkeypatch.setenv("IMDB_DATA_DIR", str(DATA_DIR))
    return DATA_DIR


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
