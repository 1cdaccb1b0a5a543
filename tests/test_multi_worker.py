"""`train.distribution: multi_worker`: two processes on 127.0.0.1 train one run together (JAX,
`keras.distribution`), as the README tells to launch it on two machines.

Only the chief writes the run folder; the run matches one process with the same global batch; a killed
worker makes the run fail (status `failed`, within the stall timeout) instead of hanging, and `--resume`
on both processes finishes it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PROJECT, TINY_NUM_WORDS
from imdb_rnn.runs import Run

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install -e '.[jax]'; CI installs it)"
)
TINY = [
    "data.source=aclimdb",
    f"data.num_words={TINY_NUM_WORDS}",
    "data.maxlen=16",
    "data.validation_split=0.2",  # 128 training and 32 validation reviews: full batches of 16
    "data.validation_split_by=review",
    "data.bucketing=false",
    "train.batch_size=16",
    "train.early_stopping=null",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(corpus: Path, output: Path, *more: str) -> list[str]:
    overrides = [*TINY, f"data.path={corpus}", *more]
    return [sys.executable, "-m", "imdb_rnn", "train", "--config", "lstm", "--output-dir", str(output)] + [
        argument for override in overrides for argument in ("--set", override)
    ]


def start(arguments: list[str], process: int | None, port: int, log: Path) -> subprocess.Popen:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KERAS_DISTRIBUTION")}
    environment["KERAS_BACKEND"] = "jax"
    if process is not None:
        environment.update(
            KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{port}",
            KERAS_DISTRIBUTION_NUM_PROCESSES="2",
            KERAS_DISTRIBUTION_PROCESS_ID=str(process),
        )
    handle = open(log, "w")  # noqa: SIM115 - closed with the process by the caller's wait
    return subprocess.Popen(arguments, stdout=handle, stderr=subprocess.STDOUT, env=environment, cwd=PROJECT)


def finish(processes: list[subprocess.Popen], timeout: float = 400) -> list[int]:
    deadline = time.monotonic() + timeout
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(deadline - time.monotonic(), 1)))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    return codes


def test_two_workers_train_one_run_that_matches_one_process(tiny_corpus: Path, tmp_path: Path) -> None:
    port, output = free_port(), tmp_path / "cluster"
    arguments = command(tiny_corpus, output, "train.epochs=2", "train.distribution=multi_worker")
    workers = [start(arguments, index, port, tmp_path / f"worker-{index}.log") for index in (0, 1)]
    assert finish(workers) == [0, 0], (tmp_path / "worker-0.log").read_text()[-3000:]
    (run_folder,) = [folder for folder in output.iterdir() if not folder.name.startswith(".")]
    run = Run(run_folder).check_finished()
    assert run.metrics["backend"] == "jax" and run.history["epoch"] == [1, 2]  # every epoch recorded once
    copy = output / ".worker-1" / run_folder.name
    assert copy.is_dir() and not (copy / "metrics.json").exists()  # the worker wrote no results
    assert "Worker copy" in (tmp_path / "worker-1.log").read_text()

    single = start(command(tiny_corpus, tmp_path / "single", "train.epochs=2"), None, port, tmp_path / "single.log")
    assert finish([single]) == [0], (tmp_path / "single.log").read_text()[-3000:]
    (alone,) = (tmp_path / "single").iterdir()
    for together, by_itself in zip(run.history["loss"], Run(alone).history["loss"]):
        assert abs(together - by_itself) <= 0.02 * by_itself  # stated tolerance 2% (seen: 1e-7)


def test_a_killed_worker_fails_the_run_cleanly_and_resume_finishes_it(tiny_corpus: Path, tmp_path: Path) -> None:
    port, output = free_port(), tmp_path / "cluster"
    arguments = command(
        tiny_corpus, output, "train.epochs=4", "train.distribution=multi_worker", "train.stall_timeout=30"
    )
    workers = [start(arguments, index, port, tmp_path / f"worker-{index}.log") for index in (0, 1)]
    deadline = time.monotonic() + 300
    history = None
    while time.monotonic() < deadline and history is None:
        found = [path for path in output.glob("lstm-*/history.csv") if len(path.read_text().splitlines()) >= 2]
        history = found[0] if found else None
        time.sleep(0.5)
    assert history is not None, (tmp_path / "worker-0.log").read_text()[-3000:]
    workers[1].send_signal(signal.SIGKILL)
    started = time.monotonic()
    assert workers[0].wait(timeout=120) == 1  # not a hang: the error, or else the stall guard, ends it
    assert time.monotonic() - started < 90
    workers[1].wait()
    run_folder = history.parent
    state = json.loads((run_folder / "status.json").read_text())
    assert state["state"] == "failed" and state["error"]  # the collective's error, or the stall guard's
    said = (tmp_path / "worker-0.log").read_text()
    if "stall_timeout" not in state["error"]:  # the error came first: the process left without waiting
        assert "no training step ended" not in said, said[-3000:]

    port = free_port()
    resumed = [
        start(
            [sys.executable, "-m", "imdb_rnn", "train", "--resume", str(run_folder)],
            index,
            port,
            tmp_path / f"resume-{index}.log",
        )
        for index in (0, 1)
    ]
    assert finish(resumed) == [0, 0], (tmp_path / "resume-0.log").read_text()[-3000:]
    run = Run(run_folder).check_finished()
    assert run.history["epoch"] == [1, 2, 3, 4] and run.state == "completed"
