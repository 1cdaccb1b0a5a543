"""Each rule that links several config keys: the bad combination fails, the fixed one loads."""

from __future__ import annotations

import pytest

from imdb_rnn.config import load_config
from imdb_rnn.config.checks import CHECKS, advice
from imdb_rnn.errors import ConfigError

CASES = {
    "mirrored_needs_equal_widths": (
        ["train.distribution=mirrored"],
        ["train.distribution=mirrored", "data.bucketing=false"],
        "replicas that must see equal shapes",
    ),
    "mirrored_runs_one_step_per_call": (
        ["train.distribution=mirrored", "data.bucketing=false", "train.steps_per_execution=16"],
        ["train.distribution=mirrored", "data.bucketing=false"],
        "runs one batch per call into the train step",
    ),
    "own_data_needs_path": (
        ["data.source=csv"],
        ["data.source=csv", "data.path=reviews.csv"],
        "reads your data",
    ),
    "validation_split_leaves_examples": (
        ["data.limit=4", "data.validation_split=0.1"],
        ["data.limit=20", "data.validation_split=0.1"],
        "leave no validation reviews",
    ),
    "post_padding_needs_mask": (
        ["data.padding=post"],
        ["data.padding=post", "model.mask_zero=true"],
        "read the padding last",
    ),
    "convolution_fits_sequence": (
        ["model.architecture=cnn_lstm", "data.maxlen=3"],
        ["model.architecture=cnn_lstm", "data.maxlen=3", "model.kernel_size=3", "model.pool_size=2"],
        "longer than the sequences",
    ),
    "freezing_needs_pretrained_layers": (
        ["model.pretrained=word2vec", "model.embedding_dim=64", "model.unfreeze_after=2"],
        [
            "model.pretrained=word2vec",
            "model.embedding_dim=64",
            "model.unfreeze_after=2",
            "model.pretrained_trainable=false",
        ],
        "unfreezes frozen pretrained layers",
    ),
    "warmup_needs_slanted_schedule": (
        ["train.warmup=0.3"],
        ["train.warmup=0.3", "train.schedule=slanted_triangular"],
        "rising share of the slanted triangular schedule",
    ),
    "unlabeled_reviews_are_imdbs": (
        ["data.source=csv", "data.path=reviews.csv", "train.entropy_minimisation=1"],
        ["data.source=aclimdb", "train.entropy_minimisation=1"],
        "reads aclImdb's unlabeled reviews",
    ),
    "mixed_objective_perturbs_an_embedding": (
        ["train.distribution=mirrored", "data.bucketing=false", "train.adversarial=0.1"],
        ["data.bucketing=false", "train.adversarial=0.1"],
        "trains on one device",
    ),
    "pretrained_layers_fit": (
        ["model.pretrained=word2vec"],
        ["model.pretrained=word2vec", "model.embedding_dim=64"],
        "the pretrained embedding does not fit",
    ),
    "region_embedding_fits": (
        ["model.architecture=cnn", "model.pretrained=region"],
        ["model.architecture=cnn", "model.pretrained=region", "model.region_units=128"],
        "the region embedding of region does not fit",
    ),
    "bag_regions_take_region_pretraining": (
        ["model.architecture=cnn", "model.regions=bag", "model.pretrained=word2vec", "model.embedding_dim=64"],
        [
            "model.architecture=cnn",
            "model.regions=bag",
            "model.pretrained=region",
            "model.embedding_dim=64",
            "model.region_units=128",
        ],
        "where word vectors do not fit",
    ),
    "pretraining_left_out_this_validation": (  # honest: configs/pretrain/honest.yaml, written by the test
        ["model.pretrained=honest", "model.embedding_dim=64", "data.seed=7"],
        ["model.pretrained=honest", "model.embedding_dim=64"],
        "left out the validation reviews of another split",
    ),
    "lazy_updates_need_adam": (
        ["train.embedding_updates=lazy"],
        ["train.embedding_updates=lazy", "train.optimizer=adam"],
        "updates Adam's moments row by row",
    ),
}


def test_every_check_has_a_case() -> None:
    assert sorted(rule.__name__ for rule in CHECKS) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_combination_fails_and_fixed_one_passes(name: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a pretraining config of the working folder: it left out the validation reviews
    (tmp_path / "configs" / "pretrain").mkdir(parents=True)
    (tmp_path / "configs" / "pretrain" / "honest.yaml").write_text(
        "corpus: {leave_out_validation: true}\nword2vec: {}\n"
    )
    bad, fixed, words = CASES[name]
    with pytest.raises(ConfigError, match=words) as caught:
        load_config(None, bad)
    assert "expected" in str(caught.value) and "received" in str(caught.value)
    load_config(None, fixed)


def test_post_padding_without_a_mask_option_asks_for_pre_padding() -> None:
    with pytest.raises(ConfigError, match="data.padding: pre"):
        load_config(None, ["model.architecture=cnn_lstm", "data.padding=post"])


def test_advice_warns_when_a_config_gives_up_cudnn() -> None:
    assert any("recurrent_dropout" in note and "cuDNN" in note for note in advice(load_config("dropout")))
    assert any("padding: post" in note for note in advice(load_config(None, ["model.mask_zero=true"])))
    assert advice(load_config(None, ["model.mask_zero=true", "data.padding=post"])) == []
    assert advice(load_config(None)) == []
    assert any(
        "bucket_width" in note for note in advice(load_config(None, ["train.jit_compile=true", "data.bucket_width=1"]))
    )
    assert advice(load_config(None, ["train.jit_compile=true"])) == []  # unset: 32 when compiled
    assert advice(load_config(None, ["train.jit_compile=true", "data.bucket_width=32"])) == []
