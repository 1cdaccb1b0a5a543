"""Test-set evaluation: metrics against hand-computed values, metrics.json and plots, the evaluate command."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import run_command, tiny_test_texts
from imdb_rnn.data.pipeline import make_dataset, make_test_dataset
from imdb_rnn.data.splits import Split, load_splits
from imdb_rnn.evaluation.evaluate import predict_dataset, record_evaluation
from imdb_rnn.evaluation.metrics import classification_metrics, roc_auc, roc_curve
from imdb_rnn.runs import load_run

PNG = b"\x89PNG\r\n\x1a\n"
# Four negative and four positive reviews; at threshold 0.5: 3 true positives (0.7, 0.9, 0.6),
# 2 false positives (0.55, 0.8), 1 false negative (0.2), 2 true negatives (0.1, 0.35).
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1])
PROBABILITIES = np.array([0.1, 0.55, 0.35, 0.8, 0.7, 0.2, 0.9, 0.6])


def test_metrics_match_hand_computed_values() -> None:
    metrics = classification_metrics(LABELS, PROBABILITIES)
    assert metrics["confusion_matrix"] == {
        "true_negatives": 2,
        "false_positives": 2,
        "false_negatives": 1,
        "true_positives": 3,
    }
    assert metrics["examples"] == 8 and metrics["threshold"] == 0.5
    assert metrics["accuracy"] == pytest.approx(5 / 8)
    assert metrics["precision"] == pytest.approx(3 / 5)
    assert metrics["recall"] == pytest.approx(3 / 4)
    assert metrics["f1"] == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))
    # 11 of the 16 (positive, negative) pairs are ranked the right way round.
    assert metrics["roc_auc"] == pytest.approx(11 / 16, abs=1e-3)
    cross_entropy = [-math.log(1 - p) for p in PROBABILITIES[:4]] + [-math.log(p) for p in PROBABILITIES[4:]]
    assert metrics["loss"] == pytest.approx(sum(cross_entropy) / 8, rel=1e-5)


def test_another_threshold_changes_only_the_threshold_metrics() -> None:
    at_half, at_03 = classification_metrics(LABELS, PROBABILITIES), classification_metrics(LABELS, PROBABILITIES, 0.3)
    assert at_03["confusion_matrix"] == {
        "true_negatives": 1,
        "false_positives": 3,
        "false_negatives": 1,
        "true_positives": 3,
    }
    assert (at_03["accuracy"], at_03["precision"], at_03["recall"]) == pytest.approx((0.5, 0.5, 0.75))
    assert at_03["f1"] == pytest.approx(0.6) and at_03["threshold"] == 0.3
    assert (at_03["roc_auc"], at_03["loss"]) == (at_half["roc_auc"], at_half["loss"])


def test_edge_cases_ties_perfect_ranking_one_class_no_positive_prediction() -> None:
    assert classification_metrics(LABELS, np.full(8, 0.4))["roc_auc"] == pytest.approx(0.5)
    assert classification_metrics(LABELS, LABELS * 0.8 + 0.1)["roc_auc"] == pytest.approx(1.0)
    assert classification_metrics(np.ones(4), [0.2, 0.4, 0.6, 0.8])["roc_auc"] is None
    nothing_positive = classification_metrics(LABELS, PROBABILITIES, threshold=0.95)
    assert (nothing_positive["precision"], nothing_positive["recall"], nothing_positive["f1"]) == (0.0, 0.0, 0.0)
    assert nothing_positive["accuracy"] == 0.5


def test_roc_curve_runs_from_corner_to_corner_under_the_auc() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    probabilities = np.round(np.clip(labels * 0.3 + rng.random(500) * 0.7, 0, 1), 2)  # rounded: many ties
    false_positive_rate, true_positive_rate = roc_curve(labels, probabilities)
    assert (false_positive_rate[0], true_positive_rate[0]) == (0.0, 0.0)
    assert (false_positive_rate[-1], true_positive_rate[-1]) == (1.0, 1.0)
    assert np.all(np.diff(false_positive_rate) >= 0) and np.all(np.diff(true_positive_rate) >= 0)
    area = np.sum(np.diff(false_positive_rate) * (true_positive_rate[1:] + true_positive_rate[:-1]) / 2)
    assert area == pytest.approx(classification_metrics(labels, probabilities)["roc_auc"], abs=1e-12)


def test_roc_auc_is_exact_on_a_case_counted_by_hand() -> None:
    # positives score 0.9, 0.6, 0.4; negatives 0.6, 0.3. Of the 6 (positive, negative) pairs the positive
    # ranks higher in 4 (0.9>0.6, 0.9>0.3, 0.6>0.3, 0.4>0.3), loses 1 (0.4<0.6) and ties 1 (0.6=0.6):
    # AUC = (4 + 0.5) / 6 = 0.75.
    labels = np.array([1, 1, 1, 0, 0])
    probabilities = np.array([0.9, 0.6, 0.4, 0.6, 0.3])
    assert roc_auc(labels, probabilities) == 0.75
    assert roc_auc(labels[::-1], probabilities[::-1]) == 0.75  # order does not matter
    assert roc_auc(1 - labels, probabilities) == 0.25
    assert roc_auc(labels, np.full(5, 0.5)) == 0.5  # all tied: chance
    false_positive_rate, true_positive_rate = roc_curve(labels, probabilities)
    assert false_positive_rate.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]  # thresholds 0.9, 0.6, 0.4, 0.3
    assert true_positive_rate.tolist() == [0.0, 1 / 3, 2 / 3, 1.0, 1.0]


class LastTokenModel:
    """Stands in for a model: P(positive) is the last token id / 100, so a prediction names its review."""

    def predict_on_batch(self, tokens) -> np.ndarray:
        return np.asarray(tokens)[:, -1:] / 100


def test_predictions_stay_paired_with_labels_when_bucketing_reorders_the_test_set() -> None:
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 9, size=60).astype(np.int32)
    last_tokens = rng.permutation(np.arange(3, 63)).astype(np.int32)
    x = np.zeros((60, 8), dtype=np.int32)
    x[:, -1] = last_tokens
    split = Split(x, (last_tokens % 2).astype(np.float32), lengths)
    dataset = make_dataset(split, batch_size=7, bucketing=True)
    labels, probabilities = predict_dataset(LastTokenModel(), dataset)
    assert not np.array_equal(labels, split.y)  # the bucketed order is not the split's
    assert np.array_equal(np.round(probabilities * 100).astype(int) % 2, labels.astype(int))
    assert sorted(np.round(probabilities * 100).astype(int)) == sorted(last_tokens)


def test_test_batches_hold_reviews_of_one_length_each_without_padding() -> None:
    rng = np.random.default_rng(2)
    lengths = rng.integers(1, 9, size=70).astype(np.int32)
    x = np.zeros((70, 8), dtype=np.int32)
    for row, length in enumerate(lengths):
        x[row, 8 - length :] = rng.integers(3, 50, size=length)
    split = Split(x, np.zeros(70, dtype=np.float32), lengths)
    seen = []
    for tokens, _ in make_test_dataset(split, batch_size=4, bucketing=True).as_numpy_iterator():
        assert (tokens != 0).all() and len(tokens) <= 4  # one length a batch: no padding at all
        seen += [tuple(row) for row in tokens]
    assert sorted(seen) == sorted(tuple(row[row != 0]) for row in x)
    unbucketed = [tokens.shape for tokens, _ in make_test_dataset(split, batch_size=32).as_numpy_iterator()]
    assert unbucketed == [(32, 8), (32, 8), (6, 8)]  # trained on maxlen-wide batches: read so


def test_evaluate_reads_each_review_as_predict_does(tiny_run: Path, tiny_corpus: Path) -> None:
    """One model, one accuracy: the test pass gives each review the probability `predict` gives it (the
    lstm config pools the maximum over time, which padding would change)."""
    run = load_run(tiny_run)
    assert run.config.data.bucketing and run.config.model.params["pooling"] == "max_average"
    splits = load_splits(run.config.data)
    dataset = make_test_dataset(splits.test, 256, bucketing=True, padding=run.config.data.padding)
    labels, evaluated = predict_dataset(run.model, dataset)
    predicted = run.predict(tiny_test_texts(tiny_corpus))
    np.testing.assert_allclose(np.sort(evaluated), np.sort(predicted), atol=1e-6)
    evaluation = run.evaluate()
    assert evaluation["loss"] == pytest.approx(classification_metrics(splits.test.y, predicted)["loss"], abs=1e-6)
    assert evaluation["examples"] == len(predicted) == 40


def test_record_evaluation_extends_metrics_json_and_draws_the_plots(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps({"test_accuracy": 0.9, "written_by": {"someone": "else"}}))
    record_evaluation(tmp_path, LABELS, PROBABILITIES)
    record_evaluation(tmp_path, LABELS, PROBABILITIES, threshold=0.3)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] == 0.9 and metrics["written_by"] == {"someone": "else"}
    assert metrics["evaluation"] == classification_metrics(LABELS, PROBABILITIES)
    assert metrics["evaluation_at_thresholds"] == {"0.3": classification_metrics(LABELS, PROBABILITIES, 0.3)}
    for plot in ("confusion_matrix.png", "confusion_matrix_0.3.png", "roc_curve.png"):
        assert (tmp_path / plot).read_bytes()[:8] == PNG


def test_training_evaluates_its_best_model_on_the_test_set(tiny_run: Path) -> None:
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    evaluation = metrics["evaluation"]
    assert evaluation["examples"] == metrics["examples"]["test"] == 40
    assert evaluation["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert evaluation["loss"] == pytest.approx(metrics["test_loss"], rel=1e-4)
    assert sum(evaluation["confusion_matrix"].values()) == 40 and evaluation["roc_auc"] > 0.9
    for plot in ("confusion_matrix.png", "roc_curve.png"):
        assert (tiny_run / plot).read_bytes()[:8] == PNG


def test_evaluate_command_reloads_the_run_and_its_test_set(tiny_run: Path, tmp_path: Path, capsys) -> None:
    run = Path(shutil.copytree(tiny_run, tmp_path / tiny_run.name))
    trained = json.loads((run / "metrics.json").read_text())
    (run / "confusion_matrix.png").unlink()

    assert run_command("evaluate", [str(run)]) == 0
    out = capsys.readouterr().out
    assert "Test set: 40 reviews" in out and "roc_auc" in out and "actual positive" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert {key: value for key, value in metrics.items() if key != "evaluation"} == {
        key: value for key, value in trained.items() if key != "evaluation"
    }
    assert metrics["evaluation"]["confusion_matrix"] == trained["evaluation"]["confusion_matrix"]
    assert metrics["evaluation"]["loss"] == pytest.approx(trained["evaluation"]["loss"], rel=1e-5)
    assert (run / "confusion_matrix.png").is_file()

    assert run_command("evaluate", [str(run), "--threshold", "0.9"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["evaluation_at_thresholds"]["0.9"]["threshold"] == 0.9
    assert metrics["evaluation"]["threshold"] == 0.5 and (run / "confusion_matrix_0.9.png").is_file()
    assert "positive when P(positive) > 0.9" in capsys.readouterr().out


def without_model(run: Path) -> Path:
    (run / "model.keras").unlink()
    return run


def with_broken_model(run: Path) -> Path:
    (run / "model.keras").write_bytes(b"not a zip file")
    return run


@pytest.mark.parametrize(
    "make, words",
    [
        (
            lambda run: run / "missing",
            "not a run folder: expected a folder with config.yaml and model.keras, "
            "received a path that does not exist.",
        ),
        (lambda run: run / "metrics.json", "received a file."),
        (without_model, "received a folder without model.keras."),
        (with_broken_model, "model.keras: cannot load the model: expected a Keras model file"),
    ],
    ids=["missing", "file", "no-model", "broken-model"],
)
def test_evaluate_errors_are_one_line(make, words: str, tiny_run: Path, tmp_path: Path, capsys) -> None:
    run = Path(shutil.copytree(tiny_run, tmp_path / tiny_run.name))
    assert run_command("evaluate", [str(make(run))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("imdb-rnn evaluate: error: ") and err.count("\n") == 1 and words in err, err


@pytest.mark.parametrize("value", ["1.5", "0", "half"])
def test_threshold_must_be_between_0_and_1(value: str, tiny_run: Path, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        run_command("evaluate", [str(tiny_run), "--threshold", value])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and err.count("\n") == 1
    assert f"argument --threshold: expected a number in (0, 1), received '{value}'" in err
