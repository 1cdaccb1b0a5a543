"""Small data learns, or says it did not: the passes an epoch that fit your data's size
(`training.data_size`), and the one warning of a run that never beat the majority class
(`training.learned`)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from imdb_rnn.cli.common import warnings_as_lines
from imdb_rnn.config import load_config
from imdb_rnn.data.reviews import Reviews
from imdb_rnn.data.splits import Splits, pad
from imdb_rnn.data.text import vocabulary_size
from imdb_rnn.errors import ImdbRnnWarning
from imdb_rnn.runs.provenance import config_hash
from imdb_rnn.training.data_size import MIN_STEPS_PER_EPOCH, passes_per_epoch
from imdb_rnn.training.learned import learned, majority_rate
from imdb_rnn.training.recipe import train

CSV = ["data.source=csv", "data.path=reviews.csv"]


@pytest.mark.parametrize(
    "overrides, examples, expected",
    [
        (CSV, 1536, 5),  # 24 batches of 64 a pass: 5 passes, 120 steps
        (CSV, 64 * MIN_STEPS_PER_EPOCH, 1),  # one pass is already long enough
        (CSV, 10, MIN_STEPS_PER_EPOCH),  # one batch a pass
        ([*CSV, "train.passes_per_epoch=2"], 1536, 2),  # set: kept
        ([], 1536, None),  # IMDB (a data.limit subset): one pass, recorded as null
        ([], 20_000, None),
    ],
)
def test_passes_per_epoch_fit_the_size_of_own_data(overrides: list[str], examples: int, expected: int | None) -> None:
    config = load_config("gru", overrides)
    assert passes_per_epoch(config, examples) == expected


def test_the_vocabulary_keeps_the_words_seen_at_least_twice_within_num_words() -> None:
    counts = [9, 5, 2, 2, 1, 1, 1]  # 4 words seen twice or more: ids 4 to 7
    assert vocabulary_size(20_000, counts) == 8
    assert vocabulary_size(6, counts) == 6  # num_words still caps it
    assert vocabulary_size(20_000, [1, 1]) == 4  # no word kept: start and out-of-vocabulary ids only


def test_an_unset_passes_per_epoch_leaves_the_config_hash_of_earlier_runs_alone() -> None:
    resolved = load_config("gru").to_dict()
    assert resolved["train"]["passes_per_epoch"] is None
    earlier = {**resolved, "train": {k: v for k, v in resolved["train"].items() if k != "passes_per_epoch"}}
    assert config_hash(resolved) == config_hash(earlier)
    assert config_hash({**resolved, "train": {**resolved["train"], "passes_per_epoch": 5}}) != config_hash(earlier)


def test_learned_means_beating_the_majority_rate_by_one_validation_text() -> None:
    labels = np.array([1, 1, 1, 0, 0])
    assert majority_rate(labels) == 0.6
    assert not learned(float(np.float32(0.6)), 0.6, 5)  # a constant answer, in float32: not learned
    assert learned(0.8, 0.6, 5)
    assert not learned(None, 0.6, 5) and not learned(float("nan"), 0.6, 5)


def constant_or_cued_splits(cued: bool) -> Splits:
    """Texts that are all the same word (labels independent of the texts: nothing to learn), or whose one
    word is 4 or 5 by the label (`cued`: learnable). 60% of every split is class 1."""
    data = load_config(None, ["data.maxlen=4"]).data

    def split(count: int) -> Reviews:
        labels = (np.arange(count) % 5 < 3).astype(np.int8)
        words = 4 + labels if cued else np.full(count, 4)
        return Reviews([np.array([1, word], dtype=np.int32) for word in words], labels)

    return Splits(pad(split(200), data), pad(split(50), data), pad(split(50), data), "synthetic", "memory")


SMALL = [
    "data.maxlen=4",
    "data.num_words=8",
    "model.embedding_dim=4",
    "model.units=4",
    "train.epochs=3",
    "train.batch_size=25",
    "train.learning_rate=0.05",
    "train.early_stopping=null",
    "model.word_dropout=0",
    "model.head_dropout=0",
    "model.spatial_dropout=0",
    "train.ema=false",
]


def test_a_run_that_never_beats_the_majority_class_ends_with_one_warning(tmp_path: Path, capsys) -> None:
    with warnings_as_lines():
        run = train(load_config("gru", SMALL), tmp_path, splits=constant_or_cued_splits(cued=False), verbose=0)
    err = capsys.readouterr().err  # also the note that synthetic data has no word index
    lines = [line for line in err.splitlines() if "did not learn" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: "), err
    assert "did not learn" in lines[0] and "majority-class rate of the validation set (0.6000)" in lines[0]
    assert "train.learning_rate" in lines[0] and "model.pretrained=word2vec" in lines[0]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["learned"] is False and metrics["majority_val_accuracy"] == 0.6


def test_a_run_that_learns_does_not_warn(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ImdbRnnWarning)
        run = train(load_config("gru", SMALL), tmp_path, splits=constant_or_cued_splits(cued=True), verbose=0)
    assert not [w for w in caught if "did not learn" in str(w.message)]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["learned"] is True and metrics["best_val_accuracy"] > 0.9
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["passes_per_epoch"] is None  # not own data


def test_own_data_records_its_passes_per_epoch(tmp_path: Path) -> None:
    rows = ["text,label"] + [
        f"{'good fine' if i % 2 else 'bad poor'} film {i},{'pos' if i % 2 else 'neg'}" for i in range(60)
    ]
    (tmp_path / "reviews.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    csv = ["data.source=csv", f"data.path={tmp_path / 'reviews.csv'}", "data.num_words=100", "train.epochs=1"]
    config = load_config("gru", [*SMALL, *csv])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImdbRnnWarning)  # the held-out test set's note
        run = train(config, tmp_path / "runs", verbose=0)
    metrics = json.loads((run / "metrics.json").read_text())
    batches = -(-metrics["examples"]["train"] // 25)  # 38 texts after the test and validation sets: 2
    recorded = yaml.safe_load((run / "config.yaml").read_text())["train"]["passes_per_epoch"]
    assert batches < MIN_STEPS_PER_EPOCH and recorded == -(-MIN_STEPS_PER_EPOCH // batches)
    # 'good fine', 'bad poor' and 'film' occur in many texts, each number in one: the vocabulary keeps 5.
    assert yaml.safe_load((run / "config.yaml").read_text())["data"]["num_words"] == 4 + 5
    vocabulary = json.loads((run / "vocabulary.json").read_text())
    assert vocabulary["num_words"] == 9 and "film" in vocabulary["words"] and "17" not in vocabulary["words"]
    history = json.loads((run / "history.json").read_text())
    assert metrics["epochs_run"] == 1 and len(history["loss"]) == 1


def test_the_advice_offers_word_vectors_for_your_own_english_reviews_too() -> None:
    from imdb_rnn.training.learned import advice_for

    assert "(--set model.pretrained=word2vec)" in advice_for(load_config("gru"))
    own = advice_for(load_config("gru", CSV))
    assert "model.pretrained=word2vec, when your texts are English reviews" in own
    assert "model.pretrained" not in advice_for(load_config("gru", [*CSV, "model.pretrained=word2vec"]))
