"""Explanations: integrated gradients add up, credit the word that decides, read a review as predict does, for
every kind of model; `imdb-rnn explain` prints, writes a page and a PNG, never overwrites, fails in one line."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from conftest import NEGATIVE_WORDS, NEUTRAL_WORDS, POSITIVE_WORDS, RARE_WORDS, run_command, tiny_test_texts
from imdb_rnn import load_run
from imdb_rnn.cli import explain as explain_command
from imdb_rnn.errors import InputError, UserError
from imdb_rnn.evaluation.attribution import attribute, integrated_gradients
from imdb_rnn.evaluation.explain import explain, word_columns
from imdb_rnn.models import build_model
from imdb_rnn.models.ensemble import build_ensemble
from imdb_rnn.models.linear import NaiveBayesLogits

PNG = b"\x89PNG\r\n\x1a\n"


def review(*cues: str, seed: int = 0) -> str:
    """Neutral words of the tiny corpus with `cues` among them."""
    rng = np.random.default_rng(seed)
    words = list(rng.choice(NEUTRAL_WORDS, size=6))
    for position, cue in zip((1, 4, 6), cues):
        words.insert(position, cue)
    return " ".join(words).capitalize() + "."


@pytest.fixture(scope="module")
def tiny(tiny_run: Path):
    return load_run(tiny_run)


# The integral ------------------------------------------------------------------------------------


def test_trapezoid_error_is_within_its_bound_for_a_sigmoid_of_a_line() -> None:
    # f(x) = sigmoid(w . x): along the path g(a) = sigmoid(c + a s); the sum of the attributions is the
    # trapezoid rule's integral of g', whose error is at most max|g'''| / (12 steps^2).
    rng = np.random.default_rng(1)
    w, x = rng.normal(size=8), rng.normal(size=8)

    def gradient(path):
        values = 1 / (1 + np.exp(-path @ w))
        return values, (values * (1 - values))[:, None] * w[None]

    s = float(w @ x)
    alphas = np.linspace(0, 1, 10_001)
    g = 1 / (1 + np.exp(-alphas * s))
    third = np.abs(s**3 * g * (1 - g) * (1 - 6 * g + 6 * g**2)).max()  # sigmoid''' = g(1-g)(1-6g+6g^2)
    for steps in (4, 16, 50):
        attributions, at_x, at_baseline = integrated_gradients(gradient, x, np.zeros(8), steps)
        assert at_x == pytest.approx(1 / (1 + np.exp(-s))) and at_baseline == pytest.approx(0.5)
        assert abs(attributions.sum() - (at_x - at_baseline)) <= third / (12 * steps**2) + 1e-7
    assert abs(attributions.sum() - (at_x - at_baseline)) > 0 or third == 0  # a real integral, not exact by design


# Every kind of model -------------------------------------------------------------------------------


def _randomised(model: keras.Model, seed: int) -> keras.Model:
    """`model` with weights drawn so that its probabilities are far from 0.5 (untrained ones are not)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in model.get_weights()])
    # the cnn's bag regions embed each word as a region's weights: drawn as a convolution's kernel is
    bag = any(layer.__class__.__name__ == "MaskedRegionSum" for layer in model.layers)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Embedding):
            scale = 0.3 if bag and layer.name == "embedding" else 1.0
            layer.embeddings.assign(rng.normal(0, scale, layer.embeddings.shape))
        if layer.name in ("positive", "classes") and isinstance(layer, keras.layers.Dense):  # the output layer
            layer.kernel.assign(rng.normal(0, 2.0, layer.kernel.shape))
    for layer in model.layers:
        if isinstance(layer, NaiveBayesLogits):
            layer.ratios.assign(rng.normal(0, 1, layer.ratios.shape))
    return model


SMALL = {"embedding_dim": 8, "units": 8}
ARCHITECTURES = [
    ("lstm", {**SMALL, "pooling": "max_average"}),
    ("lstm", {**SMALL, "mask_zero": True, "pooling": "max"}),
    ("gru", {**SMALL, "pooling": "concat"}),
    ("simple_rnn", SMALL),
    ("stacked", {**SMALL, "num_layers": 2}),
    ("bidirectional", {**SMALL, "pooling": "concat", "mask_zero": True}),
    ("dropout", SMALL),
    ("cnn_lstm", {**SMALL, "filters": 8, "kernel_size": 3, "pool_size": 2}),
    ("cnn", {"embedding_dim": 8, "filters": 8, "pooling": "max_average"}),
    ("cnn", {"embedding_dim": 8, "filters": 8, "region_units": 4, "region_size": 3}),  # two embeddings
    ("cnn", {"embedding_dim": 8, "filters": 6, "regions": "bag"}),  # each word a region's weights
    ("bag_of_ngrams", {"embedding_dim": 8, "bigram_buckets": 64}),
    ("nbsvm", {"order": 3, "buckets": 64}),
]
TOKENS = np.array([0, 0, 1, 5, 9, 2, 14, 7, 7, 11, 3, 6], dtype=np.int32)  # pre-padded, start token, OOV (2)


@pytest.mark.parametrize(
    ("architecture", "params"), ARCHITECTURES, ids=[f"{a}-{i}" for i, (a, _) in enumerate(ARCHITECTURES)]
)
def test_every_architecture_adds_up_and_credits_words_only(architecture: str, params: dict) -> None:
    model = _randomised(build_model(architecture, params, vocab_size=20, num_classes=2), seed=len(architecture))
    attribution = attribute(model, TOKENS, steps=300)
    probability = float(model.predict_on_batch(TOKENS[None]).reshape(-1)[0])
    assert attribution.probabilities[1] == pytest.approx(probability, abs=1e-6)
    assert attribution.class_index == int(probability > 0.5)
    difference = attribution.probabilities[attribution.class_index] - attribution.baseline_probability
    assert abs(difference) > 0.01  # something to explain
    # Where max pooling switches steps the integrand jumps, and the trapezoid rule's error is then of the
    # order of a jump / steps, not 1 / steps^2: at 300 steps well under 1% of the change (measured: 0.26% at most)
    assert attribution.contributions.sum() == pytest.approx(difference, abs=0.01 * abs(difference))
    assert np.all(attribution.contributions[TOKENS < 2] == 0)  # padding and the start token are not words
    assert np.count_nonzero(attribution.contributions[TOKENS >= 2]) >= 5


def test_a_cnn_with_a_region_embedding_is_explained_over_both_embeddings() -> None:
    # The baseline zeroes each word in the cnn's own embedding and in its region embedding's alike.
    params = {"embedding_dim": 8, "filters": 8, "region_units": 4, "region_size": 3}
    model = _randomised(build_model("cnn", params, vocab_size=20, num_classes=2), seed=9)
    attribution = attribute(model, TOKENS, steps=50)
    words = np.unique(TOKENS[TOKENS >= 2])
    for name in ("embedding", "region_words"):
        (weights,) = model.get_layer(name).get_weights()
        weights[words] = 0.0
        model.get_layer(name).set_weights([weights])
    positive = float(model.predict_on_batch(TOKENS[None]).reshape(-1)[0])
    expected = positive if attribution.class_index == 1 else 1 - positive
    assert attribution.baseline_probability == pytest.approx(expected, abs=1e-5)


def test_a_three_class_model_is_explained_toward_its_most_probable_class() -> None:
    model = _randomised(build_model("gru", {}, vocab_size=20, num_classes=3), seed=3)
    attribution = attribute(model, TOKENS, steps=300)
    probabilities = model.predict_on_batch(TOKENS[None])[0]
    assert attribution.class_index == int(np.argmax(probabilities))
    difference = float(probabilities.max()) - attribution.baseline_probability
    assert abs(difference) > 0.01
    assert attribution.contributions.sum() == pytest.approx(difference, abs=0.01 * abs(difference))


def test_an_ensemble_is_its_members_attributions_weighted() -> None:
    lstm = _randomised(build_model("lstm", {}, vocab_size=20), seed=4)
    nbsvm = _randomised(build_model("nbsvm", {"buckets": 64}, vocab_size=12), seed=5)
    members = [
        (lstm, {"num_words": 20, "maxlen": 12, "padding": "pre", "truncating": "pre", "bucketing": True}),
        (nbsvm, {"num_words": 12, "maxlen": 6, "padding": "post", "truncating": "pre", "bucketing": False}),
    ]
    ensemble = build_ensemble(members, [0.3, 0.7])
    attribution = attribute(ensemble, TOKENS, steps=300)
    # by hand: each member on its own input (the lstm's: the same 12 columns; NBSVM's: the last 6 tokens, ids
    # from 12 on as OOV), credited back to the ensemble's positions, toward the ensemble's class
    own_lstm = attribute(lstm, TOKENS, steps=300)
    own_nbsvm = attribute(nbsvm, np.array([2, 7, 7, 11, 3, 6], dtype=np.int32), steps=300)
    expected = np.zeros(len(TOKENS))
    sign_lstm = 1 if own_lstm.class_index == attribution.class_index else -1
    sign_nbsvm = 1 if own_nbsvm.class_index == attribution.class_index else -1
    expected += 0.3 * sign_lstm * own_lstm.contributions
    expected[-6:] += 0.7 * sign_nbsvm * own_nbsvm.contributions
    np.testing.assert_allclose(attribution.contributions, expected, atol=1e-6)
    difference = attribution.probabilities[attribution.class_index] - attribution.baseline_probability
    assert attribution.contributions.sum() == pytest.approx(difference, abs=0.01 * abs(difference))


# A trained run ---------------------------------------------------------------------------------------


def test_contributions_add_up_to_the_change_in_probability(tiny, tiny_corpus: Path) -> None:
    # The trained lstm pools with max and average: its integrand jumps where the max changes step, so the
    # trapezoid rule's error falls as 1 / steps (measured at most 1.9e-3 at 50 steps, 3.8e-4 at 300); allowed:
    # 0.25 / steps, a jump of the integrand as large as half the probability.
    texts = tiny_test_texts(tiny_corpus)[10:30]  # 10 of each class
    for steps in (50, 400):
        for explanation in explain(tiny, texts, steps=steps):
            change = explanation.probability - explanation.baseline_probability
            assert sum(explanation.contributions) == pytest.approx(change, abs=0.25 / steps)


@pytest.mark.parametrize("cue", POSITIVE_WORDS + NEGATIVE_WORDS)
def test_the_word_that_decides_has_the_largest_contribution(tiny, cue: str) -> None:
    [explanation] = explain(tiny, [review(cue)])
    assert explanation.label == ("positive" if cue in POSITIVE_WORDS else "negative")
    contributions = np.asarray(explanation.contributions)
    assert explanation.words[int(np.argmax(contributions))] == cue
    assert (
        contributions.max() > 0 and contributions.max() > 2 * np.delete(contributions, np.argmax(contributions)).max()
    )


def test_a_cue_of_the_other_class_counts_against_the_label(tiny) -> None:
    [explanation] = explain(tiny, [review("wonderful", "superb", "dull")])
    assert explanation.label == "positive"
    assert explanation.contributions[explanation.words.index("dull")] < 0


def test_probability_is_predicts_with_and_without_bucketing(tiny, tmp_path: Path) -> None:
    texts = [review("wonderful"), review("awful", "boring"), " ".join(NEUTRAL_WORDS * 3) + " loved it"]  # the last: cut
    padded = Path(shutil.copytree(tiny.folder, tmp_path / "padded"))
    config = yaml.safe_load((padded / "config.yaml").read_text())
    assert config["data"]["bucketing"] is True
    config["data"]["bucketing"] = False  # the same model, read maxlen wide as a run without bucketing reads it
    (padded / "config.yaml").write_text(yaml.safe_dump(config))
    for run in (tiny, load_run(padded)):
        explanations = explain(run, texts, steps=8)
        predicted = run.predict(texts)
        explained = [explanation.probabilities["positive"] for explanation in explanations]
        np.testing.assert_allclose(explained, predicted, atol=1e-5)
        for explanation in explanations:
            assert explanation.probability == max(explanation.probabilities.values())
            assert explanation.label == max(explanation.probabilities, key=explanation.probabilities.get)


def test_every_word_is_shown_and_those_not_read_get_nothing(tiny) -> None:
    maxlen = tiny.config.data.maxlen  # 16: the start token and the last 15 words (truncating: pre)
    words = ["Zyzzyva"] + [NEUTRAL_WORDS[i % 12] for i in range(20)] + [RARE_WORDS[0], "loved", "qwxz", "it"]
    [explanation] = explain(tiny, [" ".join(words)])
    assert explanation.words == tuple(word.lower() for word in words)
    read = np.asarray(explanation.read)
    known = np.array([word not in ("zyzzyva", "qwxz") for word in explanation.words])  # absent from the word index
    assert np.count_nonzero(read) == maxlen and not read[~known].any()  # the last 16 known words: no start token
    assert read[-5:].tolist() == [True, True, True, False, True]  # the last known words; the rare one read as OOV
    assert np.all(np.asarray(explanation.contributions)[~read] == 0)
    assert explanation.contributions[words.index(RARE_WORDS[0])] != 0

    # each read word's column holds its id
    row = tiny.encode([" ".join(words)])[0]
    tokens = row[row > 0]
    _, columns = word_columns(tiny, " ".join(words), len(tokens))
    ids = tiny.vocabulary.word_ids()
    assert [int(tokens[c]) for c in columns[read]] == [ids[w] for w, r in zip(explanation.words, read) if r]


def test_an_empty_review_is_refused_unless_allowed(tiny) -> None:
    with pytest.raises(InputError, match="text 1 has no words"):
        explain(tiny, ["..."])
    [explanation] = explain(tiny, [""], allow_empty=True)
    assert explanation.words == () and explanation.contributions == ()
    assert explanation.probabilities["positive"] == pytest.approx(
        float(tiny.predict([""], allow_empty=True)[0]), abs=1e-5
    )
    assert json.loads(json.dumps(explanation.to_json()))["probability"] == explanation.probability


def test_other_backends_are_refused_in_one_line(tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(UserError, match="expected KERAS_BACKEND=tensorflow, received jax") as error:
        explain(tiny, ["wonderful"])
    assert "\n" not in str(error.value)


# The command -----------------------------------------------------------------------------------------


def test_explain_command_prints_words_with_signed_numbers_and_writes_a_page_and_a_png(
    tiny, tmp_path: Path, capsys
) -> None:
    page, image = tmp_path / "why.html", tmp_path / "why.png"
    text = review("brilliant") + " <b>Qwxz</b>"
    assert run_command("explain", [str(tiny.folder), text, "--html", str(page), "--png", str(image)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("positive 0.") and "brilliant(+0." in out and "[qwxz]" in out and "\x1b[" not in out
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and ">brilliant</span>" in html and "&lt;b&gt;Qwxz" in html
    assert "<script" not in html and "http" not in html  # self-contained
    assert image.read_bytes()[:8] == PNG


def test_explain_command_colours_a_terminal_unless_no_color(tiny, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert explain_command.colour_wanted(Terminal()) and not explain_command.colour_wanted(sys.stdout)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not explain_command.colour_wanted(Terminal())

    monkeypatch.setattr(explain_command, "colour_wanted", lambda stream: True)
    assert run_command("explain", [str(tiny.folder), review("awful")]) == 0
    out = capsys.readouterr().out
    assert "\x1b[30;48;5;" in out and "awful" in out and "(+" not in out


def test_explain_command_json(tiny, capsys) -> None:
    assert run_command("explain", [str(tiny.folder), review("superb"), review("dull"), "--json", "--steps", "10"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [result["label"] for result in results] == ["positive", "negative"]
    assert set(results[0]) == {
        "text",
        "words",
        "contributions",
        "read",
        "label",
        "probability",
        "probabilities",
        "baseline_probability",
    }


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["RUN", "fine", "--html", "EXISTING"], "already exists: expected a new file"),
        (["RUN", "fine", "--png", "EXISTING"], "already exists: expected a new file"),
        (["RUN", "fine", "--png", "MISSING/why.png"], "no such folder"),
        (["NOT_A_RUN", "fine"], "not a run folder"),
        (["RUN", "..."], "text 1 has no words"),
        (["RUN", "fine", "--steps", "0"], "expected an integer >= 1"),
        (["RUN"], "no reviews"),
    ],
)
def test_explain_command_errors_are_one_line_and_exit_2(
    arguments: list[str], expected: str, tiny, tmp_path: Path, capsys
) -> None:
    existing = tmp_path / "existing.html"
    existing.write_text("keep me")
    names = {"RUN": str(tiny.folder), "EXISTING": str(existing), "NOT_A_RUN": str(tmp_path)}
    argv = [names.get(argument, argument.replace("MISSING", str(tmp_path / "missing"))) for argument in arguments]
    try:
        code = run_command("explain", argv)
    except SystemExit as usage_error:  # argparse's: a bad --steps, no reviews
        code = usage_error.code
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("imdb-rnn explain: error: ") and error.count("\n") == 1, error
    assert expected in error and "Traceback" not in error
    assert existing.read_text() == "keep me"
