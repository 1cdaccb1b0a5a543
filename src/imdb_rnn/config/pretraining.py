"""A pretraining config: which reviews to read (`corpus`) and one method section (`word2vec`).

    # configs/pretrain/word2vec.yaml states only what differs from the defaults below
    corpus:
      num_words: 30000
    word2vec:
      vector_size: 64

Pretraining configs live in `configs/pretrain/` (shipped with the package), apart from the classifier
configs, and are loaded, checked key by key and saved by the same code as them (`imdb_rnn.config.reading`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from imdb_rnn.config.reading import Kind, Origin, check_section, find_in_configs, load, read_yaml, shipped_names
from imdb_rnn.config.sections import DataConfig
from imdb_rnn.errors import ConfigError, show
from imdb_rnn.schema import NonNegativeInt, PositiveInt, Range

FOLDER = "pretrain"  # configs/pretrain/ for the configs, <output_dir>/pretrain/ for the runs


@dataclass(frozen=True)
class CorpusConfig:
    """The reviews pretraining reads: the training and unlabeled reviews of aclImdb, never the test ones."""

    path: str | None = None  # aclImdb folder or archive; None: $IMDB_DATA_DIR, ~/.keras/datasets, then download
    num_words: Annotated[int, Range(min=4)] = 30_000  # rows of the vectors: the Keras ids below num_words
    limit: PositiveInt | None = None  # read only the first `limit` reviews (tests and quick looks)
    # true: leave out the training reviews a classifier validates on (its data.validation_split, seed and
    # validation_split_by: the three keys below), so that its validation accuracy is not read on texts its
    # pretraining has seen; a classifier then needs the same three keys (config.checks)
    leave_out_validation: bool = False
    validation_split: Annotated[float, Range(0, 1, min_inclusive=False, max_inclusive=False)] = (
        DataConfig.validation_split
    )
    validation_split_by: Literal["movie", "review"] = DataConfig.validation_split_by
    validation_seed: NonNegativeInt = DataConfig.seed

    @property
    def left_out(self) -> tuple[float, str, int] | None:
        """`(validation_split, validation_split_by, seed)` of the validation reviews left out, or None."""
        if not self.leave_out_validation:
            return None
        return (self.validation_split, self.validation_split_by, self.validation_seed)


@dataclass(frozen=True)
class Word2VecConfig:
    """gensim's `Word2Vec` settings (its names; see its documentation)."""

    vector_size: PositiveInt = 64  # must equal the classifier's model.embedding_dim
    algorithm: Literal["skipgram", "cbow"] = "skipgram"
    window: PositiveInt = 5  # words on each side
    min_count: PositiveInt = 5  # rarer words get no vector of their own (a random one in the classifier)
    negative: PositiveInt = 5  # negative samples per word
    sample: Annotated[float, Range(0, 1)] = 1e-3  # down-sampling of frequent words
    epochs: PositiveInt = 5
    seed: NonNegativeInt = 1


@dataclass(frozen=True)
class LanguageModelConfig:
    """A recurrent language model (next-word prediction) whose embedding and recurrent layers become a
    classifier's encoder: `cell`, `units` and `embedding_dim` must match the classifier's."""

    cell: Literal["lstm", "gru"] = "lstm"
    embedding_dim: PositiveInt = 64
    units: PositiveInt = 64
    num_layers: PositiveInt = 1  # a stacked classifier takes as many of them as it has layers
    output_words: Annotated[int, Range(min=4)] = 5_000  # it predicts the most frequent words, the rest as OOV
    sequence_length: PositiveInt = 64  # words per training window (backpropagation through time)
    dropout: Annotated[float, Range(0, 1, max_inclusive=False)] = 0.1  # on the recurrent outputs
    batch_size: PositiveInt = 64
    epochs: PositiveInt = 1
    learning_rate: Annotated[float, Range(min=0, min_inclusive=False)] = 2e-3  # Adam, clipnorm 1
    validation_share: Annotated[float, Range(0, 1, min_inclusive=False, max_inclusive=False)] = 0.02
    seed: NonNegativeInt = 1


@dataclass(frozen=True)
class RegionConfig:
    """A region embedding (Johnson & Zhang 2015's tv-embedding): a convolution over `region_size` embedded
    words trained to tell the `context` words on each side of its region from sampled words; it becomes a
    frozen second input of the `cnn` or a recurrent classifier (`model.region_units`, `model.region_size`)."""

    word_vectors: str | None = "word2vec"  # its embedding starts from these (a pretraining config or folder)
    embedding_dim: PositiveInt = 64  # must equal the classifier's model.embedding_dim
    units: PositiveInt = 128  # the region embedding's size: the classifier's model.region_units
    region_size: PositiveInt = 5  # words a region reads: the classifier's model.region_size
    context: PositiveInt = 5  # words on each side of a region that it predicts
    negatives: PositiveInt = 10  # words drawn (count^0.75) for each region, told from its 2 × context neighbours
    sequence_length: PositiveInt = 256  # words per training window of the joined reviews
    batch_size: PositiveInt = 32
    epochs: PositiveInt = 2
    learning_rate: Annotated[float, Range(min=0, min_inclusive=False)] = 1e-3  # Adam, clipnorm 1
    validation_share: Annotated[float, Range(0, 1, min_inclusive=False, max_inclusive=False)] = 0.02
    seed: NonNegativeInt = 1


METHODS = {"word2vec": Word2VecConfig, "language_model": LanguageModelConfig, "region": RegionConfig}


@dataclass(frozen=True)
class PretrainedSpec:
    """What a pretraining gives a classifier: `rows` × `embedding_dim` vectors, and for a language
    model `num_layers` recurrent layers of `cell` with `units` (`num_layers == 0` for word vectors), for a
    region embedding its `units` maps over `region_size` words."""

    method: str
    rows: int
    embedding_dim: int
    cell: str | None = None
    units: int | None = None
    num_layers: int = 0
    region_size: int | None = None
    left_out: tuple[float, str, int] | None = None  # the validation its corpus left out (CorpusConfig.left_out)


def spec_of(method: str, corpus: dict[str, Any], settings: dict[str, Any]) -> PretrainedSpec:
    defaults = dataclasses.asdict(METHODS[method]())
    settings = {**defaults, **settings}
    known = {field.name for field in dataclasses.fields(CorpusConfig)}
    read = CorpusConfig(**{key: value for key, value in corpus.items() if key in known})
    rows, left_out = read.num_words, read.left_out
    if method == "word2vec":
        return PretrainedSpec(method, rows, settings["vector_size"], left_out=left_out)
    if method == "region":
        return PretrainedSpec(
            method,
            rows,
            settings["embedding_dim"],
            units=settings["units"],
            region_size=settings["region_size"],
            left_out=left_out,
        )
    return PretrainedSpec(
        method,
        rows,
        settings["embedding_dim"],
        settings["cell"],
        settings["units"],
        settings["num_layers"],
        left_out=left_out,
    )


@dataclass(frozen=True)
class PretrainConfig:
    """A resolved pretraining config: `method` names the section of `settings`."""

    name: str = "word2vec"
    corpus: CorpusConfig = dataclasses.field(default_factory=CorpusConfig)
    method: str = "word2vec"
    settings: Any = dataclasses.field(default_factory=Word2VecConfig)

    def to_dict(self) -> dict[str, Any]:
        """The pretraining run's `config.yaml`."""
        return {"corpus": dataclasses.asdict(self.corpus), self.method: dataclasses.asdict(self.settings)}


def find_pretrain_config(name: str | Path) -> Path:
    """`name` as a path to a file, else `configs/pretrain/<name>[.yaml]` in the working folder, else shipped."""
    return find_in_configs(name, FOLDER, what="pretraining config")


def load_pretrain_config(
    path: str | Path, overrides: list[str] | tuple[str, ...] = (), name: str | None = None
) -> PretrainConfig:
    """Reads and checks a pretraining config; `overrides` are `section.key=value` like `--set`; `name`
    (default: the file's stem) names its runs."""
    return load(PRETRAINING, path, overrides, name)


def _build(name: str, raw: dict[str, dict[str, Any]], origin: Origin, source: str) -> PretrainConfig:
    methods = [section for section in raw if section in METHODS]
    if len(methods) != 1:
        raise ConfigError(
            f"{source}: a pretraining config needs one method: expected one section of "
            f"{', '.join(METHODS)}, received {', '.join(methods) or 'none'}."
        )
    method = methods[0]
    return PretrainConfig(
        name=name,
        corpus=check_section(CorpusConfig, "corpus", raw.get("corpus", {}), origin),
        method=method,
        settings=check_section(METHODS[method], method, raw[method], origin),
    )


PRETRAINING = Kind("pretraining config", FOLDER, ("corpus", *METHODS), _build)


def pretrained_spec(value: str, where: str) -> PretrainedSpec:
    """What `model.pretrained: value` gives a classifier — read from the pretraining run folder's
    `config.yaml`, or from the pretraining config of that name — without training anything. A one-line
    `ConfigError` naming `where` when `value` is neither."""
    path = Path(value).expanduser()
    if path.is_dir():
        raw = read_yaml(path / "config.yaml") if (path / "config.yaml").is_file() else {}
        method = next((name for name in METHODS if isinstance(raw.get(name), dict)), None)
        corpus = raw.get("corpus")
        if method is None or not isinstance(corpus, dict):
            raise ConfigError(
                f"{where}: invalid value for `model.pretrained`: expected a pretraining run folder (made by "
                f"`imdb-rnn pretrain`, with its config.yaml) or a pretraining config name, received the folder "
                f"{show(value)}."
            )
        return spec_of(method, corpus, raw[method])
    try:
        found = find_pretrain_config(value)
    except ConfigError:
        raise ConfigError(
            f"{where}: invalid value for `model.pretrained`: expected a pretraining run folder or a pretraining "
            f"config ({', '.join(shipped_names(FOLDER))}, or a path), received {show(value)}."
        ) from None
    config = load_pretrain_config(found)
    return spec_of(config.method, dataclasses.asdict(config.corpus), dataclasses.asdict(config.settings))
