"""Way (r) of `imdb-rnn benchmark`: the seed LSTM recipe written in plain PyTorch, as a PyTorch user writes it.

    seconds, accuracy = native_pytorch(keras_model, config, splits)

The model is the recipe's, layer for layer: `nn.Embedding(num_words, 32)` → `nn.LSTM(32, 32)` (PyTorch's
fused CPU kernel, oneDNN) → the last step's output → `nn.Linear(32, 1)` → sigmoid, and it starts from the
very weights of plain Keras's model of the same seed (way (a)): Keras and PyTorch order an LSTM's gates
alike (input, forget, cell, output), so Keras's `kernel` `(32, 128)` is `weight_ih_l0`'s transpose,
`recurrent_kernel` is `weight_hh_l0`'s, and Keras's one bias is `bias_ih_l0` (with `bias_hh_l0` zero).
It trains as way (a) does: the same padded arrays (`data.maxlen` wide, no bucketing), batches of
`train.batch_size` in a seeded shuffle, RMSprop as Keras defines it (rho 0.9, epsilon 1e-7: PyTorch's
`alpha` and `eps`), binary cross-entropy; each epoch (timed with its validation pass, as Keras's epochs
are) ends with validation accuracy, and the test set is read once, with the weights of the best epoch.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import keras
import numpy as np

from imdb_rnn.config import Config
from imdb_rnn.data.splits import Split, Splits

EVALUATION_BATCH = 512


def reference_fits(config: Config) -> bool:
    """Whether `config` is a model this reference writes: the `lstm` architecture, one LSTM read at its last
    step, no dropout or mask, RMSprop without clipping or decay."""
    params, train = config.model.params, config.train
    return (
        config.model.architecture == "lstm"
        and params.get("pooling") == "last"
        and not any(params.get(key) for key in ("spatial_dropout", "word_dropout", "head_dropout", "mask_zero"))
        and train.optimizer == "rmsprop"
        and train.clipnorm is None
        and train.weight_decay is None
        and not train.ema
    )


def torch_model(keras_model: keras.Model) -> Any:
    """The PyTorch twin of the seed LSTM recipe's Keras model, holding a copy of its weights."""
    import torch
    from torch import nn

    def only(kind: type) -> keras.Layer:  # by type: layer names take a suffix in a busy Keras session
        (layer,) = [layer for layer in keras_model.layers if isinstance(layer, kind)]
        return layer

    embeddings = only(keras.layers.Embedding).get_weights()[0]
    kernel, recurrent_kernel, bias = only(keras.layers.LSTM).get_weights()
    dense_kernel, dense_bias = only(keras.layers.Dense).get_weights()

    class SeedLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(*embeddings.shape)
            self.lstm = nn.LSTM(kernel.shape[0], recurrent_kernel.shape[0], batch_first=True)
            self.positive = nn.Linear(*dense_kernel.shape)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (batch, time) int64 → (batch,) logits
            outputs, _ = self.lstm(self.embedding(tokens))
            return self.positive(outputs[:, -1]).squeeze(-1)

    model = SeedLSTM()
    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(embeddings))
        model.lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        model.lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent_kernel.T))
        model.lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        model.lstm.bias_hh_l0.zero_()
        model.positive.weight.copy_(torch.from_numpy(dense_kernel.T))
        model.positive.bias.copy_(torch.from_numpy(dense_bias))
    return model


def accuracy(model: Any, split: Split) -> float:
    """Share of `split`'s reviews whose sigmoid output falls on their label's side of 0.5."""
    import torch

    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(split), EVALUATION_BATCH):
            logits = model(torch.from_numpy(split.x[start : start + EVALUATION_BATCH].astype(np.int64)))
            correct += int(((logits > 0).numpy() == (split.y[start : start + EVALUATION_BATCH] > 0.5)).sum())
    return correct / len(split)


def native_pytorch(keras_model: keras.Model, config: Config, splits: Splits) -> tuple[list[float], float]:
    """Trains the PyTorch twin of `keras_model` for `config.train.epochs` epochs (see the module's
    docstring). Returns each epoch's seconds (validation included) and the test accuracy of the epoch
    with the best validation accuracy."""
    import torch

    torch.manual_seed(config.train.seed)
    model = torch_model(keras_model)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=config.train.learning_rate, alpha=0.9, eps=1e-7)
    loss_function = torch.nn.BCEWithLogitsLoss()
    x, y = torch.from_numpy(splits.train.x.astype(np.int64)), torch.from_numpy(splits.train.y.astype(np.float32))
    shuffle = np.random.default_rng(config.train.seed)
    seconds, best_accuracy, best_weights = [], -1.0, None
    for _ in range(config.train.epochs):
        started = time.perf_counter()
        model.train()
        order = torch.from_numpy(shuffle.permutation(len(y)))
        for start in range(0, len(y), config.train.batch_size):
            rows = order[start : start + config.train.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss_function(model(x[rows]), y[rows]).backward()
            optimizer.step()
        validation_accuracy = accuracy(model, splits.validation)
        seconds.append(time.perf_counter() - started)
        if validation_accuracy > best_accuracy:
            best_accuracy, best_weights = validation_accuracy, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_weights)
    return seconds, accuracy(model, splits.test)
