"""The benchmark and the reproduction script, on tiny real runs (their real use takes minutes to hours)."""

from __future__ import annotations

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
    rows = [
        line
        for line in report.read_text().splitlines()
        if line.startswith("| seed LSTM") or line.startswith("| cnn_lstm")
    ]
    assert len(rows) == 3
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert float(cells[3]) > 0 and 0 <= float(cells[6]) <= 1
        if cells[2].startswith("(a)"):
            assert cells[5] == cells[9] == "1.00" and cells[7] == "+0.00 pts"
        assert float(cells[3]) >= float(cells[8]) > 0  # the median epoch is never faster than the fastest
    assert "200 training reviews" in report.read_text() and "2 repeats" in report.read_text()
    assert rows[0] in out
    assert len(list((folder / "runs").iterdir())) == 4  # (b) and (c), two repeats


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
    import importlib.util

    import pytest

    backends = ["tensorflow"] + [name for name in ("jax",) if importlib.util.find_spec(name)]
    if len(backends) < 2:
        pytest.skip("jax is not installed (pip install -e '.[jax]'; CI installs it)")
    argv = ["--limit", "200", "--epochs", "1", "--maxlen", "40", "--recipes", "seed LSTM", "--jit"]
    argv += ["--backends", *backends]
    assert benchmark_main([*argv, "--output-dir", str(tmp_path / "bench")]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| seed LSTM |")]
    assert len(rows) == 7 and {row.split("|")[3].strip() for row in rows} == set(backends)
    (compiled,) = [row for row in rows if "(d) trainer (bucketing, XLA)" in row]  # --jit: TensorFlow only
    assert "tensorflow" in compiled
    tensorflow_plain = next(row for row in rows if "tensorflow" in row and "(a)" in row)
    assert tensorflow_plain.split("|")[7].strip() == "1.00"  # the baseline: TensorFlow's plain Keras
    with pytest.raises(SystemExit) as refused:  # argparse: not a backend
        benchmark_main(["--backends", "tensorflow", "nope"])
    assert refused.value.code == 2


def test_a_step_profile_predicts_bucketing_from_its_two_costs() -> None:
    from imdb_rnn.reports.step_profile import Fit, StepProfile, profile_table

    found = StepProfile("cnn_lstm", "tensorflow", 32, 400, 200.0, Fit(10.0, 0.1), Fit(4.0, 0.05))
    assert found.trained.at(400) == 50.0
    assert found.predicted_ratio == (10 + 0.1 * 200) / 50 and found.floor == 0.5
    (row,) = [line for line in profile_table([found]).splitlines() if line.startswith("| cnn_lstm")]
    assert "| 10.0 | 0.100 | 4.0 + 0.050 a token | 400 | 200.0 | 0.60 | 0.50 |" in row


@requires_data
def test_benchmark_profiles_a_recipes_train_step(real_data: Path, capsys) -> None:
    argv = ["--profile", "--limit", "200", "--maxlen", "150", "--recipes", "cnn_lstm"]
    assert benchmark_main(argv) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| cnn_lstm")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "tensorflow" and cells[2] == "32" and cells[6] == "150"
    bucketed = float(cells[7])
    assert 0 < bucketed < 150  # the 32 shortest of 200 real reviews are shorter than 150 words
    assert cells[9] == f"{bucketed / 150:.2f}"  # the floor: bucketing's share of the tokens
