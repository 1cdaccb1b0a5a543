"""Shared fixtures: the real data in ../shared/data (tests that need it skip without it), a private
cache folder for the session, and small helpers."""

from __future__ import annotations

import os
import sys
import time
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
# The yardsticks' hashed n-gram tables are sized for the full data (1M to 4M rows, updated whole by each
# optimizer step under JAX and PyTorch): runs shrunk for tests shrink them too.
SMALL_TABLES = {"baseline_bigrams": ["model.bigram_buckets=4096"], "baseline_nbsvm": ["model.buckets=4096"]}


def small_tables(config: str | Path) -> list[str]:
    """The overrides that shrink a shipped config's hashed n-gram table (none for the recurrent ones)."""
    return SMALL_TABLES.get(Path(config).stem, [])


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Encoded-review cache for this test session only (the first real-data test fills it), never the
    user's; `$IMDB_RNN_TEST_CACHE_DIR` names one that test sessions and workers share instead (CI: the
    archive is tokenized once, not once a worker and session). Cache files are written atomically."""
    shared = os.environ.get("IMDB_RNN_TEST_CACHE_DIR")
    folder = Path(shared) if shared else tmp_path_factory.mktemp("cache")
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


# A tiny, learnable review corpus in the Large Movie Review Dataset layout, and a run trained on it
# (fast, and needs no real data): each review mixes neutral words with two cues of its class.
POSITIVE_WORDS = ["wonderful", "superb", "brilliant", "loved", "moving"]
NEGATIVE_WORDS = ["awful", "boring", "terrible", "waste", "dull"]
NEUTRAL_WORDS = ["the", "movie", "a", "film", "plot", "acting", "was", "and", "it", "story", "of", "this"]
RARE_WORDS = ["zeppelin", "quixotic", "marmalade"]  # in the word index, but beyond TINY_NUM_WORDS
TINY_NUM_WORDS = 3 + len(NEUTRAL_WORDS + POSITIVE_WORDS + NEGATIVE_WORDS) + 1  # ids 0-2 are reserved
TINY_OVERRIDES = [
    "data.source=aclimdb",
    f"data.num_words={TINY_NUM_WORDS}",
    "data.maxlen=16",
    "data.validation_split=0.25",
    "data.validation_split_by=review",  # the tiny corpus names no movies
    "model.units=16",
    "model.embedding_dim=8",
    "train.epochs=12",
    "train.batch_size=16",
    "train.learning_rate=0.02",
    "model.word_dropout=0",
    "model.head_dropout=0",
    "train.ema=false",  # lstm.yaml's regularization is for 20,000 reviews
]


def tiny_review(rng, label: int) -> str:
    words = list(rng.choice(NEUTRAL_WORDS, size=rng.integers(4, 10)))
    cues = rng.choice(POSITIVE_WORDS if label else NEGATIVE_WORDS, size=2, replace=False)
    for cue in cues:
        words.insert(rng.integers(0, len(words) + 1), str(cue))
    if rng.random() < 0.3:
        words.insert(0, str(rng.choice(RARE_WORDS)))
    return " ".join(words).capitalize() + rng.choice([".", "!", "...<br /><br />"])


def write_tiny_corpus(root: Path, train: int = 80, test: int = 20) -> Path:
    """`root/aclImdb/{train,test}/{neg,pos}/<n>_<rating>.txt` (`train`, `test` reviews per class) plus
    `root/imdb_word_index.json`."""
    import json

    import numpy as np

    rng = np.random.default_rng(0)
    for split, count in (("train", train), ("test", test)):
        for label, folder in ((0, "neg"), (1, "pos")):
            for number in range(count):
                write(root / "aclImdb" / split / folder / f"{number}_{8 if label else 2}.txt", tiny_review(rng, label))
    words = NEUTRAL_WORDS + POSITIVE_WORDS + NEGATIVE_WORDS + ["br"] + RARE_WORDS
    write(root / "imdb_word_index.json", json.dumps({word: rank for rank, word in enumerate(words, 1)}))
    return root


def tiny_test_texts(root: Path) -> list[str]:
    """The corpus's test reviews in the order the data loader gives them (negative first, by number)."""
    folders = [root / "aclImdb" / "test" / label for label in ("neg", "pos")]
    files = [sorted(folder.glob("*.txt"), key=lambda file: int(file.stem.split("_")[0])) for folder in folders]
    return [file.read_text(encoding="utf-8") for group in files for file in group]


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny-corpus"))


@pytest.fixture(scope="session")
def tiny_run(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder trained on `tiny_corpus` (LSTM, a few seconds). Tests that change it copy it first."""
    from imdb_rnn.config import load_config
    from imdb_rnn.training.recipe import train

    config = load_config("lstm", [*TINY_OVERRIDES, f"data.path={tiny_corpus}"])
    return train(config, tmp_path_factory.mktemp("tiny-runs"), verbose=0)


def run_command(name: str, argv: list[str]) -> int:
    """`imdb-rnn <name> <argv…>` in this process; returns its exit status (messages say `imdb-rnn <name>`)."""
    from imdb_rnn.cli import main

    return main([name, *argv], prog="imdb-rnn")


def poison_weights(monkeypatch: pytest.MonkeyPatch, epoch: int, model_name: str | None = None) -> None:
    """Makes training's loss NaN for certain from `epoch` (1-based) on: as that epoch begins, the
    model's weights are set to NaN (only for models called `model_name`, when given). The run's own
    NaN guard must then fail it; no learning rate or floating-point luck is involved."""
    import numpy as np

    from imdb_rnn.training.callbacks import EpochTimer

    real = EpochTimer.on_epoch_begin

    def begin(self, index: int, logs=None) -> None:
        if index + 1 == epoch and model_name in (None, self.model.name):
            self.model.set_weights([np.full(w.shape, np.nan, dtype=w.dtype) for w in self.model.get_weights()])
        real(self, index, logs)

    monkeypatch.setattr(EpochTimer, "on_epoch_begin", begin)


# Child processes that tests stop at a known point, without sleeping to land there ---------------------

CHILD = """
import os, sys, threading

from imdb_rnn.cli import main
from imdb_rnn.cli.common import quiet_tensorflow

hold, final = os.environ.get("IMDB_RNN_TEST_HOLD"), os.environ.get("IMDB_RNN_TEST_FINAL_WEIGHTS")
if not (hold or final):  # as the command itself, Keras not imported yet (a resume picks the backend)
    sys.exit(main(sys.argv[1:], prog="imdb-rnn"))
quiet_tensorflow()  # what the command does before Keras: TensorFlow's start-up notes stay off stderr
import keras
import numpy as np


class Probe(keras.callbacks.Callback):
    def on_epoch_begin(self, index, logs=None):
        self.epoch = index + 1

    def on_train_batch_end(self, batch, logs=None):
        if hold and self.epoch == int(hold.split(":", 1)[0]):
            with open(hold.split(":", 1)[1], "w") as marker:
                marker.write(f"epoch {self.epoch}, step {batch + 1}")
            threading.Event().wait()  # held here, in the middle of the epoch, until the test kills it

    def on_train_end(self, logs=None):
        if final:
            np.savez(final, *[np.asarray(weight) for weight in self.model.get_weights()])


fit = keras.Model.fit


def probed_fit(self, *args, **kwargs):
    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), Probe()]
    return fit(self, *args, **kwargs)


keras.Model.fit = probed_fit
sys.exit(main(sys.argv[1:], prog="imdb-rnn"))
"""


def probed(hold: tuple[int, Path] | None = None, final_weights: Path | None = None) -> tuple[list[str], dict]:
    """`imdb-rnn` in a child (append its arguments) and the environment variables to give it: with `hold`
    `(epoch, marker)`, the child writes `marker` once a training step of `epoch` has ended and waits there
    (mid-epoch) until it is killed; with `final_weights`, it saves the model's weights as training ends
    (`.npz`, in `model.get_weights()` order)."""
    environment = {}
    if hold is not None:
        environment["IMDB_RNN_TEST_HOLD"] = f"{hold[0]}:{hold[1]}"
    if final_weights is not None:
        environment["IMDB_RNN_TEST_FINAL_WEIGHTS"] = str(final_weights)
    return [sys.executable, "-c", CHILD], environment


def wait_for(condition, what: str, processes=(), timeout: float = 300) -> None:
    """Returns once `condition()` is true; fails when `timeout` seconds pass first or one of `processes`
    exits meanwhile. The short sleep is the polling interval, not the synchronisation."""
    deadline = time.monotonic() + timeout
    while not condition():
        for process in processes:
            assert process.poll() is None, f"{what}: the child exited first, with status {process.returncode}"
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.05)
