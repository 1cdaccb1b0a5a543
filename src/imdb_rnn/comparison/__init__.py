"""Comparing runs: read finished run folders (`collect`), rank them (`leaderboard`), draw them
(`plots`) and write a comparison folder (`report`).

    from imdb_rnn.comparison import compare
    result = compare(["outputs"], filters=["architecture=lstm"])
    print(result.table.text()); result.folder    # outputs/comparisons/<timestamp>/
"""

from imdb_rnn.comparison.report import Comparison, compare

__all__ = ["Comparison", "compare"]
