"""`python scripts/make_large_corpus.py --reviews 1000000 --out /tmp/reviews-1m.csv`: a CSV of sentence-shuffled
labeled reviews made from aclImdb's training reviews (see `imdb_rnn.data.shuffled_reviews`), for measuring how
training scales with the data (docs/BENCHMARK.md). Never commit its output.

The archive is found as `data.source: aclimdb` finds it: `--data`, else `$IMDB_DATA_DIR`, else ~/.keras/datasets.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.config import DataConfig  # noqa: E402
from imdb_rnn.data.shuffled_reviews import write_shuffled_reviews  # noqa: E402
from imdb_rnn.data.sources import locate  # noqa: E402
from imdb_rnn.errors import UserError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, required=True, help="how many reviews to write")
    parser.add_argument("--out", type=Path, required=True, help="the CSV to write (text,label)")
    parser.add_argument("--seed", type=int, default=0, help="draws the labels and sentences (default 0)")
    parser.add_argument("--data", help="aclImdb folder or aclImdb_v1.tar.gz, or the folder holding it")
    args = parser.parse_args(argv)
    if args.reviews < 1:
        parser.error(f"argument --reviews: expected a positive number, received {args.reviews}")
    try:
        location = locate(DataConfig(source="aclimdb", path=args.data))
        if location.path is None:
            raise UserError(
                f"no aclImdb archive or folder in {', '.join(map(str, location.searched))}: expected --data or "
                "IMDB_DATA_DIR naming aclImdb_v1.tar.gz, received none."
            )
        started = time.perf_counter()
        written = write_shuffled_reviews(location.path, args.out, args.reviews, args.seed)
    except UserError as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    print(
        f"{args.out}: {args.reviews:,} reviews ({written['neg']:,} neg, {written['pos']:,} pos) from "
        f"{written['sentences']:,} sentences of {location.path}'s training reviews, {seconds:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
