"""Writes the Large Movie Review Dataset's star ratings as your own data would come: two CSV files.

The file names of aclImdb carry each review's rating (`train/pos/123_9.txt` is a 9): 1-4 in `neg/`,
7-10 in `pos/`, so the task has eight classes. The result is the `csv` source's layout, a folder with
`train.csv` and `test.csv` (columns `text` and `rating`; quoted texts keep their commas and newlines):

    python docs/examples/star_ratings_csv.py ../shared/data/aclImdb_v1.tar.gz outputs/data/star_ratings
    imdb-rnn train --config lstm --set data.source=csv --set data.path=outputs/data/star_ratings \
        --set data.label_column=rating

Only the labeled reviews are written (never `train/unsup`); the test reviews stay the test set.
"""

from __future__ import annotations

import argparse
import csv
import re
import tarfile
from pathlib import Path

MEMBER = re.compile(r"(?:^|/)(train|test)/(neg|pos)/\d+_(\d+)\.txt$")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="aclImdb_v1.tar.gz")
    parser.add_argument("output", type=Path, help="the folder to write train.csv and test.csv into")
    args = parser.parse_args()
    rows: dict[str, list[tuple[str, str, str]]] = {"train": [], "test": []}
    with tarfile.open(args.archive, "r:gz") as archive:
        for member in archive:
            match = MEMBER.search(member.name)
            if match and member.isfile():
                text = archive.extractfile(member).read().decode("utf-8", errors="replace")
                rows[match[1]].append((member.name, text, match[3]))
    args.output.mkdir(parents=True, exist_ok=True)
    for split, found in rows.items():
        path = args.output / f"{split}.csv"
        if path.exists():
            raise SystemExit(f"{path} exists: expected a folder without {split}.csv, received one (nothing written).")
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "rating"])
            writer.writerows((text, rating) for _, text, rating in sorted(found))
        print(f"{path}: {len(found)} reviews")


if __name__ == "__main__":
    main()
