"""Compare finished runs: `python scripts/compare.py [outputs/lstm-* outputs/gru-*] [--sort test_loss]`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.cli import compare_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(compare_main())
