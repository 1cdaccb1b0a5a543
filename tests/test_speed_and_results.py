"""The benchmark and the reproduction script, on tiny real runs (their real use takes minutes to hours)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from conftest import SMOKE, requires_data, run_command


def benchmark_main(argv: list[str]) -> int:
    return run_command("benchmark", argv)


def reproduce_main(argv: list[str]) -> int:
    return run_command("reproduce", argv)


@requires_data
def test_benchmark_prints_and_writes_the_three_ways(real_data: Path, tmp_path: Path, capsys) -> None:
    report = tmp_path / "docs" / "BENCHMARK.md"
    argv = [
        "--limit",
        "200",
        "--epochs",
        "2",
        "--maxlen",
        "40",
        "--repeats",
        "2",
        "--recipes",
        "seed LSTM",  # one recipe: each is one name for a config (the other: cnn_lstm)
        "--out",
        str(report),
        "--output-dir",
        str(tmp_path / "bench"),
    ]
    assert benchmark_main(argv) == 0
    (folder,) = (tmp_path / "bench").iterdir()
    assert (folder / "benchmark.md").read_text() == report.read_text()
    out = capsys.readouterr().out
    lines = report.read_text().splitlines()
    header = [
        cell.strip() for cell in next(line for line in lines if line.startswith("| recipe")).strip("|").split("|")
    ]
    column = {name: index for index, name in enumerate(header)}
    rows = [line for line in lines if line.startswith("| seed LSTM") or line.startswith("| cnn_lstm")]
    # (a), (b), (c), and where PyTorch is installed (r): the recipe in plain PyTorch, with a ratio to it.
    native = importlib.util.find_spec("torch") is not None
    assert len(rows) == 3 + native and ("÷ (r), fastest epoch" in column) == native
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert float(cells[column["fastest s/epoch"]]) > 0 and 0 <= float(cells[column["test accuracy"]]) <= 1
        if cells[column["way"]].startswith("(a)"):
            assert cells[column["÷ (a), fastest epoch"]] == "1.00" and cells[column["Δ accuracy vs (a)"]] == "+0.00 pts"
        if cells[column["way"]].startswith("(r)"):
            assert cells[column["÷ (r), fastest epoch"]] == "1.00"
        assert float(cells[column["median s/epoch"]]) >= float(cells[column["fastest s/epoch"]]) > 0
    assert "200 training reviews" in report.read_text() and "2 repeats" in report.read_text()
    assert rows[0] in out
    assert len(list((folder / "runs").iterdir())) == 4  # (b) and (c), two repeats

    # One statistic for every ratio, said under the table; the raw timings it comes from, in JSON.
    assert "Ratios: each way's fastest epoch over plain Keras's (a) fastest epoch" in report.read_text()
    assert "| ÷ (a), fastest epoch |" in report.read_text() and "÷ (a) |" not in report.read_text()
    timings = json.loads((folder / "timings.json").read_text())
    assert f"Raw timings: {folder / 'timings.json'}" in out
    assert timings["kind"] == "epochs" and timings["statistic"] == "fastest epoch"
    assert timings["command"].startswith("imdb-rnn benchmark --limit 200 --maxlen 40 --epochs 2 --repeats 2")
    assert timings["commit"] and "CPU cores" in timings["machine"] and timings["versions"]["keras"]
    assert [result["way"] for result in timings["results"]] == [row.split("|")[3].strip() for row in rows]
    plain = min(timings["results"][0]["epoch_seconds"])
    for row, result in zip(rows, timings["results"], strict=True):
        assert len(result["epoch_seconds"]) == 4  # 2 epochs × 2 repeats, every one kept
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[column["fastest s/epoch"]] == f"{min(result['epoch_seconds']):.2f}"
        ratio = min(result["epoch_seconds"]) / plain
        assert cells[column["÷ (a), fastest epoch"]] == f"{ratio:.2f}"  # the ratio, from the raw timings


@requires_data
def test_reproduce_skips_finished_runs_and_writes_the_results(real_data: Path, tmp_path: Path, capsys) -> None:
    argv = [
        "--configs",
        "gru",
        "--seeds",
        "1",
        "2",
        "--output-dir",
        str(tmp_path / "runs"),
        "--results",
        str(tmp_path / "RESULTS.md"),
        "--starts",
        "scratch",
        *[arg for item in SMOKE for arg in ("--set", item)],
    ]
    assert reproduce_main(argv) == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2
    stamps = {run: (run / "metrics.json").stat().st_mtime_ns for run in runs}
    assert reproduce_main(argv) == 0  # everything finished: nothing is trained again
    assert sorted((tmp_path / "runs").iterdir()) == runs
    assert {run: (run / "metrics.json").stat().st_mtime_ns for run in runs} == stamps
    results = (tmp_path / "RESULTS.md").read_text()
    assert "Not full-data results" in results
    (row,) = [line for line in results.splitlines() if line.startswith("| `gru` | gru | scratch |")]
    assert " ± " in row and "| 2 |" in row and "| 0.89 |" in row
    assert "| no |" in row and "Goals not met: gru (scratch). What was tried" in results  # far below 0.89
    for seed in (1, 2):
        assert f"--set train.seed={seed}`" in results


@requires_data
def test_benchmark_times_each_backend_in_its_own_process(real_data: Path, tmp_path: Path, capsys) -> None:
    import pytest

    backends = ["tensorflow"] + [name for name in ("jax",) if importlib.util.find_spec(name)]
    if len(backends) < 2:
        pytest.skip("jax is not installed (pip install -e '.[jax]'; CI installs it)")
    argv = ["--limit", "200", "--epochs", "1", "--maxlen", "40", "--recipes", "seed LSTM", "--jit"]
    argv += ["--backends", *backends, "--set", "model.units=8"]  # the trainer's ways only, in every backend
    assert benchmark_main([*argv, "--output-dir", str(tmp_path / "bench")]) == 0
    out = capsys.readouterr().out
    trained = sorted((tmp_path / "bench").glob("benchmark-*/*/seed-lstm-*/config.yaml"))
    assert {path.parts[-3] for path in trained} == set(backends)
    assert all("units: 8\n" in path.read_text() for path in trained)  # the recipe's 32 elsewhere
    assert "the trainer's ways with model.units=8" in next((tmp_path / "bench").glob("*/benchmark.md")).read_text()
    rows = [line for line in out.splitlines() if line.startswith("| seed LSTM |")]
    native = importlib.util.find_spec("torch") is not None  # (r): once, beside TensorFlow's ways
    assert len(rows) == 6 + native and {row.split("|")[3].strip() for row in rows} == set(backends)
    (plain,) = [row for row in rows if "(a) plain Keras" in row]  # the baseline: TensorFlow only
    assert "tensorflow" in plain
    (compiled,) = [row for row in rows if "(d) trainer (bucketing, XLA)" in row]  # --jit: TensorFlow only
    assert "tensorflow" in compiled
    tensorflow_plain = next(row for row in rows if "tensorflow" in row and "(a)" in row)
    assert tensorflow_plain.split("|")[6].strip() == "1.00"  # the baseline: TensorFlow's plain Keras
    with pytest.raises(SystemExit) as refused:  # argparse: not a backend
        benchmark_main(["--backends", "tensorflow", "nope"])
    assert refused.value.code == 2


def test_a_step_profile_predicts_bucketing_from_its_two_costs() -> None:
    from imdb_rnn.reports.step_profile import Fit, StepProfile, profile_table

    trained = Fit(10.0, 0.1, {200: [30.5, 30.0], 400: [55.0, 50.5]})
    found = StepProfile("cnn_lstm", "tensorflow", 32, 400, 200.0, trained, Fit(4.0, 0.05), 50.5, [50.5, 51.0])
    assert found.trained.at(400) == 50.0
    assert found.predicted_ratio == (10 + 0.1 * 200) / 50.5 and found.floor == 0.5  # to plain Keras measured
    assert found.trainer_at_maxlen_ratio == 1.0  # both fastest steps at maxlen: 50.5 ms
    table = profile_table([found])
    (row,) = [line for line in table.splitlines() if line.startswith("| cnn_lstm")]
    assert "| 10.0 | 0.100 | 4.0 + 0.050 a token | 400 | 200.0 | 0.59 | 0.50 | 50.5 | 1.00 |" in row
    assert "Every figure is the fastest step of interleaved calls" in table
    assert "| predicted ÷ plain Keras, fastest steps |" in table


@requires_data
def test_benchmark_profiles_a_recipes_train_step(real_data: Path, tmp_path: Path, capsys) -> None:
    argv = ["--profile", "--limit", "200", "--maxlen", "150", "--recipes", "cnn_lstm"]
    assert benchmark_main([*argv, "--output-dir", str(tmp_path / "bench")]) == 0
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.startswith("| cnn_lstm")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "tensorflow" and cells[2] == "32" and cells[6] == "150"
    bucketed = float(cells[7])
    assert 0 < bucketed < 150  # the 32 shortest of 200 real reviews are shorter than 150 words
    assert cells[9] == f"{bucketed / 150:.2f}"  # the floor: bucketing's share of the tokens

    # Plain Keras's own step is measured, interleaved with the trainer's; every ratio is of fastest steps.
    ((folder),) = (tmp_path / "bench").iterdir()
    assert folder.name.startswith("profile-") and f"Raw timings: {folder / 'timings.json'}" in out
    timings = json.loads((folder / "timings.json").read_text())
    assert timings["kind"] == "step profile" and timings["statistic"] == "fastest step"
    assert (
        timings["command"]
        == f"imdb-rnn benchmark --profile --limit 200 --maxlen 150 --recipes cnn_lstm --output-dir {tmp_path / 'bench'}"
    )
    assert timings["commit"] and "CPU cores" in timings["machine"]
    (found,) = timings["results"]
    plain, at_maxlen = found["plain_keras_steps_ms"], found["trainer_steps_ms"]["150"]
    assert len(plain) == len(at_maxlen) == 15 and set(found["trainer_steps_ms"]) == {"8", "64", "128", "150"}
    assert cells[10] == f"{min(plain):.1f}" and cells[11] == f"{min(at_maxlen) / min(plain):.2f}"
    fit = found["fit"]
    assert cells[8] == f"{(fit['per_step_ms'] + fit['per_token_ms'] * found['bucketed_width']) / min(plain):.2f}"


def test_a_benchmark_setting_is_checked_before_anything_runs(tmp_path: Path, capsys) -> None:
    import pytest

    with pytest.raises(SystemExit) as refused:
        benchmark_main(["--profile", "--set", "model.units=8", "--output-dir", str(tmp_path)])
    assert refused.value.code == 2 and "received it with --profile" in capsys.readouterr().err
    code = benchmark_main(["--set", "train.nope=1", "--recipes", "seed LSTM", "--output-dir", str(tmp_path)])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1 and "nope" in error[0] and not list(tmp_path.iterdir())
