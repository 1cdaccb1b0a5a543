"""`make_ensemble`: completed run folders → a new run folder whose model averages their probabilities.

    run = make_ensemble(["outputs/lstm-20261122-023703", "outputs/gru-20261122-025255"], weighting="validation")

The members are checked first (`check_members`: completed classifier runs of the same classes, text
encoding, data, validation split and test set; each a one-line `RunError` naming the folder). The
ensemble's data is theirs with the largest vocabulary and `maxlen` (`ensemble_data`); its model
(`imdb_rnn.models.ensemble`) gives each member its own input, as that member's config encodes and cuts
a review, so the ensemble's probability of a text is the weighted mean of what each member's own
`predict` gives it. The weights are equal, or chosen on the validation reviews alone
(`imdb_rnn.evaluation.weights`); the test reviews are read once, at the end, for the test metrics, as
training does. The folder is a run folder like a trained one: `config.yaml` (`imdb_rnn.config.ensemble`),
`provenance.json`, `status.json`, `summary.txt`, `model.keras`, `vocabulary.json` (the largest member's),
`history.json` (no epochs), `metrics.json` (with `ensemble`: the weights and each member's validation
accuracy and loss), `confusion_matrix.png` and `roc_curve.png`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from imdb_rnn.config import DataConfig
from imdb_rnn.config.ensemble import ensemble_config
from imdb_rnn.data.pipeline import evaluation_batch_size, make_test_dataset
from imdb_rnn.data.splits import Split, Splits, load_splits
from imdb_rnn.data.vocabulary import VOCABULARY_FILE
from imdb_rnn.environment import versions
from imdb_rnn.errors import RunError
from imdb_rnn.evaluation.evaluate import predict_dataset, record_evaluation
from imdb_rnn.evaluation.metrics import classification_metrics
from imdb_rnn.evaluation.weights import choose_weights, mixture
from imdb_rnn.files import copy_file, write_json
from imdb_rnn.models.ensemble import build_ensemble, member_outputs
from imdb_rnn.runs import status
from imdb_rnn.runs.history import HISTORY_KEYS
from imdb_rnn.runs.run import Run
from imdb_rnn.training.members import check_members
from imdb_rnn.training.records import create_run_dir, prepare_output_dir, start_run

WEIGHTINGS = ("equal", "validation")
OBJECTIVES = ("accuracy", "log_loss")


def ensemble_data(members: Sequence[Run]) -> DataConfig:
    """The ensemble's `data` section: the first member's (they agree on the data, see `check_members`) with
    the largest `num_words` and `maxlen`, `bucketing` when any member buckets (its reviews are then read one
    length a batch, as such a member reads them), and `padding` theirs when they agree, else `pre`."""
    sections = [member.config.data for member in members]
    paddings = {data.padding for data in sections}
    return dataclasses.replace(
        sections[0],
        num_words=max(data.num_words for data in sections),
        maxlen=max(data.maxlen for data in sections),
        padding=paddings.pop() if len(paddings) == 1 else "pre",
        bucketing=any(data.bucketing for data in sections),
    )


def member_input(data: DataConfig) -> dict[str, Any]:
    """How a member reads its reviews: the `MemberInput` keywords of its `data` section."""
    return {
        "num_words": data.num_words,
        "maxlen": data.maxlen,
        "padding": data.padding,
        "truncating": data.truncating,
        "bucketing": data.bucketing,
    }


def member_predictions(
    model: keras.Model, split: Split, data: DataConfig, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Labels `(n,)` and each member's probabilities `(k, n)` (P(second class)) or `(k, n, classes)` on
    `split`, each review read as the ensemble reads it (`make_test_dataset`, as evaluation and predict do)."""
    members = member_outputs(model)
    dataset = make_test_dataset(split, evaluation_batch_size(batch_size), data.bucketing, data.padding)
    labels, outputs = [], []
    for tokens, batch_labels in dataset.as_numpy_iterator():
        predicted = [np.asarray(output, dtype=np.float32) for output in members.predict_on_batch(tokens)]
        outputs.append(np.stack([p.reshape(-1) if p.shape[-1] == 1 else p for p in predicted]))
        labels.append(np.asarray(batch_labels).reshape(-1))
    return np.concatenate(labels), np.concatenate(outputs, axis=1)


def make_ensemble(
    folders: Sequence[str | Path],
    weighting: str = "equal",
    objective: str | None = None,
    output_dir: str | Path = "outputs",
    name: str = "ensemble",
    splits: Splits | None = None,
) -> Path:
    """Makes the ensemble of the run `folders` in a new run folder `<output_dir>/<name>-<time>` and returns it.

    `weighting` `equal` (default) gives each member 1/k; `validation` chooses non-negative weights summing
    to 1 on the validation reviews, for `objective` `accuracy` (its default) or `log_loss`. `splits`
    replaces the data that the members' config describes (tests). A problem with the members or the data is
    a `UserError` before the folder is made; a failure after it, a `RunFailed` once `status.json` says so."""
    if weighting not in WEIGHTINGS:
        raise RunError(
            f"--weights: unknown weighting: expected one of {', '.join(WEIGHTINGS)}, received {weighting!r}."
        )
    if weighting == "equal" and objective is not None:
        raise RunError(
            f"--objective {objective}: the objective chooses validation weights: expected --weights validation "
            "with it, received --weights equal."
        )
    objective = (objective or "accuracy") if weighting == "validation" else None
    if objective not in (None, *OBJECTIVES):
        raise RunError(
            f"--objective: unknown objective: expected one of {', '.join(OBJECTIVES)}, received {objective!r}."
        )
    members = check_members(folders)
    data = ensemble_data(members)
    batch_size = members[0].config.train.batch_size
    prepare_output_dir(output_dir)  # fail before the data loads
    splits = splits or load_splits(data)
    _check_splits(members, splits)
    largest = max(members, key=lambda member: member.config.data.num_words)
    parts = [(member.model, member_input(member.config.data)) for member in members]
    model = build_ensemble(parts, [1 / len(members)] * len(members), data.padding, name="ensemble")

    labels, validation = member_predictions(model, splits.validation, data, batch_size)  # validation only
    weights = (
        choose_weights(validation, labels, objective)
        if weighting == "validation"
        else np.full(len(members), 1 / len(members))
    )
    weights = [float(weight) for weight in weights]
    model = build_ensemble(parts, weights, data.padding, name="ensemble")
    config = ensemble_config(
        name, data, [member.folder for member in members], weights, weighting, objective, batch_size
    )

    run = create_run_dir(output_dir, name)
    with status.tracking(run, name, backend=keras.backend.backend()):
        start_run(run, config, model)  # config.yaml, provenance.json, summary.txt
        copy_file(largest.folder / VOCABULARY_FILE, run / VOCABULARY_FILE)
        model.save(run / "model.tmp.keras")
        os.replace(run / "model.tmp.keras", run / "model.keras")
        write_json(run / "history.json", {"epoch": [], **{key: [] for key in HISTORY_KEYS}})  # trains no epoch
        chosen = classification_metrics(labels, mixture(validation, weights), classes=splits.classes)
        test_data = make_test_dataset(splits.test, evaluation_batch_size(batch_size), data.bucketing, data.padding)
        test_labels, probabilities = predict_dataset(model, test_data)  # the test reviews, once, at the end
        test = classification_metrics(test_labels, probabilities, classes=splits.classes)
        record = {
            "weighting": weighting,
            "objective": objective,
            "validation": {"accuracy": chosen["accuracy"], "loss": chosen["loss"]},
            "members": [
                _member_record(member, weight, classification_metrics(labels, predicted, classes=splits.classes))
                for member, weight, predicted in zip(members, weights, validation)
            ],
        }
        write_json(run / "metrics.json", _metrics(run, config.name, model, splits, test, chosen, record))
        record_evaluation(run, test_labels, probabilities, classes=splits.classes)
    return run


def _check_splits(members: Sequence[Run], splits: Splits) -> None:
    """The data the ensemble loaded splits as its members' did: their classes and validation size."""
    first = members[0]
    if tuple(splits.classes) != tuple(first.classes):
        raise RunError(
            f"{first.folder}: different classes: expected the classes of the data ({', '.join(splits.classes)}), "
            f"received {', '.join(first.classes)}."
        )
    for member in members:
        recorded = (member.metrics.get("examples") or {}).get("validation")
        if isinstance(recorded, int) and recorded != len(splits.validation):
            raise RunError(
                f"{member.folder}: different validation split: expected {len(splits.validation)} validation "
                f"reviews (the data its config.yaml describes, as found now), received {recorded} in its metrics.json."
            )


def _member_record(member: Run, weight: float, validation: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": str(member.folder),
        "weight": weight,
        "validation_accuracy": validation["accuracy"],
        "validation_loss": validation["loss"],
        "test_accuracy": member.number("test_accuracy"),
    }


def _metrics(
    run: Path,
    name: str,
    model: keras.Model,
    splits: Splits,
    test: dict[str, Any],
    validation: dict[str, Any],
    ensemble: dict[str, Any],
) -> dict[str, Any]:
    """`metrics.json` with the keys a trained run's has where they mean something for an ensemble."""
    metrics: dict[str, Any] = {
        "run": run.name,
        "config": name,
        "architecture": "ensemble",
        "backend": keras.backend.backend(),
        "test_accuracy": float(test["accuracy"]),
        "test_loss": float(test["loss"]),
        "best_val_accuracy": float(validation["accuracy"]),
        "epochs_run": 0,
        "parameters": int(model.count_params()),
        "examples": {"train": len(splits.train), "validation": len(splits.validation), "test": len(splits.test)},
        "data": {"source": splits.source, "location": splits.location, "classes": list(splits.classes)},
        "ensemble": ensemble,
        "versions": versions(),
    }
    if splits.held_out is not None:
        metrics["data"]["test"] = f"{splits.held_out:.0%} of the texts held out (data.test_split, seed data.seed)"
    return metrics
