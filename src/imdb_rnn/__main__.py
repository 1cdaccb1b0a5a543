"""`python -m imdb_rnn COMMAND ...`: the `imdb-rnn` command."""

import sys

from imdb_rnn.cli import main

if __name__ == "__main__":
    sys.exit(main())
