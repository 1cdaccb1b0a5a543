"""Train shipped configs on the full data with fixed seeds — from scratch and from each pretraining —
and write `docs/RESULTS.md` from the ledger of every run measured so far (`imdb_rnn.reports.results`).

    imdb-rnn reproduce                                   # every config in configs/, seeds 1 2 3, both starts
    imdb-rnn reproduce --configs lstm gru --starts word2vec

It can be stopped and started again, on another machine too: a (config, start, seed) that the ledger
already holds at the same config hash is skipped, each run is recorded as soon as it completes, a run
whose resolved config matches a completed run folder under `--output-dir` is not trained again, and an
interrupted or crashed one is resumed (the sweep's `reuse`, see `imdb_rnn.training.sweep`). A pretraining the runs start from is reused the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from imdb_rnn.config import Config, load_config, read_yaml
from imdb_rnn.config.pretraining import pretrained_spec
from imdb_rnn.config.reading import find_in_configs
from imdb_rnn.data import text
from imdb_rnn.environment import CHECKOUT, machine
from imdb_rnn.errors import ConfigError
from imdb_rnn.files import read_json_or_none, write_text
from imdb_rnn.reports.ensembles import ENSEMBLE, EnsembleSpec, ensemble_record, find_or_make, spec_hash
from imdb_rnn.reports.results import (
    SCRATCH,
    merge,
    pretraining_record,
    results_markdown,
    run_record,
    summary_table,
    with_summary,
)
from imdb_rnn.runs.provenance import config_hash
from imdb_rnn.training.recipe import resolve_for_backend
from imdb_rnn.training.sweep import Outcome, run_all

# Goals on the 25,000 test reviews (issues 7 and 12) and the published figures they stand beside.
GOALS = {
    "simple_rnn": (0.86, "≈0.85 (Chollet, *Deep Learning with Python*, validation)"),
    "lstm": (0.89, "≈0.89 (Chollet, validation)"),
    "gru": (0.89, ""),
    "stacked": (0.89, ""),
    "bidirectional": (0.89, "≈0.89 (Chollet, validation)"),
    "dropout": (0.89, ""),
    "cnn_lstm": (0.87, "0.85 after 2 epochs (Keras example imdb_cnn_lstm)"),
    "cnn": (0.90, ""),
    "best": (0.91, "0.906 (bag of bigrams, Keras fastText example)"),
    "baseline_bigrams": (0.90, "0.9056 (Keras fastText example, bigrams)"),
    "baseline_nbsvm": (0.915, "0.9122 (Wang & Manning 2012, NBSVM bigrams); 0.9187 (Mesnil et al. 2014, trigrams)"),
}
PRETRAINED_GOALS = {"simple_rnn": 0.88, "best": 0.93}  # issue 12; 0.90 for the others once pretrained
PUBLISHED = {  # (config, start): the published figure of that kind of start
    ("lstm", "word2vec"): "0.900 (Dai & Le 2015, LSTM with word2vec vectors)",
    ("lstm", "language_model"): "0.9236 (Dai & Le 2015, LM-LSTM)",
    ("best", "word2vec"): "0.9276 (Dai & Le 2015, SA-LSTM, for the 0.93 goal)",
    ("lstm", "recipe"): "0.9409 (Miyato et al. 2017, VAT); 0.9568 (Sachan et al. 2019, BiLSTM, mixed objective)",
    ("best", "recipe"): "0.9276 (Dai & Le 2015, SA-LSTM, for the 0.93 goal)",
    ("cnn", "region"): "0.9349 (Johnson & Zhang 2015, CNN with region embeddings of the unlabeled reviews)",
}
ENSEMBLE_GOAL = (0.935, "0.9257 (Mesnil et al. 2014: NBSVM, paragraph vectors and an RNN language model)")
RECIPE_GOALS = {"simple_rnn": 0.89, "best": 0.93}  # issue 23; 0.91 for the other recurrent configs
YARDSTICKS = ("bag_of_ngrams", "nbsvm")  # their rows stay the plain recipe: no pretrained start


@dataclass(frozen=True)
class Planned:
    """One (config, start, seed) of a reproduction: `extra` are the overrides the start adds."""

    path: Path
    start: str
    extra: tuple[str, ...]
    config: Config


def start_overrides(config: Config, start: str) -> tuple[str, ...] | None:
    """The overrides that start `config` from the pretraining `start` (its embedding size included, and a
    region embedding's shape), `()` for scratch, None where the start does not apply (a yardstick's row stays the plain recipe). A start
    may add a recipe, `word2vec+mixed` or `scratch+mixed`: the overrides of `configs/recipes/mixed.yaml`."""
    start, _, recipe = start.partition("+")
    if config.model.architecture in YARDSTICKS and (start != SCRATCH or recipe):
        return None
    extra = []
    if start != SCRATCH:
        spec = pretrained_spec(start, "--starts")
        extra.append(f"model.pretrained={start}")
        if config.model.params.get("embedding_dim") != spec.embedding_dim:
            extra.append(f"model.embedding_dim={spec.embedding_dim}")
        if spec.method == "region" and "region_units" in config.model.params:  # cnn, recurrent (yardsticks: none)
            extra += [f"model.region_units={spec.units}", f"model.region_size={spec.region_size}"]
    return tuple(extra + (recipe_overrides(recipe) if recipe else []))


def recipe_overrides(name: str) -> list[str]:
    """`configs/recipes/<name>.yaml` as `section.key=value` overrides (a `ConfigError` naming the shipped
    recipes when there is no such file)."""
    content = read_yaml(find_in_configs(name, "recipes", "recipe"))
    return [
        f"{section}.{key}={json.dumps(value)}"
        for section, values in content.items()
        for key, value in (values or {}).items()
    ]


def plan(
    paths: list[Path], seeds: tuple[int, ...], starts: tuple[str, ...], overrides: list[str] = ()
) -> list[Planned]:
    """Every (config, start, seed), each config loaded and checked before anything trains."""
    planned = []
    for path in paths:
        base = load_config(path, overrides)
        for start in starts:
            extra = start_overrides(base, start)
            if extra is None:
                continue
            try:  # the seed changes no check: the first config fails or none does
                configs = [load_config(path, [*overrides, *extra, f"train.seed={seed}"]) for seed in seeds]
            except ConfigError as error:  # e.g. a GRU classifier and an LSTM language model
                print(f"skipping {path.stem} from {start}: {error}", flush=True)
                continue
            label = start if "+" in start else Path(start).stem if start.endswith(".yaml") else start
            planned += [Planned(path, label, extra, config) for config in configs]
    return planned


def reproduce(
    paths: list[Path],
    seeds: tuple[int, ...] = (1, 2, 3),
    output_dir: Path = Path("outputs/reproduce"),
    overrides: list[str] = (),
    starts: tuple[str, ...] = (SCRATCH,),
    ledger: Path | None = None,
    ensembles: tuple[EnsembleSpec, ...] = (),
) -> list[tuple[Planned, Outcome]]:
    """Trains (or resumes) what is missing, one run after another; returns every (config, start, seed)
    trained or found under `output_dir`. `overrides` (`section.key=value`) shrink the runs for smoke
    tests; the results then say so.

    With `ledger` (docs/RESULTS.json), a (config, start, seed) the ledger already holds at the same
    config hash and text encoding is skipped — on a fresh machine too — and each run is added to the
    ledger as soon as it completes, so an interrupted reproduction loses at most the run in progress.
    Each of `ensembles` (`imdb_rnn.reports.ensembles`) adds its members' runs of every seed — trained,
    or found under `output_dir`, even when the ledger holds them — and then, seed by seed, the ensemble
    of those runs, recorded in the ledger unless it holds that ensemble already."""
    planned = plan(paths, seeds, starts, overrides)
    known = set()
    if ledger is not None:
        known = {_row_key(row) for row in (read_json_or_none(ledger) or {}).get("runs", []) if isinstance(row, dict)}
    wanted = []  # (spec, seed, member plans, hash) of each ensemble still to record
    for spec in ensembles:
        for seed in seeds:
            members = [_member(spec, name, start, seed, overrides) for name, start in spec.members]
            digest = spec_hash(spec, [_planned_key(member)[3] for member in members])
            if (spec.name, ENSEMBLE, seed, digest, text.ENCODING) in known:
                print(f"already recorded in {ledger}: ensemble {spec.name}, seed {seed}", flush=True)
            else:
                wanted.append((spec, seed, members, digest))
    needed = {_planned_key(member): member for *_, members, _ in wanted for member in members}
    keys = {_planned_key(p) for p in planned}
    planned += [member for key, member in needed.items() if key not in keys]
    for one in [p for p in planned if _planned_key(p) in known and _planned_key(p) not in needed]:
        print(
            f"already recorded in {ledger}: {one.config.name} from {one.start}, seed {one.config.train.seed}",
            flush=True,
        )
    planned = [p for p in planned if _planned_key(p) not in known or _planned_key(p) in needed]
    by_config = {id(p.config): p for p in planned}

    def after(outcome: Outcome) -> None:
        if ledger is not None and outcome.state == "completed":
            record([(by_config[id(outcome.config)], outcome)], ledger, overrides, announce=True)

    done = list(zip(planned, run_all([p.config for p in planned], output_dir, reuse=True, after=after)))
    outcomes = {_planned_key(p): outcome for p, outcome in done}
    for spec, seed, members, digest in wanted:
        found = [outcomes[_planned_key(member)] for member in members]
        if any(outcome.state != "completed" for outcome in found):
            print(f"warning: ensemble {spec.name}, seed {seed}: a member failed; not made", flush=True)
            continue
        folders = [outcome.run for outcome in found]
        run = find_or_make(spec, folders, output_dir)
        if ledger is not None:
            row = ensemble_record(spec, run, seed, folders, digest, machine())
            merge(ledger, [{**row, "overrides": " ".join(overrides)} if overrides else row], [])
    return done


def _member(spec: EnsembleSpec, name: str, start: str, seed: int, overrides: list[str]) -> Planned:
    """The planned run of one member of `spec` for `seed`; a `ConfigError` when it is no row of reproduce."""
    found = plan([find_in_configs(name)], (seed,), (start,), overrides)
    if not found:
        raise ConfigError(
            f"{spec.source}: invalid member {name} from {start}: expected a (config, start) that reproduce "
            f"trains, received a start that {name} does not take."
        )
    return found[0]


def _planned_key(planned: Planned) -> tuple:
    resolved = resolve_for_backend(planned.config).to_dict()
    return (planned.config.name, planned.start, planned.config.train.seed, config_hash(resolved), text.ENCODING)


def _row_key(row: dict) -> tuple:
    return (row.get("config"), row.get("start"), row.get("seed"), row.get("config_hash"), row.get("encoding", 1))


def command(planned: Planned, overrides: tuple[str, ...] | list[str] = ()) -> str:
    """The command that trains one (config, start, seed) of the reproduction by itself."""
    path = planned.path
    shown = path.resolve().relative_to(CHECKOUT) if path.resolve().is_relative_to(CHECKOUT) else path
    sets = [*overrides, *planned.extra, f"train.seed={planned.config.train.seed}"]
    return f"imdb-rnn train --config {shown} " + " ".join(f"--set {item}" for item in sets)


def record(
    done: list[tuple[Planned, Outcome]], ledger: Path, overrides: list[str] = (), announce: bool = False
) -> dict:
    """Adds the completed runs of `done` (and the pretrainings they started from) to the ledger file; with
    `announce`, says so for each run, with its test accuracy."""
    where = machine()
    runs, folders = [], {}
    for planned, outcome in done:
        if outcome.state != "completed":
            continue
        row = run_record(
            outcome.run,
            planned.config.name,
            planned.start,
            planned.config.train.seed,
            command(planned, overrides),
            where,
        )
        runs.append({**row, "overrides": " ".join(overrides)} if overrides else row)
        if announce:
            print(
                f"recorded in {ledger}: {row['config']} from {row['start']}, seed {row['seed']}: test accuracy "
                f"{row['test_accuracy']:.4f}",
                flush=True,
            )
        if outcome.config.model.pretrained is not None:
            folders.setdefault(read_pretrained(outcome.run))  # each pretraining once, however many runs used it
    costs = [pretraining_record(Path(folder)) for folder in folders]
    return merge(ledger, runs, [cost for cost in costs if cost is not None])


def read_pretrained(run: Path) -> str:
    """The pretraining folder a run started from, as its `config.yaml` records it."""
    return str(read_yaml(run / "config.yaml")["model"]["pretrained"])


def goal(name: str, start: str) -> tuple[float | None, str]:
    """`(goal, published figure)` of a config from a start; no goal for a config without one."""
    if start == ENSEMBLE:
        return ENSEMBLE_GOAL
    if start == SCRATCH:
        return GOALS.get(name, (None, ""))
    if name not in GOALS or name.startswith("baseline_"):
        return None, ""
    if "+" in start:  # with a recipe (issue 23): a single model of the new recipe
        return RECIPE_GOALS.get(name, 0.91), PUBLISHED.get((name, "recipe"), "")
    return PRETRAINED_GOALS.get(name, 0.90), PUBLISHED.get((name, start), "")


def read_ledger(path: Path) -> dict:
    """The ledger file (`docs/RESULTS.json`); a one-line `ConfigError` when it is missing or not a ledger."""
    content = read_json_or_none(path)
    if not isinstance(content, dict) or not isinstance(content.get("runs"), list):
        raise ConfigError(
            f"{path}: cannot read the ledger: expected a JSON object with a list of `runs`, received "
            f"{'no such file' if not Path(path).is_file() else 'something else'}."
        )
    return {"runs": content["runs"], "pretraining": content.get("pretraining", [])}


def write_results(ledger: dict, results: Path, readme: Path | None = None) -> None:
    """`results` (docs/RESULTS.md) from the whole ledger, and the results table of `readme` (between its
    markers) when given."""
    # Read first: a README without the markers is refused before anything is written.
    updated = None if readme is None else with_summary(readme, summary_table(ledger, goal))
    results.parent.mkdir(parents=True, exist_ok=True)
    write_text(results, results_markdown(ledger, goal))
    if updated is not None:
        write_text(readme, updated)
