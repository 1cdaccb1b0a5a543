"""`imdb-rnn search` on the tiny corpus: trials are ordinary run folders judged on validation accuracy, the
test set is never read, a poor trial is pruned, a killed search resumes without redoing finished trials,
the winner is a config, and a bad space file is one line and exit 2."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from conftest import TINY_OVERRIDES, run_command, write

SPACE = "model.units: [8, 16]\ntrain.learning_rate: {low: 0.005, high: 0.03, log: true}\n"


def sets(corpus: Path, *extra: str) -> list[str]:
    return [
        word for item in [*TINY_OVERRIDES, "train.epochs=2", f"data.path={corpus}", *extra] for word in ("--set", item)
    ]


def rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "trials.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def trial_runs(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_dir() and path.name.startswith("lstm-trial-"))


@pytest.fixture(scope="module")
def searched(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-trial search over a list and a range, with every way of reading the test set made to fail."""
    from imdb_rnn.training import recipe

    root = tmp_path_factory.mktemp("search")
    space = write(root / "space.yaml", SPACE)

    def never(*args, **kwargs):
        raise AssertionError("a search trial read the test set")

    with pytest.MonkeyPatch.context() as patch:
        for name in ("predict_dataset", "record_evaluation", "classification_metrics"):
            patch.setattr(recipe, name, never)  # what recipe._train evaluates the test set with
        argv = ["--config", "lstm", "--space", str(space), "--trials", "3", "--seed", "1", "--output-dir", str(root)]
        assert run_command("search", [*argv, *sets(tiny_corpus)]) == 0
    (folder,) = (root / "search").iterdir()
    return folder


def test_a_search_makes_a_run_folder_a_trial_and_a_winner_config(searched: Path) -> None:
    from imdb_rnn.config import load_config
    from imdb_rnn.runs import status
    from imdb_rnn.training.recipe import resolve_for_backend

    table = rows(searched)
    assert [row["trial"] for row in table] == ["0", "1", "2"]
    # The base config's own values (units 16, learning rate 0.02) lie in the space: they are trial 0.
    assert (table[0]["model.units"], float(table[0]["train.learning_rate"])) == ("16", 0.02)
    assert {row["state"] for row in table} <= {"completed", "pruned"} and table[0]["state"] == "completed"
    runs = trial_runs(searched)
    assert len(runs) == 3 and sorted(row["run"] for row in table) == [str(run) for run in runs]
    for row in table:
        assert row["model.units"] in ("8", "16") and 0.005 <= float(row["train.learning_rate"]) <= 0.03
        assert status.state_of(Path(row["run"])) == row["state"]
    completed = [row for row in table if row["state"] == "completed"]
    best = max(completed, key=lambda row: float(row["val_accuracy"]))
    winner = load_config(searched / "lstm_tuned.yaml")
    assert winner.model.params["units"] == int(best["model.units"])
    assert winner.train.learning_rate == float(best["train.learning_rate"])
    trial = load_config(Path(best["run"]) / "config.yaml")
    assert resolve_for_backend(winner).to_dict() == trial.to_dict()  # the whole config, not only its keys
    text = (searched / "lstm_tuned.yaml").read_text(encoding="utf-8")
    assert f"trial {best['trial']}," in text and f"{float(best['val_accuracy']):.4f}" in text and str(searched) in text


def test_no_trial_reads_the_test_set(searched: Path) -> None:
    from imdb_rnn.files import read_json

    for run in trial_runs(searched):
        metrics = read_json(run / "metrics.json")
        assert metrics["test_accuracy"] is None and metrics["test_loss"] is None and "evaluation" not in metrics
        assert not (run / "confusion_matrix.png").exists() and not (run / "roc_curve.png").exists()


def test_a_trial_that_cannot_learn_is_pruned(tiny_corpus: Path, tmp_path: Path) -> None:
    """A learning rate of 1e-30 leaves the weights as they start: validation accuracy stays that of an
    untrained model (0.4 here), far below the 0.7 the threshold asks from epoch 3; 0.02 learns the corpus."""
    import optuna

    from imdb_rnn.files import read_json
    from imdb_rnn.runs import status
    from imdb_rnn.training.search import run_search, start

    space = write(tmp_path / "space.yaml", "train.learning_rate: [0.02, 1.0e-30]\n")
    overrides = [*TINY_OVERRIDES, "train.epochs=4", "train.early_stopping=null", f"data.path={tiny_corpus}"]
    overrides.append("train.learning_rate=0.01")  # off the space: no trial of the base config's own values
    folder, _ = start("lstm", space, overrides, tmp_path, seed=0, trials=2)
    sampler = optuna.samplers.GridSampler({"train.learning_rate": [0.02, 1e-30]}, seed=0)
    result = run_search(
        folder, pruner=optuna.pruners.ThresholdPruner(lower=0.7, n_warmup_steps=3), sampler=sampler, verbose=0
    )
    by_rate = {float(row["train.learning_rate"]): row for row in result.rows}
    poor, good = by_rate[1e-30], by_rate[0.02]
    assert poor["state"] == "pruned" and poor["epochs"] == 3
    run = Path(poor["run"])
    assert (
        status.state_of(run) == "pruned"
        and "pruned by the search after epoch 3" in read_json(run / "status.json")["error"]
    )
    assert not (run / "metrics.json").exists() and len((run / "history.csv").read_text().splitlines()) == 1 + 3
    assert good["state"] == "completed" and status.state_of(Path(good["run"])) == "completed"
    assert result.best["trial"] == good["trial"]  # a pruned trial is never the winner


def test_a_killed_search_resumes_without_redoing_finished_trials(
    searched: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imdb_rnn.training.search import ReportEpochs

    folder = shutil.copytree(searched, tmp_path / searched.name)
    before = rows(folder)

    def killed(self, logs=None):
        if self.trial.number == 3:
            raise KeyboardInterrupt  # Ctrl-C as trial 3 starts training

    monkeypatch.setattr(ReportEpochs, "on_train_begin", killed, raising=False)
    assert run_command("search", ["--resume", str(folder), "--trials", "4"]) == 130
    assert rows(folder)[3]["state"] == "interrupted"
    monkeypatch.undo()
    assert run_command("search", ["--resume", str(folder)]) == 0
    after = rows(folder)
    assert after[:3] == before  # finished trials kept as they were, not trained again
    assert [row["state"] for row in after[3:]] == ["interrupted", "completed"]
    assert after[4]["model.units"] == after[3]["model.units"]  # the interrupted trial, run again
    assert after[4]["train.learning_rate"] == after[3]["train.learning_rate"]
    assert len(trial_runs(folder)) == 3 + 2
    assert run_command("search", ["--resume", str(folder)]) == 0  # nothing left to do: no new run
    assert len(trial_runs(folder)) == 5


@pytest.mark.parametrize(
    ("space", "says"),
    [
        ("model.unitz: [8, 16]\n", "unknown key `model.unitz` (did you mean `model.units`?)"),
        ("model.units: [8, many]\n", "invalid value for `model.units`: expected an integer >= 1, received 'many'"),
        ("model:\n  units: {low: 8.5, high: 16}\n", "invalid value for `model.units`: expected an integer"),
        ("train.learning_rate: {low: 0.1, high: 0.01}\n", "`train.learning_rate`: expected numbers low < high"),
        ("model.pooling: max\n", "`model.pooling`: expected a list of values or a range"),
        ("{}\n", "empty search space"),
    ],
)
def test_a_bad_space_is_one_line_and_exit_2(
    space: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "space.yaml", space)
    code = run_command("search", ["--config", "lstm", "--space", str(path), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert (
        err.startswith(f"imdb-rnn search: error: {path}: ") and says in err and "expected" in err and "received" in err
    )
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize(
    "range_, value, held",
    [
        ({"choices": (0.02, 0.05)}, 0.02, True),
        ({"choices": (0.02, 0.05)}, 0.03, False),
        ({"choices": (1, 2)}, True, False),  # True == 1, but a flag is not a number of units
        ({"low": 0.005, "high": 0.03, "log": True}, 0.02, True),
        ({"low": 0.005, "high": 0.03, "log": True}, 0.001, False),
        ({"low": 0.0, "high": 0.5, "step": 0.1}, 0.3, True),
        ({"low": 0.0, "high": 0.5, "step": 0.1}, 0.25, False),
        ({"low": 32, "high": 128}, 64, True),
        ({"low": 32, "high": 128}, 64.5, False),
        ({"low": 32, "high": 128}, None, False),
    ],
)
def test_a_dimension_holds_its_own_points_only(range_: dict, value, held: bool) -> None:
    from imdb_rnn.training.space import Dimension

    assert Dimension("model.units", **range_).holds(value) is held


SHIPPED_SPACES = {"lstm": "lstm", "mixed": "best"}  # each shipped space and the config its header names


@pytest.mark.parametrize("space, config", sorted(SHIPPED_SPACES.items()))
def test_every_shipped_space_reads_against_its_config(space: str, config: str) -> None:
    from imdb_rnn.training.space import find_space, read_space

    dimensions = read_space(space, config)  # every value checked on top of the config, as --set is
    assert dimensions and f"--config {config} --space {space}" in find_space(space).read_text()


def test_every_shipped_space_is_checked() -> None:
    from imdb_rnn.training.space import find_space

    folder = find_space("lstm").parent
    assert sorted(path.stem for path in folder.glob("*.yaml")) == sorted(SHIPPED_SPACES)
