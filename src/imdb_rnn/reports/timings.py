"""The raw timings of an `imdb-rnn benchmark` run, as JSON: what its table is computed from, where and
how it was measured, so that a table in docs/BENCHMARK.md can be checked and computed again.

Every benchmark writes one (`--json PATH`; by default `timings.json` in the benchmark's new folder under
`outputs/benchmarks/`). A table committed to docs/BENCHMARK.md has its file committed beside it, under
docs/benchmarks/, and names it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imdb_rnn.environment import commit, machine, versions
from imdb_rnn.files import write_json

FILE_NAME = "timings.json"


def record(
    path: Path,
    kind: str,
    command: str,
    statistic: str,
    settings: dict[str, Any],
    results: list[dict[str, Any]],
    seconds: float,
) -> Path:
    """Writes `path`: the `results` (every timed epoch or step, by way or width) of a benchmark of `kind`
    (`epochs` or `step profile`), with the `command` that ran it, the `statistic` its ratios use, its
    `settings`, the machine (`environment.machine`), the commit, the library versions and the date."""
    import keras

    write_json(
        path,
        {
            "kind": kind,
            "command": command,
            "keras_backend": keras.backend.backend(),
            "KERAS_BACKEND": os.environ.get("KERAS_BACKEND"),
            "commit": commit(),
            "machine": machine(),
            "versions": versions(),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(seconds, 1),
            "statistic": statistic,
            "settings": settings,
            "results": results,
        },
    )
    return path
