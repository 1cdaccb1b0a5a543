"""Evaluate a run on the test set: `python scripts/evaluate.py outputs/<run> [--threshold 0.5]`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.cli import evaluate_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(evaluate_main())
