"""Pretraining runs: each in its own folder under `<output_dir>/pretrain/`, reused for the same config.

    folder, reused = pretrain(load_pretrain_config("word2vec"))   # outputs/pretrain/word2vec-<stamp>/

A pretraining run folder holds `config.yaml` (resolved), `status.json`, `metrics.json` (corpus size,
minutes, machine) and the embedding rows for every Keras token id (`vectors.npz`); word vectors add
`neighbours.md`, a language model and a region embedding their `model.keras`, `history.csv`, plots and
`backup/` (for `resume_pretraining`), a region embedding its `regions.npz`. A classifier names the folder,
or the pretraining config, with `model.pretrained` (`resolve_pretrained`).
"""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from imdb_rnn.config import DataConfig
from imdb_rnn.config.pretraining import FOLDER, PretrainConfig, load_pretrain_config, pretrained_spec
from imdb_rnn.data.sources import complete_aclimdb, locate
from imdb_rnn.environment import commit, machine
from imdb_rnn.environment import versions as environment_versions
from imdb_rnn.errors import ConfigError, RunError, UserError
from imdb_rnn.files import write_json
from imdb_rnn.pretraining.word_vectors import VECTORS_FILE, pretrain_word2vec
from imdb_rnn.progress import say
from imdb_rnn.runs import status
from imdb_rnn.runs.lifecycle import check_resumable, create_run_dir, newest_run, write_config


def pretrain(
    config: PretrainConfig, output_dir: str | Path = "outputs", reuse: bool = True, out: Callable[[str], None] = say
) -> tuple[Path, bool]:
    """Runs `config` in a new folder under `<output_dir>/pretrain/` and returns `(folder, False)`; with
    `reuse`, returns `(folder, True)` for a completed folder of the same config instead of training again."""
    parent = Path(output_dir) / FOLDER
    if reuse and (found := find_pretraining(config, parent)) is not None:
        return found, True
    location = _corpus(config)
    run = create_run_dir(parent, config.name, what="pretraining run folder")
    write_config(run, config)
    out(f"pretraining {config.method} into {run}")
    _run(config, run, location, resumed=False, out=out)
    return run, False


def resume_pretraining(run: Path, out: Callable[[str], None] = say) -> tuple[Path, bool]:
    """Continues an interrupted, failed or crashed pretraining run in its folder (a language model from
    its last completed epoch, word vectors from the start); `(run, False)` if it had completed."""
    name, state = check_resumable(Path(run))
    if state == "completed":
        return Path(run), False
    config = load_pretrain_config(Path(run) / "config.yaml", name=name)
    out(f"resuming {config.method} pretraining in {run}")
    _run(config, Path(run), _corpus(config), resumed=True, out=out)
    return Path(run), True


def _corpus(config: PretrainConfig):
    return complete_aclimdb(locate(DataConfig(source="aclimdb", path=config.corpus.path)), DataConfig())


def _run(config: PretrainConfig, run: Path, location, resumed: bool, out: Callable[[str], None]) -> None:
    with status.tracking(run, config.name, resumed=resumed):
        reviews, word_index = Path(location.path), Path(location.word_index)
        if config.method == "word2vec":
            figures, where = pretrain_word2vec(config, run, reviews, word_index, out), machine(with_gpus=False)
            versions = {"python": platform.python_version(), "gensim": metadata.version("gensim")}
        elif config.method == "region":
            from imdb_rnn.pretraining.regions import train_region_embedding  # Keras

            start = config.settings.word_vectors
            # the word vectors its embedding starts from, found or made beside this run (not needed to resume)
            vectors = start_vectors(config, run.parent.parent, out) if start and not resumed else None
            figures = train_region_embedding(config, run, reviews, word_index, vectors, resumed, out)
            where, versions = machine(), environment_versions()
        else:
            from imdb_rnn.pretraining.language_model import train_language_model  # Keras

            figures = train_language_model(config, run, reviews, word_index, resumed, out)
            where, versions = machine(), environment_versions()
        write_json(
            run / "metrics.json",
            {"method": config.method, **figures, "machine": where, "versions": versions, "commit": commit()},
        )


def find_pretraining(config: PretrainConfig, parent: Path) -> Path | None:
    """The newest completed pretraining folder under `parent` whose `config.yaml` is `config`'s (keys a
    folder's config lacks, added to the pretraining configs after it was made, read as their defaults)."""
    wanted = config.to_dict()

    def matches(folder: Path) -> bool:
        if status.state_of(folder) != "completed" or not (folder / VECTORS_FILE).is_file():
            return False
        try:
            return load_pretrain_config(folder / "config.yaml", name=config.name).to_dict() == wanted
        except UserError:
            return False

    return newest_run(parent, config.name, matches)


def start_vectors(config: PretrainConfig, output_dir: Path, out: Callable[[str], None] = say) -> Path:
    """The word vectors a region embedding's embedding starts from (`region.word_vectors`): a folder, or the
    run of a pretraining config read with this corpus's left-out validation reviews (found or made), so that
    what one pretraining leaves out does not come back through the other. A folder whose corpus left out
    other reviews than this one's is a `ConfigError`."""
    start, left_out = config.settings.word_vectors, config.corpus.left_out
    if Path(start).expanduser().is_dir():
        spec = pretrained_spec(start, "region.word_vectors")
        if spec.left_out != left_out:
            raise ConfigError(
                f"region.word_vectors: the word vectors of {start} read other reviews than this corpus: expected "
                f"a pretraining whose corpus left out {_validation(left_out)}, received one that left out "
                f"{_validation(spec.left_out)}."
            )
        return resolve_pretrained(start, output_dir, out)
    vectors = load_pretrain_config(start)
    if left_out is not None:
        corpus = config.corpus
        vectors = dataclasses.replace(
            vectors,
            corpus=dataclasses.replace(
                vectors.corpus,
                leave_out_validation=True,
                validation_split=corpus.validation_split,
                validation_split_by=corpus.validation_split_by,
                validation_seed=corpus.validation_seed,
            ),
        )
    folder, reused = pretrain(vectors, output_dir, reuse=True, out=out)
    out(f"{'reusing' if reused else 'pretrained'} {folder} for region.word_vectors={start}")
    return folder


def _validation(left_out: tuple[float, str, int] | None) -> str:
    if left_out is None:
        return "no validation reviews"
    share, split_by, seed = left_out
    return f"the validation reviews of validation_split={share}, validation_split_by={split_by}, seed={seed}"


def is_pretraining_folder(path: Path) -> bool:
    return (Path(path) / "config.yaml").is_file() and (Path(path) / VECTORS_FILE).is_file()


def resolve_pretrained(value: str, output_dir: str | Path = "outputs", out: Callable[[str], None] = say) -> Path:
    """The pretraining folder `model.pretrained: value` names: the folder itself, or the run of the
    pretraining config of that name (reused when one completed, trained first otherwise)."""
    path = Path(value).expanduser()
    if path.is_dir():
        if not is_pretraining_folder(path):
            raise RunError(f"{path}: not a pretraining run: expected config.yaml and {VECTORS_FILE}, received neither.")
        return path
    folder, reused = pretrain(load_pretrain_config(value), output_dir, reuse=True, out=out)
    out(f"{'reusing' if reused else 'pretrained'} {folder} for model.pretrained={value}")
    return folder
