"""Comparing runs on fabricated run folders: columns, repeats, plots, broken folders, filters, sorting, errors."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT, run_command, write
from imdb_rnn.comparison.collect import collect_runs, select_runs
from imdb_rnn.comparison.leaderboard import leaderboard
from imdb_rnn.comparison.plots import accuracy_figure, curves_figure
from imdb_rnn.comparison.report import compare
from imdb_rnn.config import load_config
from imdb_rnn.errors import RunError
from imdb_rnn.files import new_folder

_count = iter(range(10**6))


def make_run(
    root: Path,
    config: str = "lstm",
    overrides: tuple[str, ...] = (),
    test_accuracy: float = 0.8,
    test_loss: float = 0.4,
    val_accuracy: tuple[float, ...] = (0.6, 0.7, 0.75),
    status: str | None = None,
    name: str | None = None,
) -> Path:
    """A finished run folder as scripts/train.py writes it (no model): the resolved config, history, metrics."""
    resolved = load_config(None, [f"model.architecture={config}", *overrides])
    name = name or f"{config}-{datetime(2026, 1, 2) + timedelta(seconds=next(_count)):%Y%m%d-%H%M%S}"
    folder = root / name
    folder.mkdir(parents=True)
    write(folder / "config.yaml", yaml.safe_dump(resolved.to_dict(), sort_keys=False))
    epochs = len(val_accuracy)
    history = {
        "epoch": list(range(1, epochs + 1)),
        "loss": [0.7 - 0.05 * i for i in range(epochs)],
        "accuracy": [0.5 + 0.05 * i for i in range(epochs)],
        "val_loss": [round(1 - value, 4) for value in val_accuracy],
        "val_accuracy": list(val_accuracy),
        "seconds": [2.0] * epochs,
    }
    best = max(range(epochs), key=lambda i: val_accuracy[i])
    metrics = {
        "run": name,
        "config": config,
        "architecture": config,
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "best_epoch": best + 1,
        "best_val_accuracy": val_accuracy[best],
        "epochs_run": epochs,
        "parameters": 1000,
        "training_seconds": 2.0 * epochs,
        "median_epoch_seconds": 2.0,
    }
    write(folder / "history.json", json.dumps(history))
    write(folder / "metrics.json", json.dumps(metrics))
    if status is not None:
        write(folder / "status.json", json.dumps({"state": status, "error": "boom" if status == "failed" else None}))
    return folder


def table_of(root: Path, **options):
    runs, _ = collect_runs([root], warn=lambda line: None)
    return leaderboard(select_runs(runs, options.pop("filters", ()), options.pop("last", None)), **options)


def column(table, name: str) -> list[str]:
    index = [c.name for c in table.columns].index(name)
    return [cells[index] for cells in table.cells()]


def test_only_the_hyperparameters_that_differ_become_columns(tmp_path: Path) -> None:
    make_run(tmp_path, "lstm", ("model.units=32",))
    make_run(tmp_path, "lstm", ("model.units=64",))
    make_run(tmp_path, "gru", ("model.units=32",))
    table = table_of(tmp_path)
    assert [c.name for c in table.columns] == [
        "run",
        "architecture",
        "model.units",
        "epochs",
        "best_val_accuracy",
        "best_epoch",
        "test_accuracy",
        "test_loss",
        "parameters",
        "epoch_seconds",
    ]
    make_run(tmp_path, "stacked", ("model.units=32", "train.optimizer=adam"))
    table = table_of(tmp_path)
    assert [c.name for c in table.hyperparameters] == [
        "model.units",
        "model.num_layers",
        "model.cell",
        "train.optimizer",
    ]
    assert sorted(column(table, "model.num_layers")) == ["", "", "", "2"]  # a key the others lack: blank
    assert "train.optimizer" in table.text().splitlines()[0]


def test_repeats_are_grouped_with_mean_and_sample_std(tmp_path: Path) -> None:
    for seed, accuracy in ((1, 0.80), (2, 0.82), (3, 0.84)):
        make_run(tmp_path, "lstm", (f"train.seed={seed}",), test_accuracy=accuracy)
    make_run(tmp_path, "lstm", ("train.seed=4", "model.units=64"), test_accuracy=0.9)  # not a repeat
    make_run(tmp_path, "gru", test_accuracy=0.7)
    table = table_of(tmp_path)
    assert [row.label for row in table.rows][1] == "lstm-… (×3)"
    assert column(table, "test_accuracy") == ["0.9000", "0.8200 ± 0.0200", "0.7000"]
    assert column(table, "train.seed") == ["4", "1, 2, 3", "42"]
    assert column(table, "epochs") == ["3", "3", "3"]
    rows = list(csv.DictReader(io.StringIO(table.csv())))
    assert rows[1]["n"] == "3" and float(rows[1]["test_accuracy"]) == pytest.approx(0.82)
    assert float(rows[1]["test_accuracy_std"]) == pytest.approx(0.02) and rows[0]["test_accuracy_std"] == ""
    assert len(rows[1]["runs"].split()) == 3
    ungrouped = table_of(tmp_path, group=False)
    assert len(ungrouped.rows) == 5 and "±" not in ungrouped.text()


def test_pictures_name_rows_with_short_unique_labels(tmp_path: Path) -> None:
    for seed in (1, 2):  # two groups of repeats that differ only in data.bucketing: alike by name
        make_run(tmp_path, "lstm", (f"train.seed={seed}", "data.bucketing=false"), test_accuracy=0.80 + seed / 100)
        make_run(tmp_path, "lstm", (f"train.seed={seed}", "data.bucketing=true"), test_accuracy=0.85 + seed / 100)
    make_run(tmp_path, "gru", ("model.units=64", "train.epochs=4"), test_accuracy=0.7)
    table = table_of(tmp_path)
    labels = [row.label for row in table.rows]
    assert labels == ["lstm-… (×2) bucketing=true", "lstm-… (×2) bucketing=false", table.rows[2].runs[0].name]
    assert column(table, "run") == labels  # the table names rows as the pictures do
    bars = accuracy_figure(table)
    assert [tick.get_text() for tick in bars.axes[0].get_yticklabels()] == labels
    curves = curves_figure(table, "val_accuracy")
    assert [text.get_text() for text in curves.axes[0].get_legend().get_texts()] == labels  # no other keys


def test_a_comparison_picture_stays_narrow(tmp_path: Path) -> None:
    import matplotlib.image

    for units in (8, 16, 32, 64):
        make_run(tmp_path, "bidirectional", (f"model.units={units}", f"train.epochs={units}", "data.maxlen=123"))
    result = compare([tmp_path])
    height, width = matplotlib.image.imread(result.folder / "val_accuracy.png").shape[:2]
    assert width < 1200, (width, height)


def test_plots_follow_each_runs_own_epochs(tmp_path: Path) -> None:
    make_run(tmp_path, "lstm", val_accuracy=(0.6, 0.7, 0.8))
    make_run(tmp_path, "gru", val_accuracy=(0.5, 0.6, 0.7, 0.75, 0.8))
    make_run(tmp_path, "simple_rnn", ("train.seed=1",), val_accuracy=(0.5, 0.6))  # repeats that stopped early
    make_run(tmp_path, "simple_rnn", ("train.seed=2",), val_accuracy=(0.7, 0.8, 0.6, 0.5))
    table = table_of(tmp_path, sort="run")
    figure = curves_figure(table, "val_accuracy")
    lines = {line.get_label().split("-")[0]: line for line in figure.axes[0].get_lines()}
    assert list(lines["gru"].get_xdata()) == [1, 2, 3, 4, 5]
    assert list(lines["lstm"].get_ydata()) == [0.6, 0.7, 0.8]
    group = lines["simple_rnn"]
    assert list(group.get_xdata()) == [1, 2, 3, 4]
    assert list(group.get_ydata()) == pytest.approx([0.6, 0.7, 0.6, 0.5])  # mean of the runs that got that far
    assert len(figure.axes[0].collections) == 1  # the ± std band of the repeats
    result = compare([tmp_path])
    for name in ("comparison.md", "comparison.csv", "val_accuracy.png", "val_loss.png", "test_accuracy.png"):
        assert (result.folder / name).stat().st_size > 0
    assert result.folder.parent == tmp_path / "comparisons"


def test_many_runs_keep_a_legend_entry_each(tmp_path: Path) -> None:
    for seed in range(12):
        make_run(tmp_path, "gru", (f"model.units={seed + 1}",), test_accuracy=0.5 + seed / 100)
    figure = curves_figure(table_of(tmp_path), "val_loss")
    assert len(figure.axes[0].get_legend().get_texts()) == 12
    assert len({line.get_color() for line in figure.axes[0].get_lines()}) == 12


def test_broken_and_unfinished_folders_are_left_out_with_one_warning_each(tmp_path: Path, capsys) -> None:
    good = make_run(tmp_path, "lstm")
    make_run(tmp_path, "gru", status="completed")
    (make_run(tmp_path, "gru", name="no-metrics") / "metrics.json").unlink()
    write(make_run(tmp_path, "gru", name="corrupt-history") / "history.json", '{"val_accuracy": [0.5, ')
    write(make_run(tmp_path, "gru", name="history-not-lists") / "history.json", '{"val_accuracy": 0.5}')
    make_run(tmp_path, "gru", name="failed", status="failed")
    make_run(tmp_path, "gru", name="running", status="running")
    (tmp_path / "empty-20260102-030405").mkdir()
    (tmp_path / ".hidden").mkdir()
    write(tmp_path / "notes.txt", "not a folder")
    compare([tmp_path])  # writes tmp_path/comparisons/…: not a run, no warning about it later
    assert run_command("compare", [str(tmp_path)]) == 0
    captured = capsys.readouterr()
    warnings = captured.err.strip().splitlines()
    assert len(warnings) == 6 and all(line.startswith("warning: ") for line in warnings)
    for name, words in [
        ("no-metrics", "no metrics.json"),
        ("corrupt-history", "history.json is corrupt"),
        ("history-not-lists", "expected a list per key"),
        ("failed", "'failed': boom"),
        ("running", "'running'"),
        ("empty-", "no config.yaml"),
    ]:
        (line,) = [line for line in warnings if f"{tmp_path}/{name}" in line]
        assert words in line
    assert good.name in captured.out and "gru-" in captured.out and "comparisons" not in captured.err


def test_filters_by_any_config_key(tmp_path: Path) -> None:
    make_run(tmp_path, "lstm", ("model.units=64", "train.optimizer=adam"))
    make_run(tmp_path, "lstm", ("model.units=32",))
    make_run(tmp_path, "gru", ("model.units=64", "train.learning_rate=0.01"))

    def names(*filters: str) -> list[str]:
        return sorted(
            row.runs[0].config_name + str(row.runs[0].flat_config["model.units"])
            for row in table_of(tmp_path, filters=filters).rows
        )

    assert names("architecture=lstm") == ["lstm32", "lstm64"]
    assert names("model.units=64") == ["gru64", "lstm64"]
    assert names("units=64", "architecture=lstm") == ["lstm64"]
    assert names("train.learning_rate=1e-3") == ["lstm32", "lstm64"]  # YAML reads 1e-3 as text: compared as a number
    assert names("optimizer=adam") == ["lstm64"] and names("data.limit=null") == names()


@pytest.mark.parametrize(
    "text, words",
    [
        ("architecure=lstm", "unknown key `architecure` (did you mean `architecture`?)"),
        ("model.unit=64", "(did you mean `model.units`?)"),
        ("seed=1", "ambiguous key `seed`: expected one of data.seed, train.seed"),
        ("architecture", "expected key=value"),
        ("architecture=transformer", "no run matches: expected a value that `model.architecture` has"),
    ],
)
def test_bad_filters_say_what_was_expected(text: str, words: str, tmp_path: Path) -> None:
    make_run(tmp_path, "lstm")
    with pytest.raises(RunError, match="^--filter ") as error:
        table_of(tmp_path, filters=[text])
    assert words in str(error.value)


def test_last_keeps_the_most_recent_runs_after_filtering(tmp_path: Path) -> None:
    make_run(tmp_path, "lstm", name="lstm-20260102-030405-2")
    make_run(tmp_path, "lstm", name="lstm-20260102-030405")
    make_run(tmp_path, "gru", name="gru-20260301-000000")
    make_run(tmp_path, "lstm", name="lstm-20251231-235959")
    make_run(tmp_path, "lstm", ("train.seed=1",), name="lstm-20260102-030406")
    runs, _ = collect_runs([tmp_path], warn=print)
    assert [run.name for run in select_runs(runs, ["architecture=lstm"], last=2)] == [
        "lstm-20260102-030405-2",
        "lstm-20260102-030406",
    ]
    assert [run.name for run in select_runs(runs, last=1)] == ["gru-20260301-000000"]


def test_sort_by_any_column_blanks_last(tmp_path: Path) -> None:
    make_run(tmp_path, "lstm", ("model.units=8",), test_accuracy=0.7, test_loss=0.5)
    make_run(tmp_path, "lstm", ("model.units=16",), test_accuracy=0.9, test_loss=0.3)
    blank = make_run(tmp_path, "lstm", ("model.units=128",), test_accuracy=0.8, test_loss=0.4)
    metrics = json.loads((blank / "metrics.json").read_text())
    del metrics["test_loss"]
    write(blank / "metrics.json", json.dumps(metrics))
    assert column(table_of(tmp_path), "test_accuracy") == ["0.9000", "0.8000", "0.7000"]
    assert column(table_of(tmp_path, sort="test_loss"), "test_loss") == ["0.3000", "0.5000", ""]
    assert column(table_of(tmp_path, sort="test_loss", reverse=True), "test_loss") == ["0.5000", "0.3000", ""]
    assert column(table_of(tmp_path, sort="units"), "model.units") == ["8", "16", "128"]  # by value, not text
    with pytest.raises(
        RunError, match=r"unknown column `test_acc` \(did you mean `test_accuracy`\?\): expected one of run,"
    ):
        table_of(tmp_path, sort="test_acc")


@pytest.mark.parametrize(
    "setup, argv, words",
    [
        ("nothing", [], "outputs: no such folder"),
        ("empty", ["outputs"], "outputs: no usable run"),
        ("broken", [], "no usable run: expected finished run folders"),
        ("runs", ["outputs/nope"], "outputs/nope: no such folder"),
        ("runs", ["--sort", "accuracy"], "--sort accuracy: unknown column"),
        ("runs", ["--filter", "units:64"], "--filter units:64: invalid filter"),
        ("runs", ["--last", "0"], "argument --last: expected an integer >= 1, received '0'"),
        ("runs", ["--out", "outputs/gru-20260102-030405/cmp"], "inside the run folder"),
        ("runs", ["--out", "outputs/gru-20260102-030405"], "inside the run folder"),
        ("runs", ["--out", "full"], "already exists and is not an empty folder"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_write_nothing(setup, argv, words, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    if setup != "nothing":
        (tmp_path / "outputs").mkdir()
    if setup == "broken":
        (make_run(tmp_path / "outputs", "gru") / "config.yaml").unlink()
    if setup == "runs":
        make_run(tmp_path / "outputs", "gru", name="gru-20260102-030405")
        write(tmp_path / "full" / "keep.txt", "mine")
    before = sorted(str(path) for path in tmp_path.rglob("*"))
    if argv[:1] == ["--last"]:
        with pytest.raises(SystemExit) as exit_info:
            run_command("compare", argv)
        code = exit_info.value.code
    else:
        code = run_command("compare", argv)
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("imdb-rnn compare: error: ") and words in lines[-1]
    assert len(lines) == 1 + (setup == "broken")  # the left-out folder's warning, then the error
    assert sorted(str(path) for path in tmp_path.rglob("*")) == before


def fingerprint(folder: Path) -> dict[str, tuple]:
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_run_folders_are_never_modified_and_comparison_folders_never_reused(tmp_path: Path, monkeypatch) -> None:
    make_run(tmp_path / "outputs", "lstm", ("train.seed=1",))
    make_run(tmp_path / "outputs", "lstm", ("train.seed=2",))
    make_run(tmp_path / "outputs", "gru", status="completed")
    runs = {path: fingerprint(path) for path in (tmp_path / "outputs").iterdir()}
    monkeypatch.chdir(tmp_path)
    first, second = compare(), compare(group=False)
    assert first.folder != second.folder and first.folder.parent == second.folder.parent == Path("outputs/comparisons")
    assert not first.left_out and not second.left_out
    assert {path: fingerprint(path) for path in runs} == runs
    now = datetime(2026, 1, 2, 3, 4, 5)
    assert [new_folder(tmp_path / "c", now=now).name for _ in range(3)] == [
        "20260102-030405",
        "20260102-030405-2",
        "20260102-030405-3",
    ]


def test_markdown_and_csv_hold_the_table(tmp_path: Path) -> None:
    make_run(tmp_path / "runs", "lstm", ("train.seed=1",), test_accuracy=0.8)
    make_run(tmp_path / "runs", "lstm", ("train.seed=2",), test_accuracy=0.9)
    make_run(tmp_path / "runs", "gru")
    result = compare(sorted((tmp_path / "runs").glob("lstm-*")), out=tmp_path / "mine")
    assert result.folder == tmp_path / "mine"
    text = (result.folder / "comparison.md").read_text()
    assert "| lstm-… (×2) | lstm | 1, 2 |" in text and "0.8500 ± 0.0707" in text and "![" in text
    assert "gru" not in text
    assert len(list(csv.reader(io.StringIO((result.folder / "comparison.csv").read_text())))) == 2


def test_command_line_without_runs_prints_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "compare.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("compare.py: error: outputs: no such folder") and result.stderr.count("\n") == 1


def test_a_renamed_run_folder_named_alone_is_read(tmp_path: Path) -> None:
    renamed = make_run(tmp_path, "gru", name="best-gru")
    result = compare([renamed], out=tmp_path / "cmp")
    assert [row.label for row in result.table.rows] == ["best-gru"]
    with pytest.raises(RunError, match="inside the run folder"):
        compare([renamed], out=renamed / "cmp")


def test_runs_in_nested_folders_are_found_and_other_folders_pass_silently(tmp_path: Path, capsys) -> None:
    make_run(tmp_path, "lstm")
    make_run(tmp_path / "reproduce", "gru")  # outputs/reproduce/gru-…
    make_run(tmp_path / "benchmarks" / "benchmark-20260102-030405" / "runs", "simple_rnn")
    write(tmp_path / "benchmarks" / "benchmark-20260102-030405" / "benchmark.md", "# Benchmark\n")
    (tmp_path / "notes").mkdir()
    language_model = tmp_path / "reproduce" / "pretrain" / "language_model-20260102-030405"  # not a classifier
    write(language_model / "config.yaml", "corpus: {}\nlanguage_model: {}\n")
    write(language_model / "history.csv", "epoch,loss\n1,5.0\n")
    runs, _ = collect_runs([tmp_path], warn=lambda line: print(line))
    assert sorted(run.config_name for run in runs) == ["gru", "lstm", "simple_rnn"]
    assert capsys.readouterr().out == ""
    runs, _ = collect_runs([tmp_path / "benchmarks" / "benchmark-20260102-030405"], warn=lambda line: print(line))
    assert [run.config_name for run in runs] == ["simple_rnn"]  # named like a run, read as a folder of runs
    assert capsys.readouterr().out == ""
