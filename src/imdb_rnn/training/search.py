"""A search over config keys on validation accuracy, with Optuna: every trial an ordinary run folder, pruning
of unpromising trials, the test set never read, the winner written out as a config.

    folder = start("lstm", "configs/search/lstm.yaml", overrides=[], output_dir="outputs", seed=0)
    result = run_search(folder, trials=20)      # result.winner: <folder>/lstm_tuned.yaml

The search folder `<output_dir>/search/<config>-<YYYYmmdd-HHMMSS>/` holds what was asked (`search.json`,
and the base config with its overrides resolved, `base.yaml`), the Optuna study (`study.journal`, Optuna's
`JournalStorage`, appended to trial by trial), one run folder per trial (`<config>-trial-<n>-<time>/`, made
by `training.recipe.train` with `test=False`: validation only), `trials.csv` and the winner. Starting the
same search again (same base config, overrides, space and seed) continues that folder: finished trials are
kept, and a trial cut short by a kill is run again with its parameters. When the base config's own values
of the searched keys are all points of the space, they are the first trial: the winner is judged against
the starting point, measured the same way.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import yaml

from imdb_rnn.config import Config, load_config, save_config
from imdb_rnn.config.reading import Setting
from imdb_rnn.errors import RunError, RunFailed, RunInterrupted, RunPruned, UserError, show
from imdb_rnn.files import read_json, read_json_or_none, write_json, write_text
from imdb_rnn.runs.lifecycle import create_run_dir, newest_run
from imdb_rnn.training.recipe import train
from imdb_rnn.training.space import Dimension, find_space, read_space, trial_config

SEARCHES = "search"  # <output_dir>/search/<config>-<time>/
REQUEST, BASE, STUDY, TRIALS = "search.json", "base.yaml", "study.journal", "trials.csv"
STARTUP_TRIALS, WARMUP_EPOCHS = 3, 2  # the median pruner: trials finished before it prunes; epochs before it looks


def optuna_module() -> Any:
    """Optuna, imported on first use (an optional dependency), its per-trial log lines silenced."""
    try:
        import optuna
    except ImportError:
        raise UserError(
            "imdb-rnn search needs Optuna: expected it installed (pip install 'imdb-rnn[search]'), "
            "received no module named optuna."
        ) from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna


class ReportEpochs(keras.callbacks.Callback):
    """Reports each epoch's validation accuracy to an Optuna `trial` (step: the epoch, from 1) and raises
    `RunPruned` when its pruner judges the trial unpromising. It runs after the run's own callbacks, so the
    epoch is committed first and the pruned run keeps it."""

    def __init__(self, trial: Any) -> None:
        super().__init__()
        self.trial = trial

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = float((logs or {})["val_accuracy"])
        self.trial.report(value, epoch + 1)
        if self.trial.should_prune():
            raise RunPruned(
                f"pruned by the search after epoch {epoch + 1}: validation accuracy {value:.4f} judged unpromising"
            )


@dataclass
class SearchResult:
    """A search's state: its `folder`, one row per trial (`trials.csv`), the best completed trial's row
    (None without one) and the winner config written for it (`winner`, None without one)."""

    folder: Path
    rows: list[dict[str, Any]]
    best: dict[str, Any] | None
    winner: Path | None


def start(
    config: str | Path, space: str | Path, overrides: list[str], output_dir: str | Path, seed: int, trials: int
) -> tuple[Path, bool]:
    """`(search folder, resumed)`: the newest folder under `<output_dir>/search/` that asked for the same
    search (base config and `overrides`, space, `seed`), or a new one. Everything is checked first:
    a `ConfigError` names the config, override or space file and key."""
    base = load_config(config, overrides)
    dimensions = read_space(space, config, overrides)
    request = json.loads(json.dumps({"base": base.to_dict(), "space": [d.to_dict() for d in dimensions], "seed": seed}))
    parent = Path(output_dir) / SEARCHES

    def same(folder: Path) -> bool:
        asked = read_json_or_none(folder / REQUEST)
        return isinstance(asked, dict) and {key: asked.get(key) for key in request} == request

    found = newest_run(parent, base.name, same) if parent.is_dir() else None
    if found is not None:
        write_json(found / REQUEST, {**read_json(found / REQUEST), "trials": trials})
        return found, True
    folder = create_run_dir(parent, base.name, what="search folder")
    save_config(base, folder / BASE)
    write_json(
        folder / REQUEST,
        {**request, "name": base.name, "config": str(config), "space_file": str(find_space(space)), "trials": trials},
    )
    return folder, False


def check_search_folder(folder: Path) -> dict[str, Any]:
    """The `search.json` of a search folder; a one-line `RunError` when `folder` is not one."""
    asked = read_json_or_none(Path(folder) / REQUEST) if Path(folder).is_dir() else None
    if not isinstance(asked, dict) or not (Path(folder) / BASE).is_file():
        raise RunError(
            f"{folder}: not a search folder: expected a folder made by imdb-rnn search (with {REQUEST} and {BASE}), "
            f"received {'a path that does not exist' if not Path(folder).exists() else 'something else'}."
        )
    return asked


def run_search(
    folder: Path, trials: int | None = None, pruner: Any = None, sampler: Any = None, verbose: int | None = None
) -> SearchResult:
    """Runs the search of `folder` until it has `trials` finished trials (completed, pruned or failed; default:
    as its `search.json` asks), then writes `trials.csv` and the winner (also when interrupted).

    `pruner` defaults to Optuna's `MedianPruner` (after `STARTUP_TRIALS` finished trials, from epoch
    `WARMUP_EPOCHS`); `sampler` to a `TPESampler` seeded by the search's seed plus the trials it already
    has (so a resumed search does not draw its first trials again). Ctrl-C comes out as `RunInterrupted`."""
    optuna = optuna_module()
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    asked = check_search_folder(folder)
    if trials is not None and trials != asked["trials"]:  # the total asked for now, kept for the next resume
        asked = {**asked, "trials": trials}
        write_json(folder / REQUEST, asked)
    trials = asked["trials"]
    dimensions = [Dimension(**{**d, "choices": tuple(d["choices"])} if "choices" in d else d) for d in asked["space"]]
    pruner = pruner or optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS, n_warmup_steps=WARMUP_EPOCHS)
    storage = JournalStorage(JournalFileBackend(str(folder / STUDY)))
    study = optuna.create_study(
        study_name="search", storage=storage, direction="maximize", pruner=pruner, load_if_exists=True
    )
    _recover(study, optuna.trial.TrialState)
    if not study.trials:  # the starting point is measured too, so the winner is judged against it
        base = base_point(load_config(folder / BASE), dimensions)
        if base is not None:
            study.enqueue_trial(base, user_attrs={"base": True})
    study.sampler = sampler or optuna.samplers.TPESampler(seed=asked["seed"] + len(study.trials))
    remaining = trials - len(_finished(study, optuna.trial.TrialState))

    def objective(trial: Any) -> float:
        params = {dimension.key: dimension.suggest(trial) for dimension in dimensions}
        shown = ", ".join(f"{key}={show(value)}" for key, value in params.items())
        starting = " (the base config's own values)" if trial.user_attrs.get("base") else ""
        print(f"== trial {trial.number}{starting}: {shown}", flush=True)
        try:
            config = trial_config(folder / BASE, params, f"{asked['name']}-trial-{trial.number}")
            keras.backend.clear_session(free_memory=True)  # drop the previous trial's graphs and weights
            run = train(config, folder, verbose=verbose, extra_callbacks=[ReportEpochs(trial)], test=False)
        except RunPruned as pruned:
            trial.set_user_attr("run", str(pruned.run))
            print(f"trial {trial.number}: {pruned}", flush=True)
            raise optuna.TrialPruned(str(pruned)) from None
        except (RunFailed, UserError) as error:  # recorded; the search goes on
            trial.set_user_attr("error", str(error))
            trial.set_user_attr("run", str(getattr(error, "run", "") or ""))
            print(f"warning: trial {trial.number} failed: {error}", flush=True)
            return math.nan
        except RunInterrupted as interrupt:
            trial.set_user_attr("run", str(interrupt.run or ""))
            raise
        trial.set_user_attr("run", str(run))
        metrics = read_json(run / "metrics.json")
        trial.set_user_attr("best_epoch", metrics["best_epoch"])
        return float(metrics["best_val_accuracy"])

    try:
        if remaining > 0:
            study.optimize(objective, n_trials=remaining, gc_after_trial=False)
    finally:
        result = write_results(folder, study, asked)
    return result


def base_point(base: Config, dimensions: list[Dimension]) -> dict[str, Any] | None:
    """The base config's own values of the searched keys, when every one is a point of the space (then
    the search's first trial trains the base config itself); None otherwise."""
    point, values = {}, base.to_dict()
    for dimension in dimensions:
        section, key = dimension.key.split(".", 1)
        value = values[section].get(key)
        if not dimension.holds(value):
            return None
        point[dimension.key] = value
    return point


def _recover(study: Any, states: Any) -> None:
    """A search killed mid-trial left it `RUNNING` (its process is gone: mark it failed), and an interrupted
    trial (failed without an error of its own) is queued again with its parameters, once."""
    for trial in study.get_trials(deepcopy=False, states=(states.RUNNING,)):
        study.tell(trial.number, state=states.FAIL)
    trials = study.get_trials(deepcopy=False)
    redone = {trial.user_attrs.get("redo_of") for trial in trials}
    for trial in trials:
        if trial.state == states.FAIL and "error" not in trial.user_attrs and trial.number not in redone:
            study.enqueue_trial(trial.params, user_attrs={"redo_of": trial.number})


def _finished(study: Any, states: Any) -> list[Any]:
    """Trials that count towards the total: completed, pruned, or failed on their own (not interrupted)."""
    return [
        trial
        for trial in study.get_trials(deepcopy=False)
        if trial.state in (states.COMPLETE, states.PRUNED)
        or (trial.state == states.FAIL and "error" in trial.user_attrs)
    ]


def trial_rows(folder: Path, study: Any, asked: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per trial: `trial`, `state` (completed, pruned, failed, interrupted, running, waiting),
    `val_accuracy` (the run's best; for an unfinished trial the best epoch reported), `epochs`, `run`, then
    each searched key."""
    names = {"COMPLETE": "completed", "PRUNED": "pruned", "RUNNING": "running", "WAITING": "waiting"}
    keys = [dimension["key"] for dimension in asked["space"]]
    rows = []
    for trial in study.get_trials(deepcopy=False):
        state = names.get(trial.state.name) or ("failed" if "error" in trial.user_attrs else "interrupted")
        reported = [value for value in trial.intermediate_values.values() if not math.isnan(value)]
        value = trial.value if state == "completed" else (max(reported) if reported else None)
        run = trial.user_attrs.get("run") or newest_run(folder, f"{asked['name']}-trial-{trial.number}", lambda _: True)
        rows.append(
            {
                "trial": trial.number,
                "state": state,
                "val_accuracy": value,
                "epochs": len(trial.intermediate_values),
                "run": str(run or ""),
                **{key: trial.params.get(key) for key in keys},
            }
        )
    return rows


def write_results(folder: Path, study: Any, asked: dict[str, Any]) -> SearchResult:
    """Writes `trials.csv` and, when a trial completed, the winner `<config>_tuned.yaml`."""
    rows = trial_rows(folder, study, asked)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["trial", "state"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(folder / TRIALS, text.getvalue())
    completed = [row for row in rows if row["state"] == "completed" and row["val_accuracy"] is not None]
    if not completed:
        return SearchResult(folder, rows, None, None)
    best = max(completed, key=lambda row: row["val_accuracy"])  # the first of equals
    return SearchResult(folder, rows, best, write_winner(folder, best, asked))


def write_winner(folder: Path, best: dict[str, Any], asked: dict[str, Any]) -> Path:
    """`<folder>/<config>_tuned.yaml`: the best trial's config as a config file that trains on its own (what
    differs from the defaults), with a comment naming the search, its validation accuracy and what it
    changed in the base config."""
    name = asked["name"]
    params = {key: best[key] for key in (dimension["key"] for dimension in asked["space"])}
    base = load_config(folder / BASE, name=name).to_dict()
    winner = trial_config(folder / BASE, params, name).to_dict()
    defaults = load_config(
        None, [Setting("model.architecture", winner["model"]["architecture"], str(folder))]
    ).to_dict()
    body = {
        section: {key: value for key, value in values.items() if value != defaults[section].get(key)}
        for section, values in winner.items()
    }
    changed = [
        f"{key} {show(base[s][k])} → {show(winner[s][k])}"
        for key in params
        for s, k in [key.split(".", 1)]
        if base[s].get(k) != winner[s][k]
    ]
    path = folder / f"{name}_tuned.yaml"
    header = [
        f"# The winner of the search {folder} (space {asked['space_file']}): trial {best['trial']},",
        f"# best validation accuracy {best['val_accuracy']:.4f}, chosen on validation alone (no test review read).",
        f"# Over the base config {asked['config']} it changes: {', '.join(changed) or 'nothing'}.",
        f"# Train it: imdb-rnn train --config {path}",
    ]
    content = yaml.safe_dump({s: v for s, v in body.items() if v}, sort_keys=False, allow_unicode=True)
    write_text(path, "\n".join(header) + "\n" + content)
    return path


def table(rows: list[dict[str, Any]]) -> str:
    """An aligned table of the trials: number, state, validation accuracy, epochs, the searched values."""
    fixed = ("trial", "state", "val_accuracy", "epochs", "run")
    keys = [key for key in (rows[0] if rows else {}) if key not in fixed]
    lines = [["trial", "state", "val accuracy", "epochs", *keys]]
    for row in rows:
        value = "-" if row["val_accuracy"] is None else f"{row['val_accuracy']:.4f}"
        lines.append([str(row["trial"]), row["state"], value, str(row["epochs"]), *(show(row[key]) for key in keys)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)
