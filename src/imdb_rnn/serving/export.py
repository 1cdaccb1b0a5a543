"""`export_run`: a run folder → a TensorFlow SavedModel whose serving signature reads raw strings.

    from imdb_rnn.serving import export_run
    export_run("outputs/lstm-20261122-023703")      # → outputs/lstm-20261122-023703/export/

    # anywhere with TensorFlow, without this package:
    served = tf.saved_model.load("outputs/lstm-20261122-023703/export")
    served.serve(tf.constant(["A wonderful surprise.", "Two hours I will never get back."]))
    # {"probabilities": (2, classes) float32, "labels": (2,) string}

The signature (`serve`, also `serving_default` for TensorFlow Serving) takes a batch of strings `(n,)`
and encodes them as training encoded its reviews (`imdb_rnn.serving.tokenizer` in the graph, then the
run's `vocabulary.json`: words → ids, OOV for the words the index ranks past `num_words`, words it does
not know dropped, start token, truncation, padding). A run trained with length
bucketing reads each text without padding, as `Run.predict` does, so the two agree; a run trained on
`maxlen`-wide batches reads them padded to `maxlen`. `probabilities` has one column per class (for
two classes `[1 - p, p]`), `labels` is the class of each text (two classes: the second when p > 0.5).
A text with no words is read as the start token alone, as `Run.predict(..., allow_empty=True)`.
`assets.extra/imdb_rnn.json` beside the graph names the classes, the run and `maxlen` (for
`imdb-rnn serve`). A second signature, `encode`, gives the ids the model reads: `{"ids": (n, longest) int32, zeros after
each text's ids, "lengths": (n,) int32}`, truncated to `maxlen`, before any padding of the model's.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import keras
import tensorflow as tf

from imdb_rnn.data import text
from imdb_rnn.errors import ImdbRnnWarning, RunError
from imdb_rnn.files import write_json
from imdb_rnn.runs.run import load_run
from imdb_rnn.serving import tokenizer

EXPORT_FOLDER = "export"
DESCRIPTION_FILE = "assets.extra/imdb_rnn.json"  # the class names, the run's name and maxlen
DROPPED = -1  # the lookup of a word absent from the word index: dropped, as `text.encode` drops it


def export_run(run: str | Path, out: str | Path | None = None) -> Path:
    """Writes the SavedModel of `run` (its best model) to `out` (default `<run>/export`) and returns it.

    `out` must not exist yet: nothing already written is replaced. Export from a process that sees no GPU
    (`imdb-rnn export` hides them), so that a run trained with cuDNN kernels serves on a CPU."""
    loaded = load_run(run)
    out = Path(out) if out is not None else loaded.folder / EXPORT_FOLDER
    if out.exists():
        raise RunError(f"{out}: the export folder exists: expected a new folder, received an existing one.")
    if tf.config.list_logical_devices("GPU"):
        warnings.warn(
            "exporting from a process that sees a GPU: the SavedModel may hold cuDNN kernels that do not run "
            "on a CPU (imdb-rnn export hides the GPUs).",
            ImdbRnnWarning,
            stacklevel=2,
        )
    vocabulary, data = loaded.vocabulary, loaded.config.data
    known = vocabulary.word_ids()
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(known), tf.string), tf.constant(list(known.values()), tf.int64)
        ),
        default_value=DROPPED if vocabulary.rare_words is not None else text.OOV,  # None: a run of text encoding 1
    )
    model, classes = loaded.model, tf.constant(list(vocabulary.classes))
    count = len(vocabulary.classes)

    def ids(texts: tf.Tensor) -> tf.RaggedTensor:  # `text.encode` and truncation: ragged (n, None) int32
        tokens = tf.cast(table.lookup(tokenizer.tokenize(texts)), tf.int32)
        tokens = tf.ragged.boolean_mask(tokens, tokens != DROPPED)  # words the word index does not know
        starts = tf.fill([tokens.nrows(), 1], text.START)
        tokens = tf.concat([tf.RaggedTensor.from_tensor(starts), tokens], axis=1)
        return tokens[:, -data.maxlen :] if data.truncating == "pre" else tokens[:, : data.maxlen]

    def encode(texts: tf.Tensor) -> dict[str, tf.Tensor]:
        tokens = ids(texts)
        return {"ids": tokens.to_tensor(default_value=0), "lengths": tf.cast(tokens.row_lengths(), tf.int32)}

    def serve(texts: tf.Tensor) -> dict[str, tf.Tensor]:
        tokens = ids(texts)
        if data.bucketing:
            probabilities = tf.map_fn(
                lambda row: tf.reshape(model(row[None], training=False), [-1]),
                tokens,
                fn_output_signature=tf.TensorSpec([1 if count == 2 else count], tf.float32),
            )
        else:
            probabilities = model(_pad(tokens, data.maxlen, data.padding), training=False)
        probabilities = tf.cast(probabilities, tf.float32)
        if count == 2:
            probabilities = tf.concat([1 - probabilities, probabilities], axis=1)
        return {"probabilities": probabilities, "labels": tf.gather(classes, tf.argmax(probabilities, axis=1))}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(table)
    signature = [tf.TensorSpec([None], tf.string, name="texts")]
    archive.add_endpoint("serve", serve, input_signature=signature)
    archive.add_endpoint("encode", encode, input_signature=signature)
    archive.write_out(str(out), verbose=False)
    # Beside the graph, not in it (TensorFlow Serving's place for a library's own files): what
    # `imdb-rnn serve` names the classes and the model by.
    (out / DESCRIPTION_FILE).parent.mkdir(exist_ok=True)
    write_json(out / DESCRIPTION_FILE, {"classes": list(vocabulary.classes), "run": loaded.name, "maxlen": data.maxlen})
    return out


def _pad(tokens: tf.RaggedTensor, maxlen: int, padding: str) -> tf.Tensor:
    """Ragged ids → `(n, maxlen)` with zeros after them (`post`) or before them (`pre`), as `pad_sequences`."""
    dense = tokens.to_tensor(default_value=0, shape=[None, maxlen])
    if padding == "post":
        return dense
    shift = maxlen - tf.cast(tokens.row_lengths(), tf.int32)[:, None]  # zeros before each row
    source = tf.range(maxlen)[None, :] - shift
    shifted = tf.gather(dense, tf.maximum(source, 0), batch_dims=1)
    return tf.where(source >= 0, shifted, tf.zeros_like(shifted))
