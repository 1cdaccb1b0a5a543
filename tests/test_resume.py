"""Runs that survive: status, kill -9 then --resume, Ctrl-C and SIGTERM, NaN loss, full disks."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PROJECT, TINY_OVERRIDES, poison_weights, probed, requires_data, run_command, wait_for
from imdb_rnn.config import load_config
from imdb_rnn.errors import RunError, RunFailed, TrainingFailed
from imdb_rnn.runs import status
from imdb_rnn.training.callbacks import CommittedBackup, HistoryCSV, NaNGuard
from imdb_rnn.training.recipe import train
from imdb_rnn.training.records import rewind
from test_train import synthetic_splits

# Epochs of one to a few seconds on 2 cores, so that a signal lands in the middle of one.
# No early stopping: every epoch asked for runs, whatever the numerics of the machine.
SLOW_EPOCHS = [
    "data.limit=3000",
    "data.test_limit=200",
    "data.maxlen=200",
    "train.batch_size=64",
    "train.early_stopping=null",
]


def interruptible() -> None:
    """Runs in the child before it starts: SIGINT as a terminal's Ctrl-C delivers it. A child of a
    non-interactive shell (`nohup make test &`, some CI runners) inherits SIGINT ignored, and Python
    then leaves it ignored, as a background job should."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(tmp_path: Path, epochs: int, hold: tuple[int, Path] | None = None) -> subprocess.Popen:
    """`scripts/train.py` on `SLOW_EPOCHS`; with `hold` `(epoch, marker)`, a child that stops in the
    middle of that epoch and says so in `marker` (see `conftest.probed`)."""
    overrides = [*SLOW_EPOCHS, f"train.epochs={epochs}"]
    program, environment = [sys.executable, str(PROJECT / "scripts" / "train.py")], {}
    if hold:
        program, environment = probed(hold)
        program.append("train")
    return subprocess.Popen(
        [
            *program,
            "--config",
            "lstm",
            "--output-dir",
            str(tmp_path),
            *[arg for override in overrides for arg in ("--set", override)],
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
        env={**os.environ, **environment},
    )


def wait_for_epochs(tmp_path: Path, count: int, process: subprocess.Popen, timeout: float = 240) -> Path:
    """The run folder, once its history.csv holds `count` epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for history in tmp_path.glob("*/history.csv"):
            if len(history.read_text().strip().splitlines()) > count:
                return history.parent
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the run did not reach the epoch in time")


def epochs_in(run: Path) -> tuple[list[int], list[int]]:
    csv_epochs = [int(line.split(",")[0]) for line in (run / "history.csv").read_text().strip().splitlines()[1:]]
    return csv_epochs, json.loads((run / "history.json").read_text())["epoch"]


@requires_data
def test_kill_9_mid_epoch_then_resume_keeps_every_epoch_once(real_data: Path, tmp_path: Path) -> None:
    marker = tmp_path / "in-epoch-3"
    process = start(tmp_path, epochs=5, hold=(3, marker))
    wait_for(marker.exists, "a training step of epoch 3", [process], timeout=240)
    (run,) = [folder for folder in tmp_path.iterdir() if folder.is_dir()]
    assert epochs_in_csv(run) == [1, 2]  # killed mid-epoch 3, after a step of it
    process.kill()
    process.communicate()
    assert status.read(run)["state"] == "running" and status.state_of(run) == "crashed"
    assert not (run / "metrics.json").exists()

    resumed = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "train.py"), "--resume", str(run)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert epochs_in(run) == ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    history = json.loads((run / "history.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    best = max(range(5), key=lambda i: history["val_accuracy"][i]) + 1
    assert metrics["epochs_run"] == 5 and metrics["best_epoch"] == best
    assert json.loads((run / "best.json").read_text())["epoch"] == best
    assert status.read(run)["state"] == "completed" and status.read(run)["epochs_completed"] == 5
    assert not (run / "backup").exists()

    again = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "train.py"), "--resume", str(run)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "already completed" in again.stdout


@requires_data
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_at_once_marks_interrupted_and_prints_the_resume_command(
    real_data: Path, tmp_path: Path, signum: int, code: int
) -> None:
    process = start(tmp_path, epochs=50)
    run = wait_for_epochs(tmp_path, 2, process)  # epoch 1 is committed once epoch 2's row is written
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 30  # not after 50 epochs
    assert process.returncode == code
    assert f"--resume {run}" in stderr and "Traceback" not in stderr
    assert status.read(run)["state"] == "interrupted"
    assert (run / "model.keras").is_file() and len(epochs_in_csv(run)) >= 1


def epochs_in_csv(run: Path) -> list[int]:
    return [int(line.split(",")[0]) for line in (run / "history.csv").read_text().strip().splitlines()[1:]]


def make_state(run: Path, csv_epochs: int, committed: int | None) -> None:
    """A run folder as a kill leaves it: `csv_epochs` history rows, backup committed at `committed`."""
    run.mkdir(parents=True)
    rows = ["epoch,accuracy,loss,seconds,val_accuracy,val_loss"]
    rows += [f"{e},0.{e},0.5,1.0,0.{e},0.4" for e in range(1, csv_epochs + 1)]
    (run / "history.csv").write_text("\n".join(rows) + "\n")
    if committed is not None:
        (run / "backup").mkdir()
        (run / "backup" / "training_metadata.json").write_text(json.dumps({"epoch": committed, "batch": 0}))


@pytest.mark.parametrize("csv_epochs, committed, kept", [(3, 2, [1, 2]), (2, 2, [1, 2]), (1, None, [])])
def test_rewind_keeps_only_committed_epochs(tmp_path: Path, csv_epochs: int, committed: int | None, kept) -> None:
    run = tmp_path / "lstm-20260101-000000"
    make_state(run, csv_epochs, committed)
    assert rewind(run).get("epoch", []) == kept
    assert epochs_in_csv(run) == kept


def test_rewind_falls_back_to_the_previous_backup_when_metadata_is_torn(tmp_path: Path) -> None:
    run = tmp_path / "lstm-20260101-000000"
    make_state(run, 3, 3)
    (run / "backup" / "training_metadata.json").write_text('{"epo')
    (run / "backup" / "training_metadata.json.bkp").write_text('{"epoch": 2, "batch": 0}')
    (run / "backup" / "latest.weights.h5.bkp").write_bytes(b"weights of epoch 2")
    assert rewind(run)["epoch"] == [1, 2]
    assert (run / "backup" / "latest.weights.h5").read_bytes() == b"weights of epoch 2"


def test_rewind_goes_back_one_epoch_to_agree_with_the_other_processes(tmp_path: Path) -> None:
    run = tmp_path / "lstm-20260101-000000"
    make_state(run, 3, 3)
    (run / "backup" / "training_metadata.json.bkp").write_text('{"epoch": 2, "batch": 0}')
    (run / "backup" / "latest.weights.h5.bkp").write_bytes(b"weights of epoch 2")
    assert rewind(run, epoch=2)["epoch"] == [1, 2]
    assert (run / "backup" / "latest.weights.h5").read_bytes() == b"weights of epoch 2"
    assert json.loads((run / "backup" / "training_metadata.json").read_text())["epoch"] == 2
    with pytest.raises(RunError, match=r"cannot go back to epoch 1 .* expected its checkpoint in backup/"):
        rewind(run, epoch=1)  # only the previous commit is kept
    assert rewind(run, epoch=0).get("epoch", []) == [] and not (run / "backup").exists()


def test_a_backup_cut_short_keeps_the_last_commit_whole(tmp_path: Path, monkeypatch) -> None:
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    backup = CommittedBackup(tmp_path / "backup")
    backup.set_model(model)
    backup.on_train_begin()
    backup.on_epoch_end(0)  # epoch 1 committed
    committed = (tmp_path / "backup" / "latest.weights.h5").read_bytes()
    model.layers[0].kernel.assign([[5.0], [5.0]])

    def fails(*args, **kwargs):  # as a save does when a dead peer's error surfaces in it
        Path(args[0]).write_bytes(b"half")
        raise RuntimeError("Gloo AllGather failed: Connection closed by peer")

    monkeypatch.setattr(model, "save_weights", fails)
    with pytest.raises(RuntimeError):
        backup.on_epoch_end(1)
    assert (tmp_path / "backup" / "latest.weights.h5").read_bytes() == committed
    assert json.loads((tmp_path / "backup" / "training_metadata.json").read_text())["epoch"] == 1
    monkeypatch.undo()
    restored = CommittedBackup(tmp_path / "backup")
    restored.set_model(model)
    restored.on_train_begin()  # the cut-short files go; epoch 1's weights come back
    assert not list((tmp_path / "backup").glob("next.*"))
    assert model.layers[0].kernel.numpy().tolist() != [[5.0], [5.0]] and model._initial_epoch == 1


def test_nan_loss_fails_the_run_with_its_reason(tmp_path: Path, monkeypatch) -> None:
    poison_weights(monkeypatch, epoch=2)
    config = load_config("lstm", ["data.maxlen=30", "data.num_words=50", "train.epochs=3"])
    with pytest.raises(RunFailed, match=r"loss became nan in epoch 2, by batch \d+: expected a finite loss") as caught:
        train(config, tmp_path, splits=synthetic_splits(200, seed=0, maxlen=30), verbose=0)
    run = caught.value.run
    assert status.read(run)["state"] == "failed" and "nan" in status.read(run)["error"]
    assert not (run / "metrics.json").exists()
    assert epochs_in_csv(run) == [1]  # the failing epoch is not recorded; the good one is kept
    assert (run / "model.keras").is_file()


def test_nan_loss_from_the_command_line_exits_1_with_one_line(
    tiny_corpus: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    poison_weights(monkeypatch, epoch=1)
    argv = ["--config", "lstm", "--output-dir", str(tmp_path)]
    argv += [arg for override in [*TINY_OVERRIDES, f"data.path={tiny_corpus}"] for arg in ("--set", override)]
    assert run_command("train", argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "failed: the training loss became nan in epoch 1, by batch " in err


@pytest.mark.parametrize("loss", [1e31, 101.0, float("inf")])
def test_a_diverged_finite_loss_fails_like_nan(loss: float) -> None:
    guard = NaNGuard()
    guard.on_epoch_begin(2)
    guard.on_batch_end(0, {"loss": 0.69})
    guard.on_batch_end(1, {"loss": 99.0})  # bad, but not yet past the rule
    with pytest.raises(TrainingFailed, match=r"in epoch 3, by batch 5: expected a (finite loss|loss below 100)"):
        guard.on_batch_end(4, {"loss": loss})


def test_full_disk_mid_run_fails_with_one_line_naming_the_path(tmp_path: Path, monkeypatch) -> None:
    def full(self, epoch, logs=None):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.filename))

    monkeypatch.setattr(HistoryCSV, "on_epoch_end", full)
    config = load_config("lstm", ["data.maxlen=30", "data.num_words=50", "train.epochs=2"])
    with pytest.raises(RunFailed) as caught:
        train(config, tmp_path, splits=synthetic_splits(100, seed=0, maxlen=30), verbose=0)
    assert str(caught.value) == f"cannot write {caught.value.run / 'history.csv'}: No space left on device"
    assert status.read(caught.value.run)["state"] == "failed"


def test_unwritable_output_dir_is_one_line(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert run_command("train", ["--config", "lstm", "--output-dir", str(blocker / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{blocker / 'runs'}: cannot create the output folder" in err


def test_a_run_killed_before_its_first_model_keras_resumes(tiny_corpus: Path, tmp_path: Path, monkeypatch) -> None:
    """Killed between epoch 1's commit to backup/ and its model.keras (as a cluster's chief whose peer died
    just then): the best epoch is the committed one, so the resume saves it again and goes on."""
    from imdb_rnn.errors import RunInterrupted
    from imdb_rnn.training.callbacks import EpochTimer
    from imdb_rnn.training.recipe import resume

    begin = EpochTimer.on_epoch_begin

    def stop_at_epoch_2(self, index, logs=None):
        if index == 1:
            raise KeyboardInterrupt
        begin(self, index, logs)

    monkeypatch.setattr(EpochTimer, "on_epoch_begin", stop_at_epoch_2)
    config = load_config("lstm", [*TINY_OVERRIDES, f"data.path={tiny_corpus}", "train.epochs=2"])
    with pytest.raises(RunInterrupted) as caught:
        train(config, tmp_path, verbose=0)
    monkeypatch.undo()
    run = caught.value.run
    (run / "model.keras").unlink()
    (run / "best.json").unlink()
    assert resume(run, verbose=0) == (run, True)
    assert status.read(run)["state"] == "completed" and (run / "model.keras").is_file()
    assert epochs_in_csv(run) == [1, 2]


def test_resume_refuses_a_run_whose_best_model_is_lost(tmp_path: Path) -> None:
    from imdb_rnn.training.records import check_resumable

    run = tmp_path / "lstm-20260101-000000"
    make_state(run, 2, 2)  # validation accuracy 0.1, then 0.2: the best epoch is the committed one
    (run / "config.yaml").write_text("model:\n  architecture: lstm\n")
    status.update(run, state="failed")
    assert check_resumable(run)[1] == "failed"  # model.keras can be saved again from the backup
    rows = (run / "history.csv").read_text().replace("1,0.1,0.5,1.0,0.1,", "1,0.1,0.5,1.0,0.9,")
    (run / "history.csv").write_text(rows)  # now epoch 1 is the best, and only model.keras had it
    with pytest.raises(RunError, match=r"expected model.keras beside the 2 epochs .*the best of them, epoch 1"):
        check_resumable(run)
