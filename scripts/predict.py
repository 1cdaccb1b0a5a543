"""Sentiment of raw text: `python scripts/predict.py outputs/<run> "What a film!" [--file reviews.txt] [--json]`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.cli import predict_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(predict_main())
