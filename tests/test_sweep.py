"""Sweeps over configs and seeds, --dry-run, and runs or caches started at the same moment."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import yaml

from conftest import PROJECT, SMOKE, poison_weights, requires_data, run_command, write
from imdb_rnn.data import cache
from imdb_rnn.runs import status
from imdb_rnn.training.records import create_run_dir
from imdb_rnn.training.sweep import expand


def smoke_args(*overrides: str) -> list[str]:
    return [arg for override in [*SMOKE, *overrides] for arg in ("--set", override)]


@requires_data
def test_sweep_goes_on_after_a_failed_run_and_closes_with_a_table(
    real_data: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    poison_weights(monkeypatch, epoch=1, model_name="simple_rnn")  # only the failing config's model
    failing = write(tmp_path / "diverges.yaml", "model:\n  architecture: simple_rnn\n")
    argv = ["--config", str(failing), "gru", "--seeds", "1", "2", "--output-dir", str(tmp_path / "out"), *smoke_args()]
    assert run_command("train", argv) == 1
    out, err = capsys.readouterr()
    runs = sorted((tmp_path / "out").iterdir())
    assert len(runs) == 4
    states = {
        run.name.split("-")[0] + str(yaml.safe_load((run / "config.yaml").read_text())["train"]["seed"]): status.read(
            run
        )["state"]
        for run in runs
    }
    assert states == {"diverges1": "failed", "diverges2": "failed", "gru1": "completed", "gru2": "completed"}
    table = out.strip().splitlines()[-5:]
    assert table[0].split() == ["run", "status", "test", "accuracy"]
    assert sum("failed" in row for row in table) == 2 and sum("completed" in row for row in table) == 2
    assert err.count("warning: diverges (seed") == 2


def test_dry_run_builds_every_model_and_trains_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("IMDB_DATA_DIR", raising=False)  # no data needed: it would be downloaded
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    argv = ["--config", str(PROJECT / "configs" / "*.yaml"), "--dry-run", "--output-dir", str(tmp_path / "out")]
    assert run_command("train", argv) == 0
    out = capsys.readouterr().out
    for path in sorted((PROJECT / "configs").glob("*.yaml")):
        assert f"== {path.stem} (seed" in out
        assert f"{path.stem}: " in out and " parameters; data: keras, to be downloaded" in out
    assert not (tmp_path / "out").exists()


def test_one_invalid_config_stops_the_sweep_before_anything_trains(tmp_path: Path, capsys) -> None:
    bad = write(tmp_path / "bad.yaml", "model:\n  units: 0\n")
    assert run_command("train", ["--config", "lstm", str(bad), "--output-dir", str(tmp_path / "out")]) == 2
    assert "bad.yaml: invalid value for `model.units`" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_globs_names_and_paths_expand_once_each(tmp_path: Path) -> None:
    paths = expand([str(PROJECT / "configs" / "*.yaml"), "lstm", str(PROJECT / "configs" / "gru.yaml")])
    assert [p.stem for p in paths] == sorted(p.stem for p in (PROJECT / "configs").glob("*.yaml"))


def _make_folder(folder: Path) -> str:
    return str(create_run_dir(folder, "lstm", datetime(2026, 1, 1)))


def test_folders_made_at_the_same_moment_are_all_different(tmp_path: Path) -> None:
    with multiprocessing.Pool(8) as pool:
        made = pool.map(_make_folder, [tmp_path] * 32)
    assert len(set(made)) == 32 and len(list(tmp_path.iterdir())) == 32


def _write_cache(file: str) -> None:
    arrays = {"ids": np.arange(2_000_000, dtype=np.int32), "labels": np.ones(1000, dtype=np.int8)}
    for _ in range(3):
        cache.save(Path(file), arrays)


def test_concurrent_cache_writers_leave_a_valid_cache(tmp_path: Path) -> None:
    file = tmp_path / "aclimdb-0123456789abcdef.npz"
    processes = [multiprocessing.Process(target=_write_cache, args=(str(file),)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    arrays = cache.load(file)
    assert arrays is not None and arrays["ids"][-1] == 1_999_999 and len(arrays["labels"]) == 1000
    assert [p.name for p in tmp_path.iterdir()] == [file.name]  # no temporary file left behind


@requires_data
def test_training_processes_started_together_get_their_own_folders(real_data: Path, tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(PROJECT / "scripts" / "train.py"),
        "--config",
        "gru",
        "--output-dir",
        str(tmp_path),
        *smoke_args("train.epochs=1"),
    ]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    assert [process.wait(timeout=300) for process in processes] == [0, 0, 0]
    runs = list(tmp_path.iterdir())
    assert len(runs) == 3 and all(status.read(run)["state"] == "completed" for run in runs)


def test_reuse_finds_a_run_written_before_a_key_existed_and_one_started_from_a_named_pretraining(
    tmp_path: Path,
) -> None:
    import yaml

    from imdb_rnn.config import load_config
    from imdb_rnn.training.sweep import find_run

    def stored(name: str, config, drop: tuple[tuple[str, str], ...] = (), **model) -> Path:
        content = config.to_dict()
        content["model"].update(model)
        for section, key in drop:
            del content[section][key]
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.yaml").write_text(yaml.safe_dump(content), encoding="utf-8")
        return folder

    config = load_config("lstm", ["train.seed=2"])
    older = stored("lstm-20260101-000000", config, drop=(("train", "schedule"), ("model", "gradual_unfreezing")))
    assert find_run(tmp_path, config) == older  # the keys added since then take their defaults
    assert find_run(tmp_path, load_config("lstm", ["train.seed=3"])) is None
    # a run from before the fused LSTM was the default is the same run (another kernel, the same arithmetic)
    assert find_run(tmp_path, load_config("lstm", ["train.seed=2", "train.fused_lstm=false"])) == older
    assert find_run(tmp_path, load_config("lstm", ["train.seed=2", "train.epochs=3"])) is None

    vectors = tmp_path / "pretrain" / "word2vec-20260101-000000"
    vectors.mkdir(parents=True)
    (vectors / "config.yaml").write_text("corpus: {num_words: 30000}\nword2vec: {vector_size: 64}\n", encoding="utf-8")
    named = load_config("lstm", ["model.pretrained=word2vec"])
    started = stored("lstm-20260101-000001", named, pretrained=str(vectors))
    assert find_run(tmp_path, named) == started  # `word2vec` matches the folder of that pretraining it used
