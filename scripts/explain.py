"""`python scripts/explain.py ...` is `imdb-rnn explain ...` (see `imdb-rnn explain --help`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.cli import script  # noqa: E402

if __name__ == "__main__":
    sys.exit(script("explain"))
