"""Writes a small, class-balanced sample of aclImdb's TRAINING reviews as one CSV file, as a user's own
few thousand labeled reviews would come (columns `text` and `label`, `pos` or `neg`).

Only `train/pos` and `train/neg` are read (never `test/` or `train/unsup`); the sample is drawn with a
fixed seed, so the same command writes the same file. With no test part, a run holds out
`data.test_split` (0.2) of it as its test set:

    python docs/examples/small_reviews_csv.py ../shared/data/aclImdb_v1.tar.gz outputs/small/reviews.csv
    imdb-rnn train --config gru --set data.source=csv --set data.path=outputs/small/reviews.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import tarfile
from pathlib import Path

MEMBER = re.compile(r"(?:^|/)train/(neg|pos)/\d+_\d+\.txt$")


def sample(archive: Path, count: int, seed: int) -> list[tuple[str, str]]:
    """`count` (text, label) rows, half `pos` and half `neg`, drawn with `seed` from the training reviews
    of `archive`, in a seeded shuffled order."""
    found: dict[str, list[tuple[str, bytes]]] = {"neg": [], "pos": []}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            match = MEMBER.search(member.name)
            if match and member.isfile():
                found[match[1]].append((member.name, tar.extractfile(member).read()))
    generator = random.Random(seed)
    rows = []
    for label in ("neg", "pos"):
        members = sorted(found[label])
        if len(members) < count // 2:
            raise SystemExit(
                f"{archive}: expected at least {count // 2} train/{label} reviews, received {len(members)}."
            )
        rows += [(raw.decode("utf-8", errors="replace"), label) for _, raw in generator.sample(members, count // 2)]
    generator.shuffle(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="aclImdb_v1.tar.gz")
    parser.add_argument("output", type=Path, help="the CSV file to write, e.g. outputs/small/reviews.csv")
    parser.add_argument("--count", type=int, default=2400, help="reviews to write, half of each class (2400)")
    parser.add_argument("--seed", type=int, default=1, help="the sample's seed (1)")
    args = parser.parse_args()
    if args.output.exists():
        raise SystemExit(f"{args.output} exists: expected a new file, received an existing one (nothing written).")
    rows = sample(args.archive, args.count, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    print(f"{args.output}: {len(rows)} reviews")


if __name__ == "__main__":
    main()
