"""Time plain Keras vs the trainer vs the trainer with length bucketing: `python scripts/benchmark.py --epochs 3`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.benchmark import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
