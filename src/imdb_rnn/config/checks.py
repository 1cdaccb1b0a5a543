"""Rules that link several config keys, one small named check per rule (run after every key is typed).

Each check takes the resolved `Config` and `origin(section, key)` (the file or `--set` a key came
from) and raises a one-line `ConfigError` when the combination cannot work. `advice` lists the
combinations that work but cost something, for the command line to print as warnings.
"""

from __future__ import annotations

from collections.abc import Callable

from imdb_rnn.config.pretraining import pretrained_spec
from imdb_rnn.config.sections import LAZY_OPTIMIZERS, OWN_SOURCES, Config, TrainConfig
from imdb_rnn.errors import ConfigError, show

Origin = Callable[[str, str], str]


def validation_split_leaves_examples(config: Config, origin: Origin) -> None:
    """With `data.limit`, both the training part and the validation part keep at least one review."""
    limit, split = config.data.limit, config.data.validation_split
    if limit is None:
        return
    validation = round(limit * split)
    if validation < 1 or limit - validation < 1:
        raise ConfigError(
            f"{origin('data', 'limit')}: `data.limit` and `data.validation_split` leave no "
            f"{'validation' if validation < 1 else 'training'} reviews: expected limit * validation_split "
            f"to round to between 1 and limit - 1, received limit={limit}, validation_split={split}."
        )


def post_padding_needs_mask(config: Config, origin: Origin) -> None:
    """`padding: post` puts the zeros after the words, so the recurrent layer must skip them (`mask_zero`)."""
    if config.data.padding != "post" or config.model.params.get("mask_zero"):
        return
    masked = "mask_zero" in config.model.params
    expected = (
        "model.mask_zero: true (or data.padding: pre)"
        if masked
        else f"data.padding: pre (architecture {config.model.architecture} cannot mask padding)"
    )
    raise ConfigError(
        f"{origin('data', 'padding')}: `data.padding: post` would make the recurrent layer read the padding "
        f"last: expected {expected}, received data.padding={show('post')}"
        + (f", model.mask_zero={show(config.model.params['mask_zero'])}." if masked else ".")
    )


def convolution_fits_sequence(config: Config, origin: Origin) -> None:
    """The convolution kernel and the pooling window of `cnn_lstm` fit in `data.maxlen`."""
    params, maxlen = config.model.params, config.data.maxlen
    for key in ("kernel_size", "pool_size"):
        if key in params and params[key] > maxlen:
            raise ConfigError(
                f"{origin('model', key)}: `model.{key}` is longer than the sequences: expected at most "
                f"data.maxlen={maxlen}, received {key}={params[key]}."
            )


def freezing_needs_pretrained_layers(config: Config, origin: Origin) -> None:
    """`model.pretrained_trainable`, `unfreeze_after` and `gradual_unfreezing` act on pretrained layers:
    they need `model.pretrained`, a frozen start to unfreeze, and an epoch within `train.epochs`."""
    model, epochs = config.model, config.train.epochs
    changed = [key for key, default in FREEZING_DEFAULTS.items() if getattr(model, key) != default]
    if model.pretrained is None and changed:
        raise ConfigError(
            f"{origin('model', changed[0])}: `model.{changed[0]}` acts on pretrained layers: expected "
            f"model.pretrained with it, received pretrained=null."
        )
    if model.gradual_unfreezing and model.unfreeze_after is None:
        raise ConfigError(
            f"{origin('model', 'gradual_unfreezing')}: `model.gradual_unfreezing` unfreezes one layer a epoch: "
            f"expected model.unfreeze_after (the first epoch to unfreeze) with it, received unfreeze_after=null."
        )
    after = model.unfreeze_after
    if after is None:
        return
    where = origin("model", "unfreeze_after")
    if model.pretrained_trainable:
        raise ConfigError(
            f"{where}: `model.unfreeze_after` unfreezes frozen pretrained layers: expected "
            f"model.pretrained_trainable: false with it, received pretrained_trainable=true."
        )
    if after >= epochs:
        raise ConfigError(
            f"{where}: `model.unfreeze_after` is past the last epoch: expected fewer than "
            f"train.epochs={epochs}, received unfreeze_after={after}."
        )


def warmup_needs_slanted_schedule(config: Config, origin: Origin) -> None:
    """`train.warmup` shapes the slanted triangular schedule only."""
    default = TrainConfig.warmup
    if config.train.warmup != default and config.train.schedule != "slanted_triangular":
        raise ConfigError(
            f"{origin('train', 'warmup')}: `train.warmup` is the rising share of the slanted triangular schedule: "
            f"expected train.schedule: slanted_triangular with it, received schedule={show(config.train.schedule)}."
        )


FREEZING_DEFAULTS = {"pretrained_trainable": True, "unfreeze_after": None, "gradual_unfreezing": False}


def pretrained_layers_fit(config: Config, origin: Origin) -> None:
    """`model.pretrained` vectors have `model.embedding_dim` dimensions and a row for each of `data.num_words`
    ids (for IMDB; your own data's words find their rows by word); a language model's recurrent layers have
    the cell and `model.units` of the classifier's encoder."""
    from imdb_rnn.models import encoder_cell  # Keras: only when a config is checked

    if config.model.pretrained is None:
        return
    where, name = origin("model", "pretrained"), config.model.pretrained
    spec = pretrained_spec(name, where)
    params = config.model.params
    if params.get("embedding_dim") != spec.embedding_dim:
        raise ConfigError(
            f"{where}: the pretrained embedding does not fit: expected model.embedding_dim={spec.embedding_dim} "
            f"(the vector size of {name}), received embedding_dim={params.get('embedding_dim')}."
        )
    if config.data.num_words > spec.rows and config.data.source not in OWN_SOURCES:  # yours map by word
        raise ConfigError(
            f"{where}: the pretrained embedding does not cover the vocabulary: expected data.num_words <= {spec.rows} "
            f"(the rows of {name}), received num_words={config.data.num_words}."
        )
    if not spec.num_layers:
        return
    cell = encoder_cell(config.model.architecture, params)
    if cell != spec.cell or params.get("units") != spec.units:
        received = (
            f"architecture {config.model.architecture} (no recurrent layer on the embedding)"
            if cell is None
            else f"architecture {config.model.architecture} with cell {cell} and units={params.get('units')}"
        )
        raise ConfigError(
            f"{where}: the language model's encoder does not fit: expected a recurrent classifier (lstm, gru, "
            f"stacked, bidirectional, dropout) with cell {spec.cell} and model.units={spec.units}, received {received}."
        )


def region_embedding_fits(config: Config, origin: Origin) -> None:
    """A region pretraining (`imdb-rnn pretrain --config region`) is read by the `cnn` or a recurrent architecture
    with `model.region_units` and `model.region_size` equal to its `units` and `region_size`; `region_units`
    needs one."""
    params, pretrained = config.model.params, config.model.pretrained
    spec = pretrained_spec(pretrained, origin("model", "pretrained")) if pretrained is not None else None
    units = params.get("region_units", 0)
    if spec is not None and spec.method == "region":
        if units != spec.units or params.get("region_size") != spec.region_size:
            received = (
                f"architecture {config.model.architecture} (no region embedding)"
                if "region_units" not in params
                else f"region_units={units}, region_size={params.get('region_size')}"
            )
            raise ConfigError(
                f"{origin('model', 'pretrained')}: the region embedding of {pretrained} does not fit: expected "
                f"model.region_units={spec.units} and model.region_size={spec.region_size} (the cnn or a recurrent "
                f"architecture), received {received}."
            )
    elif units:
        raise ConfigError(
            f"{origin('model', 'region_units')}: `model.region_units` reads a pretrained region embedding: expected "
            f"model.pretrained naming a region pretraining (e.g. region) with it, received "
            f"pretrained={show(pretrained)}."
        )


def bag_regions_take_region_pretraining(config: Config, origin: Origin) -> None:
    """The cnn's `regions: bag` embeds each word `filters` wide, as a region's weights, so word vectors have no
    place there: with `model.pretrained` it reads a region pretraining (its vectors start the region
    embedding's words)."""
    params, pretrained = config.model.params, config.model.pretrained
    if params.get("regions") != "bag" or pretrained is None:
        return
    spec = pretrained_spec(pretrained, origin("model", "pretrained"))
    if spec.method != "region":
        raise ConfigError(
            f"{origin('model', 'pretrained')}: `model.regions: bag` embeds each word as a region's {params.get('filters')} "
            f"weights, where word vectors do not fit: expected model.pretrained naming a region pretraining (e.g. "
            f"region) or none, received a {spec.method} pretraining ({pretrained})."
        )


def pretraining_left_out_this_validation(config: Config, origin: Origin) -> None:
    """A pretraining whose corpus left out a classifier's validation reviews (`corpus.leave_out_validation`)
    serves an IMDB classifier that validates on those same reviews: `data.validation_split`,
    `validation_split_by` and `seed` as its corpus named them, so validation accuracy is read on texts the
    pretraining never saw. (Your own data's validation texts were never in the IMDB corpus.)"""
    data, pretrained = config.data, config.model.pretrained
    if pretrained is None or data.source in OWN_SOURCES:
        return
    left_out = pretrained_spec(pretrained, origin("model", "pretrained")).left_out
    received = (data.validation_split, data.validation_split_by, data.seed)
    if left_out is not None and tuple(left_out) != received:
        raise ConfigError(
            f"{origin('model', 'pretrained')}: {pretrained} left out the validation reviews of another split: "
            f"expected data.validation_split={left_out[0]}, validation_split_by={left_out[1]}, seed={left_out[2]}, "
            f"received validation_split={received[0]}, validation_split_by={received[1]}, seed={received[2]}."
        )


def own_data_needs_path(config: Config, origin: Origin) -> None:
    """`data.source: directory`, `csv` or `jsonl` reads the folder or file named by `data.path`."""
    if config.data.source in OWN_SOURCES and not config.data.path:
        layout = {
            "directory": "a folder with train/<label>/*.txt (and optionally test/<label>/*.txt)",
            "csv": "a .csv file, or a folder with train.csv (and optionally test.csv)",
            "jsonl": "a .jsonl file, or a folder with train.jsonl (and optionally test.jsonl)",
        }[config.data.source]
        raise ConfigError(
            f"{origin('data', 'source')}: `data.source: {config.data.source}` reads your data: expected data.path "
            f"naming {layout}, received data.path=null."
        )


def mirrored_needs_equal_widths(config: Config, origin: Origin) -> None:
    """Under `tf.distribute`, the replicas' gradients are gathered together, so every replica's batch must
    have the same shape: no length bucketing (whose batches are each as wide as their longest review)."""
    if config.train.distribution != "none" and config.data.bucketing:
        raise ConfigError(
            f"{origin('train', 'distribution')}: `train.distribution: {config.train.distribution}` splits each batch "
            "among replicas that must see equal shapes: expected data.bucketing: false with it, received "
            "data.bucketing=true."
        )


def mirrored_runs_one_step_per_call(config: Config, origin: Origin) -> None:
    """Keras's `tf.distribute` train loop fails when one call runs several steps (a placeholder of the
    strategy's while loop; seen with TensorFlow 2.21, Keras 3.15), so a distributed run calls once a batch."""
    steps = config.train.steps_per_execution
    if config.train.distribution != "none" and steps is not None and steps > 1:
        raise ConfigError(
            f"{origin('train', 'steps_per_execution')}: `train.distribution: {config.train.distribution}` runs one "
            f"batch per call into the train step: expected train.steps_per_execution unset or 1 with it, "
            f"received {steps}."
        )


def unlabeled_reviews_are_imdbs(config: Config, origin: Origin) -> None:
    """Virtual adversarial training and entropy minimisation read aclImdb's 50,000 unlabeled reviews, which
    only IMDB data has (`imdb_rnn.data.unlabeled`)."""
    train = config.train
    key = "virtual_adversarial" if train.virtual_adversarial else "entropy_minimisation"
    if (train.virtual_adversarial or train.entropy_minimisation) and config.data.source not in ("auto", "aclimdb"):
        raise ConfigError(
            f"{origin('train', key)}: `train.{key}` reads aclImdb's unlabeled reviews (train/unsup): expected "
            f"data.source auto or aclimdb with it, received data.source={show(config.data.source)}."
        )


def mixed_objective_perturbs_an_embedding(config: Config, origin: Origin) -> None:
    """The mixed objective perturbs the word embeddings (the layer named `embedding`) on one device; NBSVM
    has none, and under `train.distribution` its custom train step is not mirrored."""
    train = config.train
    key = next((k for k in ("adversarial", "virtual_adversarial", "entropy_minimisation") if getattr(train, k)), None)
    if key is None:
        return
    if config.model.architecture == "nbsvm":
        raise ConfigError(
            f"{origin('train', key)}: `train.{key}` perturbs word embeddings: expected an architecture with an "
            f"embedding (every one but nbsvm), received model.architecture={show('nbsvm')}."
        )
    if train.distribution != "none":
        raise ConfigError(
            f"{origin('train', key)}: `train.{key}` trains on one device: expected train.distribution: none with "
            f"it, received train.distribution={show(train.distribution)}."
        )


def lazy_updates_need_adam(config: Config, origin: Origin) -> None:
    """`train.embedding_updates: lazy` is a variant of Adam's update (`LAZY_OPTIMIZERS`, `training.optimizers`)."""
    optimizer = config.train.optimizer
    if config.train.embedding_updates == "lazy" and optimizer not in LAZY_OPTIMIZERS:
        raise ConfigError(
            f"{origin('train', 'embedding_updates')}: `train.embedding_updates: lazy` updates Adam's moments "
            f"row by row: expected train.optimizer {' or '.join(LAZY_OPTIMIZERS)} with it, received "
            f"train.optimizer={show(optimizer)}."
        )


CHECKS = [
    own_data_needs_path,
    validation_split_leaves_examples,
    post_padding_needs_mask,
    convolution_fits_sequence,
    freezing_needs_pretrained_layers,
    warmup_needs_slanted_schedule,
    pretrained_layers_fit,
    region_embedding_fits,
    bag_regions_take_region_pretraining,
    pretraining_left_out_this_validation,
    mirrored_needs_equal_widths,
    mirrored_runs_one_step_per_call,
    unlabeled_reviews_are_imdbs,
    mixed_objective_perturbs_an_embedding,
    lazy_updates_need_adam,
]


def run_checks(config: Config, origin: Origin) -> None:
    """Runs every rule in `CHECKS`; the first that fails raises."""
    for rule in CHECKS:
        rule(config, origin)


def advice(config: Config) -> list[str]:
    """Warnings for valid but costly combinations (the command line prints them before training)."""
    notes = []
    if config.model.params.get("recurrent_dropout"):
        notes.append(
            "model.recurrent_dropout > 0 rules out the fused cuDNN LSTM/GRU kernel: on a GPU this "
            "layer trains several times slower (on a CPU it costs little)."
        )
    if config.model.params.get("mask_zero") and config.data.padding == "pre":
        notes.append(
            "model.mask_zero with data.padding: pre rules out the cuDNN LSTM/GRU kernel on a GPU (cuDNN "
            "needs the padding at the end): use data.padding: post with the mask."
        )
    if config.train.jit_compile and config.data.bucketing and config.data.bucket_width == 1:
        notes.append(
            "train.jit_compile with length bucketing compiles the train step again for every batch width: "
            "leave data.bucket_width unset (32 when compiled) or set e.g. 32 to bound the widths."
        )
    if config.train.mixed_precision in (True, "float16"):
        notes.append(
            "train.mixed_precision: float16 speeds up GPUs with tensor cores; on a CPU it is slower "
            "(bfloat16 is the CPU's 16-bit type)."
        )
    return notes
