"""Train a model from a YAML config: `python scripts/train.py --config lstm.yaml [--set train.epochs=3]`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.cli import train_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(train_main())
