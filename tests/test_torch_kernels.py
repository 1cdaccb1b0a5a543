"""PyTorch's fused CPU LSTM/GRU (imdb_rnn.models.torch_kernels) against Keras's own step-by-step layer.

The backend is chosen per process, so the torch side runs in one subprocess (`KERAS_BACKEND=torch`): for
every case it builds the same seeded model twice, switches one copy to the fused kernel, and reports the
largest difference of their outputs (every output and state) and of the gradients of a loss with respect
to the inputs and to every weight, and how many calls the fused kernel served. It also trains a small
model with the fused kernel and saves it; this process (TensorFlow) loads it and predicts the same.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import PROJECT

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch is not installed (pip install -e '.[torch]'; CI installs it)",
)

TOLERANCE = 1e-5
TORCH_SIDE = r"""
import itertools, json, random, sys
import numpy as np
import keras, torch
from imdb_rnn.models import torch_kernels

served = {"fused": 0, "fell_back": 0}

def counted(kernel):
    def call(*args, **kwargs):
        try:
            result = kernel(*args, **kwargs)
        except NotImplementedError:
            served["fell_back"] += 1
            raise
        served["fused"] += 1
        return result
    return call

torch_kernels.lstm, torch_kernels.gru = counted(torch_kernels.lstm), counted(torch_kernels.gru)
# Keras draws its initializers' seeds from Python's generator (keras.utils.set_random_seed would also seed
# TensorFlow, whose import takes seconds).
BATCH, STEPS, FEATURES, UNITS = 4, 6, 3, 5
rng = np.random.default_rng(0)
x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
time = np.arange(STEPS)
lengths = np.array([6, 2, 4, 0])
MASKS = {  # kept steps; Masking(0.0) finds them from the zeroed inputs
    "none": np.ones((BATCH, STEPS), bool),
    "left, right and empty": np.where((np.arange(BATCH) % 2 == 0)[:, None], time < lengths[:, None], time >= STEPS - lengths[:, None]),
    "gaps": (time != 2)[None].repeat(BATCH, 0),
}

def model(cell, mask, return_sequences, go_backwards, bidirectional, return_state):
    random.seed(1)
    inputs = keras.Input((None, FEATURES))
    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell](
        UNITS, return_sequences=return_sequences, go_backwards=go_backwards, return_state=return_state,
        bias_initializer="random_normal",
    )
    masked = keras.layers.Masking(0.0)(inputs) if mask != "none" else inputs
    outputs = (keras.layers.Bidirectional(layer) if bidirectional else layer)(masked)
    return keras.Model(inputs, outputs)

def outputs_and_gradients(network, inputs):
    inputs = torch.tensor(inputs, requires_grad=True)
    outputs = network(inputs)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    loss = sum((output**2).sum() + output.sum() for output in outputs)
    weights = [weight.value for weight in network.trainable_weights]
    gradients = torch.autograd.grad(loss, [inputs, *weights])
    return [output.detach().numpy() for output in outputs], [gradient.numpy() for gradient in gradients]

# (return_sequences, go_backwards, bidirectional, return_state): every way a layer reads its result
WAYS = [(True, False, False, False), (False, False, False, True), (True, True, False, False),
        (False, True, False, False), (True, False, True, True), (False, False, True, False)]
cases = {}
for cell, mask, (return_sequences, go_backwards, bidirectional, return_state) in itertools.product(["lstm", "gru"], MASKS, WAYS):
    inputs = np.where(MASKS[mask][:, :, None], x, 0.0).astype("float32")
    network = model(cell, mask, return_sequences, go_backwards, bidirectional, return_state)
    before = dict(served)
    expected, expected_gradients = outputs_and_gradients(network, inputs)  # Keras's step-by-step layer
    assert served == before, "Keras's own layer ran a fused kernel"
    switched = torch_kernels.use_fused_kernels(network)  # the same layer, the same weights: fused
    found, found_gradients = outputs_and_gradients(network, inputs)
    name = f"{cell}, mask {mask}, return_sequences {return_sequences}, go_backwards {go_backwards}, bidirectional {bidirectional}, return_state {return_state}"
    cases[name] = {
        "switched": switched,
        "fused": served["fused"] - before["fused"],
        "fell_back": served["fell_back"] - before["fell_back"],
        "outputs": max(float(np.abs(a - b).max()) for a, b in zip(expected, found, strict=True)),
        "gradients": max(float(np.abs(a - b).max()) for a, b in zip(expected_gradients, found_gradients, strict=True)),
        "gradient_count": len(found_gradients),
    }

# Stateful, with input dropout, trained three steps: against Keras's generic loop (use_cudnn=False).
stateful = {}
for cell in ("lstm", "gru"):
    trained, initial = [], None
    for fused in (False, True):
        layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell](
            UNITS, stateful=True, return_sequences=True, dropout=0.3, seed=5, use_cudnn="auto" if fused else False
        )
        network = keras.Sequential([keras.Input(batch_shape=(BATCH, STEPS, FEATURES)), layer, keras.layers.Dense(1)])
        network.compile("sgd", "mse")
        initial = network.get_weights() if initial is None else initial
        network.set_weights(initial)
        switched = torch_kernels.use_fused_kernels(network)
        for _ in range(3):
            network.train_on_batch(x, np.ones((BATCH, STEPS, 1), "float32"))
        trained.append([weight.numpy() for weight in network.weights] + [network.predict(x, verbose=0)])
    stateful[cell] = {"switched": switched, "difference": max(float(np.abs(a - b).max()) for a, b in zip(*trained))}

# Saved under torch (trained with the fused kernels), for the TensorFlow side to load.
folder = sys.argv[1]
random.seed(3)
tokens = keras.Input((None,), dtype="int32")
embedded = keras.layers.Embedding(20, 8, mask_zero=True)(tokens)
sequence = keras.layers.Bidirectional(keras.layers.GRU(6, return_sequences=True, bias_initializer="random_normal"))(embedded)
probability = keras.layers.Dense(1, activation="sigmoid")(keras.layers.LSTM(4)(sequence))
network = keras.Model(tokens, probability)
network.compile("adam", "binary_crossentropy")
switched = torch_kernels.use_fused_kernels(network)
reviews = rng.integers(1, 20, size=(8, 7))
reviews[1::2, 4:] = 0
fused_before = served["fused"]
network.fit(reviews, np.arange(8) % 2, epochs=3, verbose=0)
np.save(f"{folder}/reviews.npy", reviews)
np.save(f"{folder}/predicted.npy", network.predict(reviews, verbose=0))
network.save(f"{folder}/model.keras")
saved = {"switched": switched, "fused": served["fused"] - fused_before}
print(json.dumps({"backend": keras.backend.backend(), "cases": cases, "stateful": stateful, "saved": saved}))
"""


@pytest.fixture(scope="module")
def torch_side(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    folder = tmp_path_factory.mktemp("torch-kernels")
    environment = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run(
        [sys.executable, "-c", TORCH_SIDE, str(folder)], capture_output=True, text=True, env=environment, cwd=PROJECT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == "torch"
    return report, folder


def test_fused_kernels_give_keras_outputs_and_gradients(torch_side: tuple[dict, Path]) -> None:
    cases = torch_side[0]["cases"]
    assert len(cases) == 2 * 3 * 6  # cells × masks × ways to read the result
    for name, case in cases.items():
        directions = 2 if "bidirectional True" in name else 1
        assert case["switched"] == directions, name
        assert case["outputs"] < TOLERANCE and case["gradients"] < TOLERANCE, f"{name}: {case}"
        assert case["gradient_count"] == 1 + 3 * directions, name  # inputs, kernel, recurrent kernel, bias
        if "mask gaps" in name:  # neither left nor right padding: Keras's own loop, every call
            assert case["fused"] == 0 and case["fell_back"] == directions, name
        else:
            assert case["fused"] == directions and case["fell_back"] == 0, name


def test_stateful_layers_with_dropout_train_as_keras_does(torch_side: tuple[dict, Path]) -> None:
    for cell, found in torch_side[0]["stateful"].items():
        assert found["switched"] == 1 and found["difference"] < TOLERANCE, cell


def test_weights_trained_under_torch_predict_the_same_under_tensorflow(torch_side: tuple[dict, Path]) -> None:
    import keras

    report, folder = torch_side
    assert report["saved"]["switched"] == 3 and report["saved"]["fused"] > 0  # GRU both ways, then LSTM
    assert keras.backend.backend() == "tensorflow"
    model = keras.models.load_model(folder / "model.keras")  # plain Keras: the layers are Keras's own
    assert [type(layer).__module__.split(".")[0] for layer in model.layers] == ["keras"] * len(model.layers)
    predicted = model.predict(np.load(folder / "reviews.npy"), verbose=0)
    np.testing.assert_allclose(predicted, np.load(folder / "predicted.npy"), atol=TOLERANCE)


def test_only_settings_the_kernel_computes_are_switched() -> None:
    import keras

    from imdb_rnn.models.torch_kernels import fusable, use_fused_kernels

    assert fusable(keras.layers.LSTM(4)) and fusable(keras.layers.GRU(4))
    assert fusable(keras.layers.LSTM(4, dropout=0.2, stateful=True, go_backwards=True))
    for layer in (
        keras.layers.LSTM(4, recurrent_dropout=0.2),
        keras.layers.LSTM(4, activation="relu"),
        keras.layers.LSTM(4, recurrent_activation="hard_sigmoid"),
        keras.layers.LSTM(4, use_bias=False),
        keras.layers.LSTM(4, unroll=True),
        keras.layers.LSTM(4, use_cudnn=False),
        keras.layers.GRU(4, reset_after=False),
        keras.layers.SimpleRNN(4),
    ):
        assert not fusable(layer), layer.get_config()
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(4)])
    assert use_fused_kernels(model) == 0 and "inner_loop" not in vars(model.layers[0])  # TensorFlow: untouched
