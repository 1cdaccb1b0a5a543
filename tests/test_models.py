"""Every registered architecture builds and maps token ids `(batch, time)` to probabilities `(batch, 1)`."""

from __future__ import annotations

import numpy as np
import pytest

from imdb_rnn import models
from imdb_rnn.config import load_config
from imdb_rnn.errors import ConfigError

BATCH = np.random.default_rng(0).integers(0, 100, size=(3, 20)).astype("int32")


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_architecture_maps_a_batch_to_probabilities(name: str) -> None:
    defaults = {key: default for key, (_, default) in models.parameters(name).items()}
    model = models.build_model(name, defaults, vocab_size=100)
    output = np.asarray(model(BATCH))
    assert output.shape == (3, 1)
    assert ((output >= 0) & (output <= 1)).all()
    assert model.layers[-1].activation.__name__ == "sigmoid"
    # Any padded length goes through the same model (length bucketing relies on it).
    assert np.asarray(model(BATCH[:, -7:])).shape == (3, 1)


@pytest.mark.parametrize("pooling", ["last", "max", "average", "max_average", "concat"])
@pytest.mark.parametrize("name", ["simple_rnn", "lstm", "gru", "stacked", "bidirectional", "dropout", "cnn_lstm"])
def test_pooling_options(name: str, pooling: str) -> None:
    config = load_config(None, [f"model.architecture={name}", f"model.pooling={pooling}"])
    model = models.build_model(name, config.model.params, 100)
    assert np.asarray(model(BATCH)).shape == (3, 1)


def test_masking_ignores_post_padding() -> None:
    config = load_config(None, ["model.mask_zero=true", "data.padding=post"])
    model = models.build_model("lstm", config.model.params, 100)
    tokens = np.array([[5, 6, 7, 0, 0, 0]], dtype="int32")
    assert np.allclose(model(tokens), model(tokens[:, :3]), atol=1e-6)


@pytest.mark.parametrize("name", ["gru", "bidirectional"])
@pytest.mark.parametrize("pooling", ["max", "max_average", "concat"])
def test_pooling_leaves_masked_padding_out(name: str, pooling: str) -> None:
    # Keras's GlobalMaxPooling1D takes no mask: padded steps would enter the max.
    config = load_config(None, [f"model.architecture={name}", "model.mask_zero=true", f"model.pooling={pooling}"])
    model = models.build_model(name, config.model.params, 100)
    review = np.array([[5, 6, 7, 8]], dtype="int32")
    padded = np.concatenate([np.zeros((1, 9), dtype="int32"), review], axis=1)
    np.testing.assert_allclose(model(padded), model(review), atol=1e-6)
    unmasked = load_config(None, [f"model.architecture={name}", f"model.pooling={pooling}"]).model.params
    plain = models.build_model(name, unmasked, 100)
    plain.set_weights(model.get_weights())
    assert not np.allclose(plain(padded), plain(review), atol=1e-6)  # what the mask saves


@pytest.mark.parametrize("pooling", ["max", "max_average"])
def test_cnn_pools_over_the_words_only(pooling: str) -> None:
    # The convolution keeps the embedding's mask, so padded steps enter neither the max nor the average.
    model = models.build_model("cnn", {"embedding_dim": 4, "filters": 6, "pooling": pooling}, 100)
    review = np.array([[5, 6, 7, 8]], dtype="int32")
    padded = np.concatenate([np.zeros((1, 9), dtype="int32"), review], axis=1)
    shifted = np.concatenate([review, np.zeros((1, 9), dtype="int32")], axis=1)
    assert model.get_layer("regions").output.shape == (None, None, 6)
    assert np.asarray(model(padded)) == pytest.approx(np.asarray(model(shifted)), abs=1e-6)
    unmasked = models.build_model(
        "cnn", {"embedding_dim": 4, "filters": 6, "pooling": pooling, "mask_zero": False}, 100
    )
    unmasked.set_weights(model.get_weights())
    assert np.asarray(unmasked(padded)) != pytest.approx(np.asarray(unmasked(shifted)), abs=1e-6)


def test_bag_regions_are_a_convolution_of_one_hot_words() -> None:
    # Johnson & Zhang's bow-CNN: a region's maps are the sum of its words' weights, as a Conv1D over one-hot
    # words whose kernel holds the same weights at every offset; masked steps read as the edge's zeros.
    from imdb_rnn.models.inputs import MaskedConv1D, MaskedRegionSum

    weights = np.random.default_rng(0).normal(size=(10, 6)).astype("float32")
    tokens = np.array([[3, 1, 4, 1, 5, 0, 0], [9, 2, 6, 5, 3, 5, 8]], dtype="int32")
    mask = tokens != 0
    summed = MaskedRegionSum(3)
    summed.build((None, None, 6))
    summed.bias.assign(np.arange(6, dtype="float32"))
    one_hot = np.eye(10, dtype="float32")[tokens]
    convolution = MaskedConv1D(6, 3, padding="same")
    convolution.build((None, None, 10))
    convolution.set_weights([np.stack([weights] * 3), np.arange(6, dtype="float32")])
    np.testing.assert_allclose(summed(weights[tokens], mask=mask), convolution(one_hot, mask=mask), atol=1e-5)


def test_bag_regions_leave_padding_out_and_embed_each_word_as_wide_as_the_maps() -> None:
    model = models.build_model("cnn", {"embedding_dim": 4, "filters": 6, "regions": "bag"}, 100)
    assert model.get_layer("embedding").output_dim == 6
    review = np.array([[5, 6, 7, 8]], dtype="int32")
    padded = np.concatenate([np.zeros((1, 9), dtype="int32"), review, np.zeros((1, 2), dtype="int32")], axis=1)
    np.testing.assert_allclose(model(padded), model(review), atol=1e-6)


def test_concat_pooling_joins_the_last_state_the_max_and_the_average() -> None:
    model = models.build_model("bidirectional", {"units": 4, "pooling": "concat"}, 100)
    assert model.get_layer("concat_pooling").output.shape == (None, 3 * 2 * 4)


def test_stacked_layers_return_sequences_except_the_last() -> None:
    model = models.build_model("stacked", {"num_layers": 3, "units": 8}, 100)
    recurrent = [layer for layer in model.layers if layer.__class__.__name__ == "LSTM"]
    assert [layer.return_sequences for layer in recurrent] == [True, True, False]


def test_builder_parameters_are_the_model_section() -> None:
    spec = models.parameters("cnn_lstm")
    assert {"embedding_dim", "filters", "kernel_size", "pool_size", "units", "dropout"} <= set(spec)
    assert spec["units"][1] == 70  # the classic example's LSTM(70)


def test_unknown_architecture_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError, match="expected one of simple_rnn, lstm, gru, stacked, bidirectional"):
        models.get("transformer")
