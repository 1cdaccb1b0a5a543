"""The language-model pretraining (issue 12, item 3): a run like any other (history, plots, status,
`--resume`), read only from training and unlabeled reviews, whose embedding and recurrent layers start
the recurrent classifiers; gradual unfreezing and the slanted triangular schedule. Tiny corpora, seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_NUM_WORDS, TINY_OVERRIDES, run_command
from imdb_rnn.config import load_config
from imdb_rnn.config.pretraining import load_pretrain_config
from imdb_rnn.errors import ConfigError
from imdb_rnn.files import read_json
from imdb_rnn.pretraining.runs import pretrain

TINY_LANGUAGE_MODEL = [
    f"corpus.num_words={TINY_NUM_WORDS}",
    "language_model.embedding_dim=8",
    "language_model.units=16",
    "language_model.sequence_length=8",
    "language_model.batch_size=16",
    "language_model.epochs=2",
    "language_model.validation_share=0.1",
]


@pytest.fixture(scope="module")
def tiny_language_model(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A language model of `tiny_corpus` that fits the tiny lstm classifier (8 dimensions, 16 units)."""
    config = load_pretrain_config("language_model", [f"corpus.path={tiny_corpus}", *TINY_LANGUAGE_MODEL])
    folder, _ = pretrain(config, tmp_path_factory.mktemp("language-model"), out=str)
    return folder


def test_the_language_model_is_a_run_with_history_plots_and_figures(tiny_language_model: Path) -> None:
    for name in ("config.yaml", "status.json", "history.csv", "model.keras", "vectors.npz", "accuracy.png", "loss.png"):
        assert (tiny_language_model / name).is_file(), name
    metrics = read_json(tiny_language_model / "metrics.json")
    assert metrics["method"] == "language_model" and metrics["epochs_run"] == 2
    assert metrics["corpus"]["reviews"] == 160  # the training reviews of the tiny corpus, no test review
    assert metrics["validation_perplexity"] == pytest.approx(np.exp(metrics["validation_loss"]), rel=1e-3)
    assert read_json(tiny_language_model / "status.json")["state"] == "completed"


def test_the_language_model_reads_no_test_review(tmp_path: Path) -> None:
    from imdb_rnn.config.pretraining import CorpusConfig
    from imdb_rnn.pretraining.language_model import corpus_ids
    from test_word_vectors import SENTINEL, sentinel_corpus

    corpus = sentinel_corpus(tmp_path / "data")
    ids, reviews = corpus_ids(corpus / "aclImdb", corpus / "imdb_word_index.json", CorpusConfig(num_words=40), out=str)
    sentinel_id = 2 + 3  # its rank in the sentinel corpus's word index, + 3
    assert reviews == 20 * 2 + 10 and len(ids) > reviews
    assert sentinel_id not in set(ids.tolist()), f"{SENTINEL} of the test reviews reached the language model"


def interrupted_pretraining_resumes(
    name: str, overrides: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> Path:
    """Stops `imdb-rnn pretrain --config name` (two epochs) as its second epoch begins, resumes it, and
    checks each epoch ran once; returns the folder."""
    from imdb_rnn.training.callbacks import EpochTimer

    real = EpochTimer.on_epoch_begin

    def stop_at_second_epoch(self, epoch: int, logs=None) -> None:
        if epoch == 1:
            raise KeyboardInterrupt
        real(self, epoch, logs)

    monkeypatch.setattr(EpochTimer, "on_epoch_begin", stop_at_second_epoch)
    argv = ["--config", name, "--output-dir", str(tmp_path)]
    argv += [item for key in overrides for item in ("--set", key)]
    assert run_command("pretrain", argv) == 130
    (folder,) = (tmp_path / "pretrain").iterdir()
    assert read_json(folder / "status.json")["state"] == "interrupted"
    assert f"--resume {folder}" in capsys.readouterr().err
    monkeypatch.setattr(EpochTimer, "on_epoch_begin", real)
    assert run_command("pretrain", ["--resume", str(folder)]) == 0
    history = (folder / "history.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2"]  # each epoch once
    assert read_json(folder / "status.json")["state"] == "completed"
    return folder


def test_an_interrupted_language_model_resumes_from_its_last_epoch(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    overrides = [f"corpus.path={tiny_corpus}", *TINY_LANGUAGE_MODEL]
    assert (
        interrupted_pretraining_resumes("language_model", overrides, tmp_path, monkeypatch, capsys) / "model.keras"
    ).is_file()


def classifier_start(
    tiny_corpus: Path, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, extra: list[str]
) -> tuple[dict[int, dict[str, list]], Path]:
    """Trains the tiny `config` from `folder`; returns, per epoch, each layer's weights and trainable flag
    as the epoch began (after any unfreezing)."""
    from imdb_rnn.training.callbacks import EpochTimer
    from imdb_rnn.training.recipe import train

    seen: dict[int, dict[str, list]] = {}
    real = EpochTimer.on_epoch_begin

    def record(self, epoch: int, logs=None) -> None:
        seen[epoch] = {layer.name: (layer.trainable, layer.get_weights()) for layer in self.model.layers}
        real(self, epoch, logs)

    monkeypatch.setattr(EpochTimer, "on_epoch_begin", record)
    overrides = [*TINY_OVERRIDES, f"data.path={tiny_corpus}", f"model.pretrained={folder}", *extra]
    return seen, train(load_config(config, overrides), tmp_path, verbose=0)


@pytest.mark.parametrize("config", ["lstm", "dropout", "bidirectional", "stacked"])
def test_the_recurrent_classifiers_start_from_the_language_model(
    config: str, tiny_corpus: Path, tiny_language_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    from imdb_rnn.models import encoder_layers

    extra = ["train.epochs=1", "model.cell=lstm"] if config != "lstm" else ["train.epochs=1"]
    seen, _ = classifier_start(tiny_corpus, tiny_language_model, tmp_path, monkeypatch, config, extra)
    language_model = keras.models.load_model(tiny_language_model / "model.keras", compile=False)
    (embedding,) = seen[0]["embedding"][1]
    np.testing.assert_array_equal(embedding, language_model.get_layer("embedding").get_weights()[0])
    encoder = language_model.get_layer("encoder_0").get_weights()
    recurrent = [weights for name, (_, weights) in seen[0].items() if name not in ("embedding", "tokens") and weights]
    first = recurrent[0][: len(encoder)]  # a bidirectional layer lists its forward half first
    for got, expected in zip(first, encoder):
        np.testing.assert_array_equal(got, expected)
    assert encoder_layers(language_model)  # the layers a classifier reads are found by the same rule


def test_gradual_unfreezing_thaws_the_top_pretrained_layer_first(
    tiny_corpus: Path, tiny_language_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = [
        "model.pretrained_trainable=false",
        "model.unfreeze_after=1",
        "model.gradual_unfreezing=true",
        "train.epochs=3",
    ]
    seen, run = classifier_start(tiny_corpus, tiny_language_model, tmp_path, monkeypatch, "lstm", extra)
    recurrent = next(name for name in seen[0] if name.startswith("lstm"))
    flags = [(seen[epoch]["embedding"][0], seen[epoch][recurrent][0]) for epoch in range(3)]
    assert flags == [(False, False), (False, True), (True, True)]  # frozen; the LSTM; then the embedding too
    np.testing.assert_array_equal(seen[1]["embedding"][1][0], seen[0]["embedding"][1][0])  # frozen in epoch 1
    assert np.allclose(seen[2]["embedding"][1][0], seen[1]["embedding"][1][0]) is not False  # still frozen in 2
    assert read_json(run / "metrics.json")["epochs_run"] == 3


@pytest.mark.parametrize(
    ("config", "extra", "message"),
    [
        ("gru", [], r"expected a recurrent classifier .* with cell lstm and model.units=16, received architecture gru"),
        ("cnn_lstm", [], r"received architecture cnn_lstm \(no recurrent layer on the embedding\)"),
        ("lstm", ["model.units=32"], r"with cell lstm and model.units=16, received .*units=32"),
    ],
)
def test_a_classifier_that_cannot_take_the_encoder_is_refused(
    config: str, extra: list[str], message: str, tiny_language_model: Path
) -> None:
    overrides = [
        "model.embedding_dim=8",
        "model.units=16",
        "data.num_words=20",
        f"model.pretrained={tiny_language_model}",
    ]
    with pytest.raises(ConfigError, match=message):
        load_config(config, [*overrides, *extra])


def test_the_slanted_triangular_schedule_rises_then_falls() -> None:
    from imdb_rnn.training.schedules import SlantedTriangular

    schedule = SlantedTriangular(peak=0.01, total_steps=100, warmup=0.1, ratio=32)
    rates = [float(schedule(step)) for step in range(101)]
    assert rates[0] == pytest.approx(0.01 / 32)
    assert rates[10] == pytest.approx(0.01) and max(rates) == pytest.approx(0.01)
    assert all(a < b for a, b in zip(rates[:10], rates[1:11]))  # rising for the first tenth
    assert all(a > b for a, b in zip(rates[10:100], rates[11:101]))  # then falling
    assert rates[100] == pytest.approx(0.01 / 32)
    assert SlantedTriangular.from_config(schedule.get_config()).get_config() == schedule.get_config()


def test_a_run_with_the_slanted_schedule_trains_and_loads(tiny_run: Path, tiny_corpus: Path, tmp_path: Path) -> None:
    from imdb_rnn.runs import Run
    from imdb_rnn.training.recipe import train

    overrides = [*TINY_OVERRIDES, f"data.path={tiny_corpus}", "train.schedule=slanted_triangular", "train.epochs=2"]
    run = train(load_config("lstm", overrides), tmp_path, verbose=0)
    assert read_json(run / "metrics.json")["epochs_run"] == 2
    assert Run(run).predict(["A wonderful, superb film."]).shape == (1,)


def test_warmup_without_the_slanted_schedule_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"expected train.schedule: slanted_triangular with it"):
        load_config("lstm", ["train.warmup=0.2"])


def test_frozen_pretrained_layers_stay_exactly_as_pretrained_under_the_moving_average(
    tiny_corpus: Path, tiny_language_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `train.ema` the optimizer keeps moving averages of every weight it has slots for, frozen ones
    included, and puts them in place every epoch: a frozen pretrained layer must come out as it went in."""
    extra = ["model.pretrained_trainable=false", "model.unfreeze_after=2", "train.epochs=3", "train.ema=true"]
    seen, _ = classifier_start(tiny_corpus, tiny_language_model, tmp_path, monkeypatch, "lstm", extra)
    recurrent = next(name for name in seen[0] if name.startswith("lstm"))
    for layer in ("embedding", recurrent):
        for before, after in zip(seen[0][layer][1], seen[2][layer][1]):  # the average of a constant: itself,
            np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-7)  # to float32 rounding


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_pretraining_folder_is_not_taken_for_a_classifier(command: str, tiny_language_model: Path, capsys) -> None:
    argv = [str(tiny_language_model), "A fine film."] if command == "predict" else [str(tiny_language_model)]
    assert run_command(command, argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "not a classifier run" in line and "made by imdb-rnn pretrain" in line
