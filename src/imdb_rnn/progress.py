"""Progress bars for the long steps outside `model.fit` (tokenizing the raw reviews, evaluating)."""

from __future__ import annotations

import sys

import keras


def progress_bar(target: int | None, unit_name: str = "step") -> keras.utils.Progbar:
    """Keras's `Progbar` when standard output is a terminal; a silent one (`verbose=0`) otherwise,
    so logs and pipes get no bar. `target=None` counts without a total."""
    return keras.utils.Progbar(target, verbose=1 if sys.stdout.isatty() else 0, unit_name=unit_name)


def say(line: str) -> None:
    """One progress line on standard output, flushed at once (so a log file shows it as it happens)."""
    print(line, flush=True)
