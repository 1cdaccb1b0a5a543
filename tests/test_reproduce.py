"""`imdb-rnn reproduce` from scratch and from a pretraining, and its ledger (docs/RESULTS.json) that
keeps every run measured, on the tiny corpus (seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PROJECT, TINY_NUM_WORDS, TINY_OVERRIDES, run_command, write
from imdb_rnn.reports.reproduce import goal, read_ledger
from imdb_rnn.reports.results import README_BEGIN, README_END, merge, results_markdown, summary_table
from imdb_rnn.runs.provenance import checkout_state

HEAD = checkout_state()[0] or ""


def tiny_pretraining(folder: Path, corpus: Path) -> Path:
    """A pretraining config that fits the tiny classifier (8 dimensions, `TINY_NUM_WORDS` rows)."""
    return write(
        folder / "tiny_w2v.yaml",
        f"corpus:\n  path: {corpus}\n  num_words: {TINY_NUM_WORDS}\n"
        "word2vec:\n  vector_size: 8\n  min_count: 1\n  epochs: 2\n",
    )


def test_reproduce_measures_each_start_and_merges_later_runs_into_the_results(
    tiny_corpus: Path, tmp_path: Path, capsys
) -> None:
    start = tiny_pretraining(tmp_path, tiny_corpus)
    results, output = tmp_path / "docs" / "RESULTS.md", tmp_path / "runs"
    common = ["--output-dir", str(output), "--results", str(results)]
    common += [
        arg for item in [*TINY_OVERRIDES, f"data.path={tiny_corpus}", "train.epochs=2"] for arg in ("--set", item)
    ]
    argv = ["--configs", "lstm", "--seeds", "1", "2", "--starts", "scratch", str(start), *common]
    assert run_command("reproduce", argv) == 0
    assert len(list((output / "pretrain").iterdir())) == 1  # one pretraining, reused by the second seed
    ledger = json.loads(results.with_suffix(".json").read_text(encoding="utf-8"))
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("recorded in")]
    assert len(said) == 4 and said[-1].startswith(
        f"recorded in {results.with_suffix('.json')}: lstm from tiny_w2v, seed 2"
    )
    assert "test accuracy 0." in said[-1] or "test accuracy 1." in said[-1]  # each run as it lands
    assert sorted((r["start"], r["seed"]) for r in ledger["runs"]) == [
        ("scratch", 1),
        ("scratch", 2),
        ("tiny_w2v", 1),
        ("tiny_w2v", 2),
    ]
    for start_name in ("scratch", "tiny_w2v"):  # the seeds of one experiment share its config hash
        rows = [r for r in ledger["runs"] if r["start"] == start_name]
        assert len({r["config_hash"] for r in rows}) == 1 and rows[0]["config_hash"]
        assert all(r["encoding"] == 2 and (r["commit"] is None) == (not HEAD) for r in rows)
        assert all(isinstance(r["dirty"], bool) == bool(HEAD) for r in rows)
    assert len({r["config_hash"] for r in ledger["runs"]}) == 2
    (cost,) = ledger["pretraining"]
    assert cost["name"] == "tiny_w2v" and cost["reviews"] == 160 and cost["minutes"] >= 0
    text = results.read_text(encoding="utf-8")
    assert "Not full-data results" in text
    assert [line.split("|")[3].strip() for line in text.splitlines() if line.startswith("| `lstm` |")] == [
        "scratch",
        "tiny_w2v",
    ]
    assert f"--set model.pretrained={start} --set train.seed=2`" in text
    assert "| tiny_w2v (word2vec) |" in text  # the pretraining's cost

    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{README_BEGIN}\nan old table\n{README_END}\n\nAfter.\n", encoding="utf-8")
    more = ["--configs", "gru", "--seeds", "1", "--starts", "scratch", "--readme", str(readme), *common]
    assert run_command("reproduce", more) == 0
    table = readme.read_text(encoding="utf-8").split(README_BEGIN)[1].split(README_END)[0]
    assert "an old table" not in table and readme.read_text(encoding="utf-8").endswith("\n\nAfter.\n")
    assert "| config | from scratch | tiny_w2v start | goal | met |" in table
    assert "| `gru` |" in table and "| - | 0.89 |" in table  # no tiny_w2v run; the goal from scratch
    text = results.read_text(encoding="utf-8")
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| `")]
    assert rows.count("`lstm`") == 2 and rows.count("`gru`") == 1  # the earlier runs stay in the table
    assert len(json.loads(results.with_suffix(".json").read_text(encoding="utf-8"))["runs"]) == 5

    # On a fresh machine (no run folders), what the ledger holds at the same config hash is not trained again.
    capsys.readouterr()
    fresh = ["--output-dir", str(tmp_path / "fresh"), *common[2:]]
    assert run_command("reproduce", ["--configs", "lstm", "--seeds", "1", "--starts", "scratch", *fresh]) == 0
    assert not (tmp_path / "fresh").exists()
    assert "already recorded in" in capsys.readouterr().out
    assert len(json.loads(results.with_suffix(".json").read_text(encoding="utf-8"))["runs"]) == 5


def test_the_readmes_results_table_is_the_ledgers() -> None:
    """README.md shows what docs/RESULTS.json holds (`make results` rewrites both)."""
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(README_BEGIN)[1].split(README_END)[0].strip()
    ledger = json.loads((PROJECT / "docs" / "RESULTS.json").read_text(encoding="utf-8"))
    assert shown == summary_table(ledger, goal), "run: imdb-rnn reproduce --readme README.md (or make results)"


@pytest.mark.parametrize("content", [None, "# A README without the table's markers\n"])
def test_a_readme_without_its_table_is_refused_before_anything_trains(
    content: str | None, tmp_path: Path, capsys
) -> None:
    readme = tmp_path / "README.md"
    if content is not None:
        readme.write_text(content, encoding="utf-8")
    argv = ["--configs", "gru", "--readme", str(readme), "--output-dir", str(tmp_path / "runs")]
    assert run_command("reproduce", argv) == 2
    error = capsys.readouterr().err
    assert f"--readme {readme}: expected" in error and "Traceback" not in error
    assert not (tmp_path / "runs").exists() and (content is None) == (not readme.exists())


def test_results_md_is_written_from_the_ledger_byte_for_byte() -> None:
    """docs/RESULTS.md is what `imdb-rnn reproduce --tables-only` writes from docs/RESULTS.json."""
    written = results_markdown(read_ledger(PROJECT / "docs" / "RESULTS.json"), goal)
    assert written == (PROJECT / "docs" / "RESULTS.md").read_text(encoding="utf-8"), "run: make results-tables"


def ledger_row(seed: int, digest: str | None, accuracy: float, encoding: int = 2, day: int = 0) -> dict:
    return {
        "config": "lstm",
        "architecture": "lstm",
        "start": "scratch",
        "seed": seed,
        "run": f"lstm-2026120{day or seed}-000000",
        "test_accuracy": accuracy,
        "best_epoch": 2,
        "epochs_run": 3,
        "median_epoch_seconds": 30.0,
        "training_seconds": 90.0,
        "parameters": 1000,
        "command": f"imdb-rnn train --config lstm --set train.seed={seed}",
        "machine": "a machine",
        "date": f"2026-12-0{seed}",
        "commit": None if digest is None else "abcdef1",
        "dirty": None if digest is None else False,
        "config_hash": digest,
        "encoding": encoding,
    }


def test_the_ledger_never_mixes_config_hashes_under_one_row(tmp_path: Path) -> None:
    ledger = tmp_path / "RESULTS.json"
    merge(ledger, [ledger_row(1, None, 0.87, encoding=1), ledger_row(2, None, 0.88, encoding=1)], [])
    merged = merge(ledger, [ledger_row(1, "a" * 64, 0.90), ledger_row(2, "a" * 64, 0.91)], [])
    merged = merge(ledger, [ledger_row(1, "b" * 64, 0.80, day=3), ledger_row(1, "a" * 64, 0.92)], [])
    assert len(merged["runs"]) == 5  # seed 1 of hash a recorded again from its own folder: its row replaced
    again = merge(ledger, [ledger_row(1, "a" * 64, 0.93, day=5)], [])  # seed 1 of hash a, trained again elsewhere
    assert len(again["runs"]) == 6  # beside the first, never over it
    assert [r["test_accuracy"] for r in again["runs"] if r["config_hash"] == "a" * 64] == [0.92, 0.93, 0.91]
    assert "| `aaaaaaaa` | **0.9200** ± 0.0100 | 3 |" in results_markdown(again, goal)
    text = results_markdown(merged, goal)
    rows = [line for line in text.splitlines() if line.startswith("| `lstm` |")]
    assert len(rows) == 3  # encoding 1 (no hash), hash a, hash b: three experiments, three rows
    assert any("| - | **0.8750** ± 0.0071† | 2 |" in row for row in rows)  # old encoding, marked
    assert any("| `aaaaaaaa` | **0.9150** ± 0.0071 | 2 |" in row for row in rows)
    assert any("| `bbbbbbbb` | **0.8000** | 1 |" in row for row in rows)
    assert "| abcdef1 | 2 | `aaaaaaaa` |" in text
    assert "Goals not met: lstm (scratch), lstm (scratch, bbbbbbbb)." in text
    table = summary_table(merged, goal)  # the README shows the newest experiment of the newest encoding
    assert "| `lstm` | **0.8000** (1) |" in table and "†" not in table


def test_a_start_may_add_a_recipe_that_every_recurrent_config_takes_and_the_yardsticks_do_not() -> None:
    from imdb_rnn.config import load_config
    from imdb_rnn.errors import ConfigError
    from imdb_rnn.reports.reproduce import start_overrides

    extra = start_overrides(load_config("gru"), "scratch+mixed")
    assert extra == ("train.adversarial=0.02", "train.virtual_adversarial=0.02", "train.entropy_minimisation=1.0")
    with_vectors = start_overrides(load_config("gru"), "word2vec+mixed")
    assert with_vectors[0] == "model.pretrained=word2vec" and with_vectors[-3:] == extra
    config = load_config("gru", list(with_vectors))
    assert config.train.adversarial == 0.02 and config.model.pretrained == "word2vec"
    assert (config.train.epochs, config.train.early_stopping) == (10, 2)  # gru.yaml's own
    assert start_overrides(load_config("baseline_nbsvm"), "scratch+mixed") is None
    assert start_overrides(load_config("baseline_nbsvm"), "scratch") == ()
    with pytest.raises(
        ConfigError, match="recipe not found: expected a path or one of the configs in configs/recipes/"
    ):
        start_overrides(load_config("gru"), "scratch+nope")


def test_a_region_start_gives_the_cnn_and_the_recurrent_configs_its_shape_and_skips_the_yardsticks() -> None:
    from imdb_rnn.config import load_config
    from imdb_rnn.reports.reproduce import start_overrides

    extra = start_overrides(load_config("cnn"), "region+mixed")
    assert extra[:3] == ("model.pretrained=region", "model.region_units=128", "model.region_size=5")
    config = load_config("cnn", list(extra))
    assert config.model.params["region_units"] == 128 and config.train.adversarial == 0.02
    lstm = load_config("lstm", list(start_overrides(load_config("lstm"), "region")))
    assert lstm.model.params["region_units"] == 128 and lstm.model.params["region_size"] == 5
    assert start_overrides(load_config("baseline_nbsvm"), "region") is None  # the yardstick's row stays plain


def test_reproduce_makes_each_seeds_ensemble_of_its_members_and_records_it_once(
    tiny_corpus: Path, tmp_path: Path, capsys
) -> None:
    """An ensemble of configs/ensembles/ (here a tiny one): its members' runs are trained as rows of their
    own, then one ensemble a seed of that seed's runs, recorded with start `ensemble` and its goal; run
    again, nothing is trained or made again. The ledger's hash of it changes with a member's config."""
    bigrams = write(tmp_path / "bigrams.yaml", (PROJECT / "configs" / "baseline_bigrams.yaml").read_text())
    bigrams.write_text(bigrams.read_text().replace("1048576", "4096"))
    spec = write(
        tmp_path / "pair.yaml",
        f"members:\n  - {{config: gru, start: scratch}}\n  - {{config: {bigrams}}}\nweights: validation\n",
    )
    results, output = tmp_path / "docs" / "RESULTS.md", tmp_path / "runs"
    tiny = [
        item for item in TINY_OVERRIDES if not item.startswith(("model.units", "model.word_dropout"))
    ]  # both members take the rest
    sets = [*tiny, f"data.path={tiny_corpus}", "train.epochs=1"]
    argv = ["--ensembles", str(spec), "--seeds", "1", "2", "--output-dir", str(output), "--results", str(results)]
    argv += [arg for item in sets for arg in ("--set", item)]
    assert run_command("reproduce", argv) == 0
    ledger = json.loads(results.with_suffix(".json").read_text(encoding="utf-8"))
    assert sorted((r["config"], r["start"], r["seed"]) for r in ledger["runs"]) == [
        ("bigrams", "scratch", 1),
        ("bigrams", "scratch", 2),
        ("gru", "scratch", 1),
        ("gru", "scratch", 2),
        ("pair", "ensemble", 1),
        ("pair", "ensemble", 2),
    ]
    for seed in (1, 2):
        (row,) = [r for r in ledger["runs"] if r["start"] == "ensemble" and r["seed"] == seed]
        members = sorted(r["run"] for r in ledger["runs"] if r["start"] == "scratch" and r["seed"] == seed)
        assert sorted(row["members"]) == members and row["architecture"] == "ensemble"
        metrics = json.loads((output / row["run"] / "metrics.json").read_text(encoding="utf-8"))
        assert row["test_accuracy"] == metrics["test_accuracy"] and metrics["ensemble"]["weighting"] == "validation"
        assert sorted(Path(m["run"]).name for m in metrics["ensemble"]["members"]) == members
        costs = [json.loads((output / m / "metrics.json").read_text())["training_seconds"] for m in members]
        assert row["training_seconds"] == pytest.approx(sum(costs))
    text = results.read_text(encoding="utf-8")
    (line,) = [line for line in text.splitlines() if line.startswith("| `pair` | ensemble | ensemble |")]
    assert "| 0.935 |" in line and "| -, - |" in line  # the goal; no best epoch
    assert "--ensembles pair --seeds 2`" in text

    capsys.readouterr()
    folders = sorted(output.iterdir())
    assert run_command("reproduce", argv) == 0
    assert sorted(output.iterdir()) == folders  # nothing trained or made again
    assert "ensemble pair, seed 2" in capsys.readouterr().out

    spec.write_text(spec.read_text().replace("validation", "equal"))  # another ensemble: a new row, its runs reused
    assert run_command("reproduce", [*argv[:3], "1", *argv[4:]]) == 0
    ledger = json.loads(results.with_suffix(".json").read_text(encoding="utf-8"))
    assert len({r["config_hash"] for r in ledger["runs"] if r["start"] == "ensemble"}) == 2
    assert len([f for f in output.iterdir() if f.name.startswith("gru")]) == 2  # the members were not trained again


@pytest.mark.parametrize(
    "content, expected",
    [
        ("members: [{config: gru}]\n", "expected a list of at least two"),
        ("members: [{config: gru}, {config: lstm, stat: scratch}]\n", "invalid member 2"),
        ("members: [{config: gru}, {config: lstm}]\nweights: best\n", "`weights`: expected equal or validation"),
        ("members: [{config: gru}, {config: lstm}]\nweighs: equal\n", "unknown key `weighs`"),
        ("members: [{config: gru}, {config: baseline_nbsvm, start: word2vec}]\n", "that baseline_nbsvm does not take"),
    ],
)
def test_a_bad_ensemble_file_is_one_line_naming_it(tmp_path: Path, capsys, content: str, expected: str) -> None:
    spec = write(tmp_path / "bad.yaml", content)
    argv = ["--ensembles", str(spec), "--output-dir", str(tmp_path / "runs"), "--results", str(tmp_path / "R.md")]
    assert run_command("reproduce", argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and str(spec) in error and expected in error, error
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("path", sorted((PROJECT / "configs" / "ensembles").glob("*.yaml")), ids=lambda p: p.stem)
def test_each_shipped_ensemble_names_shipped_configs_with_starts_that_apply(path: Path) -> None:
    """Every member of a shipped ensemble loads as `reproduce` would train it: a shipped config, from a
    start that applies to it (a yardstick only from scratch), with the start's overrides checked."""
    from imdb_rnn.config import load_config
    from imdb_rnn.reports.ensembles import load_spec
    from imdb_rnn.reports.reproduce import start_overrides

    spec = load_spec(path.stem)
    assert len(spec.members) >= 2 and len(set(spec.members)) == len(spec.members)
    for name, start in spec.members:
        base = load_config(name)
        extra = start_overrides(base, start)
        assert extra is not None, f"{path.name}: {name} does not start from {start}"
        load_config(name, list(extra))


def test_the_start_without_validation_reviews_loads_with_the_shipped_split_only() -> None:
    from imdb_rnn.config import load_config
    from imdb_rnn.errors import ConfigError
    from imdb_rnn.reports.reproduce import start_overrides

    extra = start_overrides(load_config("cnn_lstm"), "region_without_validation+mixed")
    assert extra[0] == "model.pretrained=region_without_validation"
    assert load_config("cnn_lstm", list(extra)).model.params["region_units"] == 128
    with pytest.raises(ConfigError, match="left out the validation reviews of another split"):
        load_config("cnn_lstm", [*extra, "data.validation_split=0.1"])
