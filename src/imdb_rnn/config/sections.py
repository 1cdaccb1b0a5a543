"""The config's three sections as frozen dataclasses: the typed defaults a YAML config overrides.

`DataConfig` and `TrainConfig` declare each key with its type hint (ranges included, see
`imdb_rnn.schema`) and default; the `model` section's keys are the keyword parameters of the chosen
architecture's builder (`imdb_rnn.models`), so they live with it. A `Config` is frozen: derive a
changed one with `config.replace(...)` or `dataclasses.replace`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, Literal

from imdb_rnn.schema import NonNegativeInt, PositiveFloat, PositiveInt, Range

OWN_SOURCES = ("directory", "csv", "jsonl")  # your data: its vocabulary is built from its training texts
LAZY_OPTIMIZERS = ("adam", "adamw")  # the optimizers with a lazy twin (train.embedding_updates: lazy)


@dataclass(frozen=True)
class DataConfig:
    """Where the reviews come from and how they become padded integer sequences."""

    source: Literal["auto", "keras", "aclimdb", "directory", "csv", "jsonl"] = "auto"  # auto: IMDB, local or downloaded
    path: str | None = None  # a folder or file; None: $IMDB_DATA_DIR, then ~/.keras/datasets (IMDB only)
    text_column: str = "text"  # csv, jsonl: the column (key) holding each text
    label_column: str = "label"  # csv, jsonl: the column (key) holding each label
    test_split: Annotated[float, Range(0, 1, min_inclusive=False, max_inclusive=False)] = 0.2  # your data, no test part
    num_words: Annotated[int, Range(min=4)] = 10_000  # vocabulary: ids >= num_words become 2 (OOV)
    maxlen: PositiveInt = 500  # reviews are truncated/padded to this many tokens
    padding: Literal["pre", "post"] = "pre"  # pre: the recurrent layer reads the real words last
    truncating: Literal["pre", "post"] = "pre"  # pre: keep the end of long reviews
    validation_split: Annotated[float, Range(0, 1, min_inclusive=False, max_inclusive=False)] = 0.2
    validation_split_by: Literal["movie", "review"] = "movie"  # movie: no validation movie is trained on
    limit: Annotated[int, Range(min=2)] | None = None  # class-balanced training subset (smoke runs)
    test_limit: Annotated[int, Range(min=2)] | None = None  # class-balanced test subset
    seed: NonNegativeInt = 113  # shuffles the validation split; 113 is Keras's IMDB seed
    bucketing: bool = True  # batch reviews of similar length, pad each batch to its longest
    bucket_width: PositiveInt | None = None  # round bucketed widths up to a multiple; None: 1, or 32 if compiled


@dataclass(frozen=True)
class TrainConfig:
    """How the model is fitted."""

    optimizer: Literal["rmsprop", "adam", "adamw", "nadam", "sgd"] = "rmsprop"
    learning_rate: PositiveFloat = 1e-3
    clipnorm: PositiveFloat | None = None  # clip each gradient to this norm (helps SimpleRNN)
    weight_decay: PositiveFloat | None = None  # decoupled weight decay, as in AdamW, for any optimizer
    ema: bool = False  # validate, keep and test an exponential moving average of the weights
    batch_size: PositiveInt = 128
    epochs: PositiveInt = 10
    early_stopping: NonNegativeInt | None = None  # patience in epochs on val_accuracy; None: off
    passes_per_epoch: PositiveInt | None = None  # reads of the training texts an epoch; None: see training.data_size
    # The mixed objective (training.objectives; TensorFlow): perturbation sizes relative to each review's
    # embedded words, 0: off. adversarial: labeled reviews, against the loss; virtual_adversarial: unlabeled
    # reviews (aclImdb's train/unsup), against the model's own prediction, weighted by unlabeled_weight.
    adversarial: Annotated[float, Range(min=0)] = 0.0
    virtual_adversarial: Annotated[float, Range(min=0)] = 0.0
    entropy_minimisation: Annotated[float, Range(min=0)] = 0.0  # weight of the unlabeled predictions' entropy
    unlabeled_weight: PositiveFloat = 1.0
    unlabeled_batch_size: PositiveInt | None = None  # unlabeled reviews beside each labeled batch; None: batch_size
    seed: NonNegativeInt = 42  # weights, dropout and batch order
    schedule: Literal["constant", "slanted_triangular"] = "constant"  # slanted: ULMFiT's warm-up then decay
    warmup: Annotated[float, Range(0, 1, min_inclusive=False, max_inclusive=False)] = 0.1  # slanted: rising share
    # Compute in 16 bits, weights in float32 (Keras's mixed policies): float16 (or true) for GPUs with tensor
    # cores; bfloat16 for CPUs with AMX or AVX-512-BF16 (docs/BENCHMARK.md, "bfloat16"). false: float32.
    mixed_precision: Literal[False, True, "float16", "bfloat16"] = False
    # adam/adamw under TensorFlow: "lazy" updates only the embedding rows a batch reads (training.optimizers)
    embedding_updates: Literal["dense", "lazy"] = "dense"
    # Batches per call into the train step: each call costs a round trip that small batches feel (cnn_lstm's
    # epoch on a CPU: half the time at 16); per-batch callbacks see each call's last batch. None: 16 on one
    # device, 1 under train.distribution or PyTorch.
    steps_per_execution: PositiveInt | None = None
    jit_compile: bool | None = None  # compile the train step (XLA; torch.compile); None: under JAX only
    # Under TensorFlow without XLA: unmasked LSTM layers run its fused CPU op BlockLSTM (in float32), not Keras's loop
    # over time steps (models.tf_kernels; the same weights; cnn_lstm's epoch 0.79-0.92x, docs/BENCHMARK.md).
    # Under PyTorch its fused LSTM/GRU always run.
    fused_lstm: bool = True
    distribution: Literal["none", "mirrored", "multi_worker"] = "none"  # mirrored: local GPUs; multi_worker: JAX
    cpu_devices: PositiveInt = 2  # mirrored without a GPU: logical CPU devices to mirror over
    stall_timeout: PositiveInt = 300  # multi_worker: fail when no step ends for this many seconds


@dataclass(frozen=True)
class ModelConfig:
    """`architecture` names a builder in `imdb_rnn.models`; `params` are that builder's keywords.

    The other keys say how the model starts, for every architecture: `pretrained` names a pretraining run
    folder or a pretraining config (`configs/pretrain/`; its run is reused, or trained first). Word vectors
    replace the embedding's first `data.num_words` rows; a language model also gives its recurrent layers
    to the classifier's first ones. Those pretrained layers can start frozen and unfreeze later (all at
    once, or one a epoch from the top down: ULMFiT's gradual unfreezing)."""

    architecture: str = "lstm"
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    pretrained: str | None = None  # e.g. word2vec, or outputs/pretrain/word2vec-<time>
    pretrained_trainable: bool = True  # false: the pretrained layers start frozen
    unfreeze_after: PositiveInt | None = None  # frozen pretrained layers train from the epoch after this one
    gradual_unfreezing: bool = False  # from then on, one pretrained layer more each epoch, the top one first

    def __post_init__(self) -> None:  # a read-only view of a private copy: frozen all the way down
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def to_dict(self) -> dict[str, Any]:
        return {"architecture": self.architecture, **self.params, **self.pretraining_options()}

    def pretraining_options(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in PRETRAINING_KEYS}


PRETRAINING_KEYS = ("pretrained", "pretrained_trainable", "unfreeze_after", "gradual_unfreezing")


@dataclass(frozen=True)
class Config:
    """A resolved config: every key present, every value checked."""

    name: str = "default"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        """The `config.yaml` of a run: `{data: {...}, model: {...}, train: {...}}`."""
        return {
            "data": dataclasses.asdict(self.data),
            "model": self.model.to_dict(),
            "train": dataclasses.asdict(self.train),
        }

    def replace(self, name: str | None = None, **sections: dict[str, Any]) -> Config:
        """A copy with other values: `config.replace(train={"seed": 2}, data={"bucketing": False})`.

        The values are not checked again: pass only values of the right type (for user input, use
        `load_config` with overrides, which checks them)."""
        changed = {
            section: dataclasses.replace(getattr(self, section), **values)
            for section, values in sections.items()
            if section != "model"
        }
        if "model" in sections:
            values = dict(sections["model"])
            options = {key: values.pop(key) for key in PRETRAINING_KEYS if key in values}
            changed["model"] = dataclasses.replace(self.model, params={**self.model.params, **values}, **options)
        return dataclasses.replace(self, name=self.name if name is None else name, **changed)


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
