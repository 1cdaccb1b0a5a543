"""Where a run's figures come from: `provenance.json` in every run folder, written as the run starts.

    {"commit": "4b40d37…", "dirty": false, "version": "0.9.0", "config_hash": "3f1c…", "encoding": 2,
     "started": "2026-12-02T05:10:00"}

`commit` is the checkout's HEAD when the run started (null for an installed package) and `dirty` whether
tracked files differed from it then; `encoding` is the text encoding of its reviews (`text.ENCODING`).
`config_hash` identifies what the run's figures depend on: the SHA-256 of its resolved config (sorted
keys), less what varies between repeats of one experiment — each section's `seed`, `path` (where the
data lies) and `pretrained` reduced to the pretraining's config name — so the seeds of one config share
a hash and an edited config gets another. The ledger (`imdb_rnn.reports.results`) keys its rows by it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from imdb_rnn import __version__
from imdb_rnn.data import text
from imdb_rnn.environment import CHECKOUT
from imdb_rnn.files import read_json_or_none, stamp_of, write_json

PROVENANCE_FILE = "provenance.json"
# What differs between repeats of one experiment, left out of the hash: the seed, the data's path, and how the
# same arithmetic is run (`fused_lstm`: another kernel for the same LSTM, as another machine rounds differently).
KERNEL_KEYS = ("fused_lstm",)  # how the same arithmetic is run: a run with either value is the same run
REPEAT_KEYS = ("seed", "path", *KERNEL_KEYS)
# Keys added after the ledger began, left out of the hash while they hold the value that changes nothing
# (the behaviour of every earlier run), so that earlier runs keep their hash.
LATER_KEYS = {
    "passes_per_epoch": None,
    "adversarial": 0.0,
    "virtual_adversarial": 0.0,
    "entropy_minimisation": 0.0,
    "unlabeled_weight": 1.0,
    "unlabeled_batch_size": None,
    "embedding_updates": "dense",
    "region_units": 0,
    "region_size": 5,
    "regions": "sequence",
}


def config_hash(resolved: Mapping[str, Any]) -> str:
    """The hex SHA-256 of a resolved config (`{section: {key: value}}`) less `REPEAT_KEYS` (and `LATER_KEYS`
    while they hold their neutral value), with `pretrained` reduced to the pretraining's name (`outputs/pretrain/word2vec-<time>` → `word2vec`)."""
    kept = {}
    for section, values in resolved.items():
        if not isinstance(values, Mapping):
            kept[section] = values
            continue
        kept[section] = {
            key: value
            for key, value in values.items()
            if key not in REPEAT_KEYS and not (key in LATER_KEYS and value == LATER_KEYS[key])
        }
        if kept[section].get("pretrained") is not None:
            pretrained = str(kept[section]["pretrained"])
            stamp = stamp_of(Path(pretrained))
            kept[section]["pretrained"] = stamp[0] if stamp else Path(pretrained).stem
    canonical = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checkout_state() -> tuple[str | None, bool | None]:
    """`(HEAD's full hash, whether tracked files differ from it)`, `(None, None)` outside a git checkout."""
    try:
        head = subprocess.run(["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"], capture_output=True, text=True)
        if head.returncode or not head.stdout.strip():
            return None, None
        changes = subprocess.run(
            ["git", "-C", str(CHECKOUT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return None, None
    return head.stdout.strip(), bool(changes.stdout.strip()) if not changes.returncode else None


def record_provenance(run: Path, resolved: Mapping[str, Any]) -> dict[str, Any]:
    """Writes `run/provenance.json` for a run starting now with the resolved config `resolved`, and
    returns it. A resumed run keeps the file its start wrote."""
    existing = read_provenance(run)
    if existing is not None:
        return existing
    commit, dirty = checkout_state()
    provenance = {
        "commit": commit,
        "dirty": dirty,
        "version": __version__,
        "config_hash": config_hash(resolved),
        "encoding": text.ENCODING,
        "started": datetime.now().isoformat(timespec="seconds"),
    }
    write_json(run / PROVENANCE_FILE, provenance)
    return provenance


def read_provenance(run: Path) -> dict[str, Any] | None:
    """The run's `provenance.json`, None for a run folder from before it was written (or unreadable)."""
    content = read_json_or_none(Path(run) / PROVENANCE_FILE)
    return content if isinstance(content, dict) else None
