"""The ensembles of a reproduction: `configs/ensembles/<name>.yaml` names its members as (config, start)
pairs, as `imdb-rnn reproduce` trains them, and how their weights are chosen.

    # configs/ensembles/lstm_nbsvm.yaml
    members:
      - {config: lstm, start: word2vec+mixed}
      - {config: baseline_nbsvm, start: scratch}
    weights: validation        # or equal; `objective: log_loss` to weigh by validation loss

`imdb-rnn reproduce --ensembles lstm_nbsvm --seeds 1 2 3` trains (or finds) each seed's member runs as
it trains any row, then makes one ensemble a seed of that seed's runs (`make_ensemble`: weights chosen on
the validation reviews alone, the test reviews read once at the end) and records it in the ledger as a
row of start `ensemble`. Its config hash covers the spec and its members' config hashes, so an edited
member makes a new row; its minutes are its members' training together (making it takes seconds).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from imdb_rnn.config import read_yaml
from imdb_rnn.config.reading import find_in_configs
from imdb_rnn.data import text
from imdb_rnn.errors import ConfigError, show
from imdb_rnn.files import read_json, read_json_or_none
from imdb_rnn.reports.results import where_and_when
from imdb_rnn.runs import status

ENSEMBLE = "ensemble"  # the `start` of an ensemble's ledger row
KEYS = ("members", "weights", "objective")


@dataclass(frozen=True)
class EnsembleSpec:
    """A shipped ensemble: `members` are `(config, start)` pairs; `weights` `equal` or `validation`."""

    name: str
    source: str
    members: tuple[tuple[str, str], ...]
    weights: str = "validation"
    objective: str | None = None

    @property
    def folder_name(self) -> str:
        return f"ensemble_{self.name}"


def load_spec(name: str | Path) -> EnsembleSpec:
    """`configs/ensembles/<name>.yaml` (or a path); a one-line `ConfigError` naming the file and key."""
    path = find_in_configs(name, "ensembles", "ensemble file")
    content, source = read_yaml(path), str(path)
    if not isinstance(content, dict):
        raise ConfigError(f"{source}: expected a mapping with `members`, received {show(content)}.")
    for key in content:
        if key not in KEYS:
            raise ConfigError(f"{source}: unknown key `{key}`: expected one of {', '.join(KEYS)}.")
    members = content.get("members")
    if not isinstance(members, list) or len(members) < 2:
        raise ConfigError(
            f"{source}: invalid value for `members`: expected a list of at least two "
            f"{{config, start}} mappings, received {show(members)}."
        )
    pairs = []
    for number, member in enumerate(members, 1):
        if (
            not isinstance(member, dict)
            or set(member) - {"config", "start"}
            or not isinstance(member.get("config"), str)
        ):
            raise ConfigError(
                f"{source}: invalid member {number}: expected a mapping with `config` (a config name) and "
                f"optionally `start` (default scratch), received {show(member)}."
            )
        pairs.append((member["config"], str(member.get("start", "scratch"))))
    weights, objective = content.get("weights", "validation"), content.get("objective")
    if weights not in ("equal", "validation"):
        raise ConfigError(
            f"{source}: invalid value for `weights`: expected equal or validation, received {show(weights)}."
        )
    if objective not in (None, "accuracy", "log_loss") or (objective is not None and weights != "validation"):
        raise ConfigError(
            f"{source}: invalid value for `objective`: expected accuracy or log_loss with `weights: validation`, "
            f"received {show(objective)} with `weights: {weights}`."
        )
    return EnsembleSpec(path.stem, source, tuple(pairs), weights, objective)


def spec_hash(spec: EnsembleSpec, member_hashes: list[str]) -> str:
    """The hex SHA-256 of what makes the ensemble: its members (config, start, config hash) and weighting."""
    content = {
        "members": [[name, start, digest] for (name, start), digest in zip(spec.members, member_hashes)],
        "weights": spec.weights,
        "objective": spec.objective,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def find_or_make(spec: EnsembleSpec, members: list[Path], output_dir: Path) -> Path:
    """The completed ensemble of exactly `members` under `output_dir` (made again only when there is none)."""
    from imdb_rnn.training.ensemble import make_ensemble

    wanted = [str(Path(member).resolve()) for member in members]
    for folder in sorted(Path(output_dir).glob(f"{spec.folder_name}-*")):
        config = read_yaml(folder / "config.yaml") if (folder / "config.yaml").is_file() else {}
        listed = (config.get("model") or {}).get("members") if isinstance(config, dict) else None
        if listed == wanted and status.state_of(folder) == "completed":
            print(f"reusing {folder} for {spec.name}", flush=True)
            return folder
    return make_ensemble(wanted, spec.weights, spec.objective, output_dir, spec.folder_name)


def ensemble_record(spec: EnsembleSpec, run: Path, seed: int, members: list[Path], digest: str, machine: str) -> dict:
    """The ledger row of an ensemble run folder (the keys of `results.run_record`'s rows)."""
    metrics = read_json(run / "metrics.json")
    costs = [read_json_or_none(Path(member) / "metrics.json") or {} for member in members]
    weights = ", ".join(f"{member['weight']:.2f}" for member in metrics["ensemble"]["members"])
    return {
        "config": spec.name,
        "architecture": ENSEMBLE,
        "start": ENSEMBLE,
        "seed": seed,
        "run": run.name,
        "test_accuracy": metrics["test_accuracy"],
        "best_epoch": None,
        "epochs_run": 0,
        "median_epoch_seconds": None,
        "training_seconds": sum(float(cost.get("training_seconds") or 0.0) for cost in costs),
        "parameters": metrics["parameters"],
        "command": f"imdb-rnn reproduce --ensembles {spec.name} --seeds {seed}",
        "weights": weights,
        "members": [Path(member).name for member in members],
        "machine": machine,
        **where_and_when(run),
        "config_hash": digest,  # of the spec and its members: the folder's own hash is its config's
        "encoding": text.ENCODING,
    }
