"""`imdb-rnn ensemble`: a run folder whose model averages its members' probabilities.

Two tiny members on the tiny corpus that read reviews differently: an LSTM with the corpus's small
vocabulary, 8 tokens and length bucketing; a GRU whose vocabulary also holds the rare words, with 6
tokens in maxlen-wide batches padded at the end. The ensemble must give every text the weighted mean of
what each member's own `predict` gives it, choose validation weights without a test review, and evaluate,
predict, compare and export must take its folder as any run's.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from conftest import RARE_WORDS, TINY_NUM_WORDS, TINY_OVERRIDES, run_command, tiny_test_texts
from imdb_rnn.config import load_config
from imdb_rnn.data.splits import Split, load_splits
from imdb_rnn.evaluation.weights import choose_weights, simplex_grid
from imdb_rnn.models.ensemble import MemberInput
from imdb_rnn.runs import load_run
from imdb_rnn.training import ensemble as ensembles
from imdb_rnn.training.recipe import train

LSTM = [*TINY_OVERRIDES, "data.maxlen=8", "train.epochs=2"]  # most reviews: cut to one length
GRU = [
    *TINY_OVERRIDES,
    f"data.num_words={TINY_NUM_WORDS + 4}",  # the rare words and "br" are words here, OOV for the LSTM
    "data.maxlen=6",
    "data.bucketing=false",
    "data.padding=post",
    "model.mask_zero=true",
    "model.pooling=last",
    "train.epochs=2",
]


@pytest.fixture(scope="module")
def members(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("members")
    configs = [
        load_config(name, [*overrides, f"data.path={tiny_corpus}"])
        for name, overrides in (("lstm", LSTM), ("gru", GRU))
    ]
    return [train(config, out, verbose=0) for config in configs]


@pytest.fixture(scope="module")
def made(members: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    """The ensemble of `members` with validation weights (log-loss), made by the command, and the number of
    reviews its weights were chosen on (each call of `choose_weights`)."""
    out, counted = tmp_path_factory.mktemp("ensembles"), []
    real = ensembles.choose_weights
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ensembles, "choose_weights", lambda p, y, o: counted.append(len(y)) or real(p, y, o))
        argv = [*map(str, members), "--weights", "validation", "--objective", "log_loss", "--output-dir", str(out)]
        assert run_command("ensemble", argv) == 0
    (folder,) = out.iterdir()
    return folder, counted


@pytest.fixture(scope="module")
def weighted(made: tuple[Path, list[int]]) -> Path:
    return made[0]


def texts(corpus: Path) -> list[str]:
    """Test reviews of the corpus, the same longer than both maxlens, one with rare words, one with no words."""
    base = tiny_test_texts(corpus)[::8]
    return [*base, " ".join(base[:3]), f"{' '.join(RARE_WORDS)} superb br", "!!!"]


@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("input_padding", ["pre", "post"])
def test_member_input_cuts_as_the_member_encodes(truncating: str, input_padding: str) -> None:
    rng = np.random.default_rng(0)
    reviews = [np.r_[1, rng.integers(3, 50, size=rng.choice([0, 4, 11, 19, 30]))] for _ in range(30)]
    x = keras.utils.pad_sequences(reviews, maxlen=20, padding=input_padding, truncating=truncating)
    for padding in ("pre", "post"):
        for maxlen, num_words in ((5, 10), (20, 60), (12, 30)):
            own = [np.where(review >= num_words, 2, review) for review in reviews]
            want = keras.utils.pad_sequences(own, maxlen=maxlen, padding=padding, truncating=truncating)
            cut = MemberInput(num_words, maxlen, padding, truncating, False, input_padding)
            np.testing.assert_array_equal(np.asarray(cut(x)), want)
            bucketed = MemberInput(num_words, maxlen, padding, truncating, True, input_padding)
            lengths = np.count_nonzero(x, axis=1)
            for length in np.unique(lengths):  # one length a batch, unpadded: as a bucketed run reads it
                rows = np.flatnonzero(lengths == length)
                unpadded = x[rows][:, 20 - length :] if input_padding == "pre" else x[rows][:, :length]
                kept = min(length, maxlen)
                expected = want[rows][:, maxlen - kept :] if padding == "pre" else want[rows][:, :kept]
                np.testing.assert_array_equal(np.asarray(bucketed(unpadded)), expected)


def test_choose_weights() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, size=400)
    good = np.clip(labels + rng.normal(0, 0.3, size=400), 0.01, 0.99)  # right 90% of the time
    noise = rng.random(400)
    for objective in ("accuracy", "log_loss"):
        weights = choose_weights(np.stack([noise, good]), labels, objective)
        assert weights.min() >= 0 and abs(weights.sum() - 1) < 1e-9
        assert weights[1] > 0.7, (objective, weights)
    assert len(list(simplex_grid(3, 20))) == 231 and all(sum(w) == 20 for w in simplex_grid(3, 20))


def test_probabilities_are_the_weighted_mean(weighted: Path, members: list[Path], tiny_corpus: Path) -> None:
    ensemble, (lstm, gru) = load_run(weighted), [load_run(member) for member in members]
    assert ensemble.config.model.architecture == "ensemble" and ensemble.state == "completed"
    assert ensemble.config.model.params["members"] == [str(member) for member in members]
    assert (ensemble.config.data.num_words, ensemble.config.data.maxlen) == (TINY_NUM_WORDS + 4, 8)
    weights = ensemble.config.model.params["weights"]
    assert [member["weight"] for member in ensemble.metrics["ensemble"]["members"]] == weights
    samples = texts(tiny_corpus)
    own = [run.predict(samples, allow_empty=True) for run in (lstm, gru)]
    assert np.abs(own[0] - own[1]).max() > 1e-3  # two opinions to weigh
    np.testing.assert_allclose(
        ensemble.predict(samples, allow_empty=True), weights[0] * own[0] + weights[1] * own[1], atol=1e-6
    )
    assert ensemble.metrics["evaluation"]["accuracy"] == ensemble.metrics["test_accuracy"]
    written = {path.name for path in weighted.iterdir()}
    assert {
        "config.yaml",
        "provenance.json",
        "status.json",
        "vocabulary.json",
        "history.json",
        "roc_curve.png",
    } <= written


def test_member_validation_accuracy_is_the_members_own(weighted: Path, members: list[Path]) -> None:
    from imdb_rnn.data.pipeline import evaluation_batch_size, make_test_dataset
    from imdb_rnn.evaluation.evaluate import predict_dataset
    from imdb_rnn.evaluation.metrics import classification_metrics

    recorded = load_run(weighted).metrics["ensemble"]["members"]
    for member, record in zip(members, recorded):
        run = load_run(member)
        data = run.config.data
        dataset = make_test_dataset(
            load_splits(data).validation, evaluation_batch_size(128), data.bucketing, data.padding
        )
        accuracy = classification_metrics(*predict_dataset(run.model, dataset))["accuracy"]
        assert record["run"] == str(member) and record["validation_accuracy"] == pytest.approx(accuracy)


def test_validation_weights_read_no_test_review(
    made: tuple[Path, list[int]], members: list[Path], tmp_path: Path
) -> None:
    folder, counted = made
    splits = load_splits(ensembles.ensemble_data([load_run(member) for member in members]))
    assert counted == [len(splits.validation)]  # the weights were chosen on the validation reviews
    test = splits.test
    scrambled = Split(np.flip(test.x, axis=1).copy() % 7, 1 - test.y, test.lengths)  # labels flipped, ids garbled
    again = ensembles.make_ensemble(
        members, "validation", "log_loss", tmp_path, splits=dataclasses.replace(splits, test=scrambled)
    )
    real, changed = load_run(folder).metrics, load_run(again).metrics
    assert real["ensemble"] == changed["ensemble"]  # weights, members' validation accuracy and loss
    assert real["test_accuracy"] != changed["test_accuracy"]  # and yet the test set did change
    equal = ensembles.make_ensemble(members, output_dir=tmp_path, splits=splits)
    assert [member["weight"] for member in load_run(equal).metrics["ensemble"]["members"]] == [0.5, 0.5]
    assert equal != again  # nothing already written is replaced


def test_evaluate_predict_compare(weighted: Path, members: list[Path], tmp_path: Path, capsys) -> None:
    assert run_command("evaluate", [str(weighted), "--threshold", "0.3"]) == 0
    assert "0.3" in load_run(weighted).metrics["evaluation_at_thresholds"]
    capsys.readouterr()
    assert run_command("predict", [str(weighted), "Wonderful superb film", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed[0]["probability"] == pytest.approx(float(load_run(weighted).predict(["Wonderful superb film"])[0]))
    assert run_command("compare", [str(weighted), *map(str, members), "--out", str(tmp_path / "cmp")]) == 0
    table = (tmp_path / "cmp" / "comparison.csv").read_text(encoding="utf-8")
    assert weighted.name in table and "ensemble" in table


def test_export_matches_predict(weighted: Path, tiny_corpus: Path, tmp_path: Path) -> None:
    import tensorflow as tf

    assert run_command("export", [str(weighted), "--out", str(tmp_path / "export")]) == 0
    served = tf.saved_model.load(str(tmp_path / "export"))
    samples = texts(tiny_corpus)
    probabilities = served.serve(tf.constant(samples))["probabilities"].numpy()
    np.testing.assert_allclose(probabilities[:, 1], load_run(weighted).predict(samples, allow_empty=True), atol=1e-5)


def edited(member: Path, tmp_path: Path, file: str, change) -> Path:
    copy = tmp_path / member.name
    shutil.copytree(member, copy)
    path = copy / file
    content = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML
    change(content)
    path.write_text(json.dumps(content) if file.endswith(".json") else yaml.safe_dump(content), encoding="utf-8")
    return copy


BAD = {
    "not a run folder": lambda member, tmp: tmp / "nowhere",
    "not completed": lambda member, tmp: edited(member, tmp, "status.json", lambda c: c.update(state="failed")),
    "different classes": lambda m, tmp: edited(m, tmp, "vocabulary.json", lambda c: c.update(classes=["bad", "good"])),
    "different text encoding": lambda m, tmp: edited(m, tmp, "vocabulary.json", lambda c: c.update(encoding=3)),
    "different data source": lambda m, tmp: edited(m, tmp, "config.yaml", lambda c: c["data"].update(source="keras")),
    "different validation split": lambda m, tmp: edited(m, tmp, "config.yaml", lambda c: c["data"].update(seed=7)),
    "different cut of long reviews": lambda m, tmp: edited(
        m, tmp, "config.yaml", lambda c: c["data"].update(truncating="post")
    ),
}


@pytest.mark.parametrize("problem", BAD)
def test_bad_members(problem: str, members: list[Path], tmp_path: Path, capsys) -> None:
    bad = BAD[problem](members[1], tmp_path)
    capsys.readouterr()
    assert run_command("ensemble", [str(members[0]), str(bad), "--output-dir", str(tmp_path / "out")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"imdb-rnn ensemble: error: {bad}: {problem}") and "expected" in line and "received" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing made


def test_bad_arguments(members: list[Path], tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    assert run_command("ensemble", [str(members[0]), "--output-dir", str(tmp_path)]) == 2
    assert "too few members: expected at least two" in capsys.readouterr().err
    assert run_command("ensemble", [str(members[0]), str(members[0])]) == 2
    assert "a member twice" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        run_command("ensemble", [*map(str, members), "--objective", "log_loss"])
    assert exit_.value.code == 2 and "expected --weights validation" in capsys.readouterr().err
