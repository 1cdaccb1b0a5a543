"""Every run folder says where its figures come from: the commit it was trained at, whether the tree was
dirty, the text encoding, and a hash of its resolved config that the seeds of one config share."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from imdb_rnn.config import load_config
from imdb_rnn.data.text import ENCODING
from imdb_rnn.environment import CHECKOUT
from imdb_rnn.runs.provenance import PROVENANCE_FILE, checkout_state, config_hash, record_provenance


def test_the_hash_leaves_out_seeds_and_paths_and_nothing_else() -> None:
    base = load_config("lstm").to_dict()
    same = load_config("lstm", ["train.seed=7", "data.path=/somewhere/else"]).to_dict()
    assert config_hash(base) == config_hash(same) and len(config_hash(base)) == 64
    for change in ("model.units=32", "data.maxlen=300", "train.epochs=3", "data.limit=100"):
        assert config_hash(load_config("lstm", [change]).to_dict()) != config_hash(base), change
    pretrained = {**base, "model": {**base["model"], "pretrained": "outputs/pretrain/word2vec-20261201-140035"}}
    elsewhere = {**base, "model": {**base["model"], "pretrained": "/runs/pretrain/word2vec-20261202-101010"}}
    assert config_hash(pretrained) == config_hash(elsewhere) != config_hash(base)


# The hash of each shipped config as it loads, by its first 8 hex digits. A new key with a default that changes
# nothing must leave these (and so the ledger's rows) as they are: list it in `LATER_KEYS` with that default.
# Change a figure here only with the shipped config itself, whose runs are then a new row.
SHIPPED_HASHES = {
    "baseline_bigrams": "ed9560b3",
    "baseline_nbsvm": "0a405dff",
    "best": "63696ba0",
    "bidirectional": "d5f48e56",
    "cnn": "bfc9b358",
    "cnn_lstm": "cd950151",
    "dropout": "d2394b8d",
    "gru": "9ec15a4c",
    "lstm": "899682c7",
    "simple_rnn": "d28b8a74",
    "stacked": "7bbd7fa4",
}


def test_a_new_key_at_its_neutral_default_keeps_every_shipped_config_hash() -> None:
    hashes = {name: config_hash(load_config(name).to_dict())[:8] for name in SHIPPED_HASHES}
    assert hashes == SHIPPED_HASHES
    assert config_hash(load_config("cnn", ["model.regions=bag"]).to_dict())[:8] != SHIPPED_HASHES["cnn"]


def test_the_run_folder_records_its_commit_hash_and_encoding(tiny_run: Path) -> None:
    provenance = json.loads((tiny_run / PROVENANCE_FILE).read_text(encoding="utf-8"))
    if checkout_state()[0] is None:
        assert provenance["commit"] is None
    else:  # HEAD then: HEAD now, or one of its ancestors when a commit came in between
        ancestor = ["git", "-C", str(CHECKOUT), "merge-base", "--is-ancestor", provenance["commit"], "HEAD"]
        assert len(provenance["commit"]) == 40 and subprocess.run(ancestor).returncode == 0
    assert provenance["dirty"] in (True, False, None) and provenance["encoding"] == ENCODING == 2
    config = load_config(tiny_run / "config.yaml")
    assert provenance["config_hash"] == config_hash(config.to_dict())


def test_a_resumed_run_keeps_the_provenance_of_its_start(tmp_path: Path) -> None:
    config = load_config("gru").to_dict()
    first = record_provenance(tmp_path, config)
    (tmp_path / PROVENANCE_FILE).write_text(json.dumps({**first, "commit": "an earlier commit"}), encoding="utf-8")
    assert record_provenance(tmp_path, config)["commit"] == "an earlier commit"


def test_dirty_means_tracked_files_differ_from_head(tmp_path: Path) -> None:
    commit, dirty = checkout_state()
    if commit is None:  # an installed package, not a checkout
        assert dirty is None
        return
    changes = subprocess.run(
        ["git", "-C", str(CHECKOUT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    assert dirty == bool(changes.stdout.strip())
