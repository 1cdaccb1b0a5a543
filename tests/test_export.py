"""`imdb-rnn export`: a SavedModel that reads raw strings and agrees with `load_run(...).predict`.

The SavedModel is loaded with `tf.saved_model.load` in a separate Python process that never imports
`imdb_rnn`, and fed a few hundred texts made to trip a tokenizer: punctuation, `<br />`, apostrophes,
capitals and non-ASCII letters (capital sigmas at the ends of words; only ASCII letters are lower-cased),
Unicode whitespace and U+0085 (inside words, not between them), NUL characters, texts longer than `maxlen` and texts with no words at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_OVERRIDES, run_command, tiny_test_texts
from imdb_rnn.config import load_config
from imdb_rnn.runs import load_run
from imdb_rnn.serving import export_run
from imdb_rnn.training.recipe import train
from test_own_data import SHRUNK, star_rows, write_csv

DECORATIONS = [
    lambda t: t.upper(),
    lambda t: t.replace(" ", "<br /><br />", 2),
    lambda t: t.replace(" ", "\u00a0", 3).replace("a", "\u2003a", 1),
    lambda t: f"Don't, it's \"{t}\"... (isn't it?)",
    lambda t: f"{t} NAÏVE Über café ΣΊΣΥΦΟΣ İSTANBUL ПРИВЕТ 🙂",
    lambda t: f"Ⱟ{t}𐕰 \x1c\x85\u3000{t}",
    lambda t: t.replace(" ", "\x00", 1),
    lambda t: " ".join([t] * 12),  # longer than maxlen
    lambda t: f"ÉPATANT {t.title()} naïve ужасно-УЖАСНО",
    lambda t: f"ΟΔΥΣΣΕΥΣ {t} ΑΣ. most\x85and the\x85 ΤΕΛΟΣ",  # word-final capital sigmas, U+0085 inside words
]
NO_WORDS = ["", "   ", "!!!", "<>", "...\n\t", "\u2003\u00a0", "()[]{}"]
SERVE = """
import json, sys
import tensorflow as tf
served = tf.saved_model.load(sys.argv[1])
texts = json.load(open(sys.argv[2], encoding="utf-8"))
result = served.signatures["serving_default"](texts=tf.constant(texts))
encoded = served.encode(tf.constant(texts))
ids = [row[:length].tolist() for row, length in zip(encoded["ids"].numpy(), encoded["lengths"].numpy())]
print(json.dumps({"probabilities": result["probabilities"].numpy().tolist(), "ids": ids,
                  "labels": [label.decode() for label in result["labels"].numpy()],
                  "imported": sorted(name for name in sys.modules if name.startswith("imdb_rnn"))}))
"""


def tricky_texts(base: list[str], count: int = 300) -> list[str]:
    rng = np.random.default_rng(0)
    texts = []
    for _ in range(count - len(NO_WORDS)):
        text = str(rng.choice(base))
        for index in rng.choice(len(DECORATIONS), size=rng.integers(1, 3), replace=False):
            text = DECORATIONS[index](text)
        texts.append(text)
    return texts + NO_WORDS


def serve_elsewhere(saved_model: Path, texts: list[str], tmp_path: Path) -> dict:
    """The SavedModel's answer for `texts`, from a fresh Python process that imports only TensorFlow."""
    file = tmp_path / "texts.json"
    file.write_text(json.dumps(texts), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", SERVE, str(saved_model), str(file)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def unbucketed_run(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained on maxlen-wide batches, long reviews cut at the end: the export pads and truncates so."""
    overrides = [*TINY_OVERRIDES, f"data.path={tiny_corpus}", "data.bucketing=false", "data.truncating=post"]
    return train(load_config("gru", overrides), tmp_path_factory.mktemp("unbucketed"), verbose=0)


@pytest.fixture(scope="module")
def accented_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three classes from a CSV whose words include non-ASCII ones: épatant, ужасно, and ⱟmg, whose
    capital TensorFlow's lower-casing does not know."""
    folder = tmp_path_factory.mktemp("accented")
    cue = {"1": "ужасно", "3": "ⱟmg", "5": "épatant"}
    rows = [(f"{text} {cue[label]}", label) for text, label in star_rows(30, 0)]
    write_csv(folder / "train.csv", rows)
    overrides = [
        *SHRUNK,
        "data.source=csv",
        f"data.path={folder}",
        "data.text_column=review",
        "data.label_column=stars",
    ]
    return train(load_config("lstm", [*overrides, "data.num_words=60"]), tmp_path_factory.mktemp("runs"), verbose=0)


@pytest.mark.parametrize("which", ["tiny_run", "unbucketed_run", "accented_run"])
def test_saved_model_agrees_with_predict_on_raw_strings(which: str, request, tiny_corpus: Path, tmp_path: Path) -> None:
    folder = request.getfixturevalue(which)
    run = load_run(folder)
    vocabulary_words = [word for word in run.vocabulary.words if not word.isascii()]
    texts = tricky_texts(tiny_test_texts(tiny_corpus) + vocabulary_words)
    saved_model = export_run(folder, tmp_path / "export")
    served = serve_elsewhere(saved_model, texts, tmp_path)
    assert served["imported"] == []
    padded = run.encode(texts, allow_empty=True)
    assert served["ids"] == [row[row != 0].tolist() for row in padded]  # the very ids training would read
    probabilities = np.array(served["probabilities"])
    expected = run.predict(texts, allow_empty=True)
    expected = np.stack([1 - expected, expected], axis=1) if expected.ndim == 1 else expected
    assert probabilities.shape == (len(texts), len(run.classes))
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert served["labels"] == [run.classes[i] for i in expected.argmax(axis=1)]


def test_export_command_writes_a_new_folder_and_never_replaces_one(tiny_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "served"
    assert run_command("export", [str(tiny_run), "--out", str(out)]) == 0
    assert (out / "saved_model.pb").is_file() and str(out) in capsys.readouterr().out
    stamp = (out / "saved_model.pb").stat().st_mtime_ns
    assert run_command("export", [str(tiny_run), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "the export folder exists" in error[0]
    assert (out / "saved_model.pb").stat().st_mtime_ns == stamp


def test_export_of_a_folder_that_is_no_run_exits_2(tmp_path: Path, capsys) -> None:
    assert run_command("export", [str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "not a run folder" in error[0] and not (tmp_path / "export").exists()
