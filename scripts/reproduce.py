"""Train every shipped config on the full data with seeds 1 2 3 and write docs/RESULTS.md (hours on a CPU)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.reproduce import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
