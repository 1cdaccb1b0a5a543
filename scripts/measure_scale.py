"""`python scripts/measure_scale.py encode|train|pretrain --csv FILE --json OUT`: one phase of docs/BENCHMARK.md's "A
million reviews on one machine" (see `imdb_rnn.reports.scale`), its figures merged into OUT under the
number of reviews and the phase. Run each phase in a process of its own (its peak memory is its own):

    python scripts/make_large_corpus.py --reviews 100000 --out /tmp/scale/reviews-100k.csv
    IMDB_RNN_CACHE_DIR=/tmp/scale/cache python scripts/measure_scale.py encode --csv /tmp/scale/reviews-100k.csv --json OUT
    IMDB_RNN_CACHE_DIR=/tmp/scale/cache python scripts/measure_scale.py train --csv /tmp/scale/reviews-100k.csv --json OUT

`pretrain` times word2vec over the file's training reviews (`--epochs N`: N instead of the shipped 5).
`encode` expects an empty cache for the file; `train --steps N` stops the epoch after N optimizer steps
and extrapolates it (the JSON says which).
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

from imdb_rnn.reports import scale  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "phase", choices=["encode", "train", "pretrain", "table"], help="table: print the markdown table of --json"
    )
    parser.add_argument("--csv", type=Path, help="encode, train, pretrain: a CSV of make_large_corpus.py")
    parser.add_argument("--json", type=Path, required=True, help="the JSON file the figures are merged into")
    parser.add_argument("--steps", type=int, help="train: stop the epoch after this many steps (default: whole)")
    parser.add_argument("--epochs", type=int, help="pretrain: word2vec epochs (default: the shipped config's)")
    parser.add_argument("--test", action="store_true", help="train: evaluate the test split after the epoch")
    parser.add_argument("--name", help="the key of these figures in the JSON (default: the phase)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("outputs/scale"),
        help="train: run folders; pretrain: its scratch corpus",
    )
    parser.add_argument(
        "--rounds", nargs="+", default=["train"], help="table: the training phases, or one pretrain phase, by name"
    )
    parser.add_argument("--encodings", nargs="+", default=["encode"], help="table: the encoding phases, by name")
    args = parser.parse_args(argv)
    if args.phase == "table":
        content = json.loads(args.json.read_text(encoding="utf-8"))
        held = {name for figures in content["results"].values() for name in figures}
        missing = [name for name in (*args.rounds, *args.encodings) if name not in held]
        if missing:
            parser.error(
                f"argument --rounds/--encodings: expected phases of {args.json} "
                f"({', '.join(sorted(held))}), received {', '.join(missing)}"
            )
        kinds = {
            name: any("cpu_seconds_word2vec" in figures.get(name, {}) for figures in content["results"].values())
            for name in args.rounds
        }
        pretraining = [name for name, word2vec in kinds.items() if word2vec]
        if pretraining and (len(pretraining) > 1 or len(kinds) > 1):
            parser.error(
                "argument --rounds: expected training phases or one pretraining phase, received "
                + ", ".join(f"{name} ({'pretraining' if kinds[name] else 'training'})" for name in args.rounds)
            )
        if pretraining:  # word2vec's table: one pretraining phase
            print(scale.pretraining_markdown(content, args.rounds[0], tuple(args.encodings)), end="")
        else:
            print(scale.markdown(content, tuple(args.rounds), tuple(args.encodings)), end="")
        return 0
    if args.csv is None:
        parser.error("argument --csv: expected the CSV to measure, received none")
    if args.phase == "encode":
        figures = scale.measure_encoding(args.csv)
    elif args.phase == "pretrain":
        args.output_dir.mkdir(parents=True, exist_ok=True)
        figures = scale.measure_pretraining(args.csv, args.epochs, args.output_dir)
    else:
        figures = scale.measure_training(args.csv, args.steps, args.output_dir, test=args.test)
    command = "python scripts/measure_scale.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    reviews = figures["train"] + figures["validation"] + figures["test"]
    scale.record(args.json, reviews, args.name or args.phase, figures, command)
    print({key: value for key, value in figures.items() if key != "seconds_to_step"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
