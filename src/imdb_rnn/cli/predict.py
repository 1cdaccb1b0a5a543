"""`imdb-rnn predict`: the class of each of your reviews and its probability, from a run folder."""

from __future__ import annotations

import argparse
import json

from imdb_rnn.cli.common import Invocation, Parser, add_run_arguments, quiet_tensorflow
from imdb_rnn.errors import UserError

HELP = "classify your own reviews with a trained run"
DESCRIPTION = (
    "Probability that each review is positive (or, for a run with more classes, the probability of each "
    "class), from a run folder. Reviews come from the arguments, from --file (one review a line) or, with "
    "-, from standard input."
)


def add_arguments(parser: Parser) -> None:
    add_run_arguments(parser, "the label is positive")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="a review; - reads reviews from standard input")
    parser.add_argument("--file", help="a UTF-8 file of reviews, one a line (blank lines are skipped)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of {text, label, probability} (more classes: probabilities)",
    )


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if not args.texts and args.file is None:
        parser.error("no reviews: expected one or more TEXT arguments, --file FILE or - (standard input)")
    quiet_tensorflow()
    import numpy as np

    from imdb_rnn.evaluation.metrics import label
    from imdb_rnn.evaluation.reviews import gather_reviews
    from imdb_rnn.runs import load_run

    try:
        texts = gather_reviews(args.texts, args.file)
        trained = load_run(args.run)
        trained.check_threshold(args.threshold)
        probabilities, classes = trained.predict(texts), trained.classes
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    if len(classes) == 2:
        results = [
            {"text": review, "probability": float(p), "label": label(p, args.threshold, classes)}
            for review, p in zip(texts, probabilities)
        ]
    else:
        results = [
            {
                "text": review,
                "label": classes[int(np.argmax(row))],
                "probabilities": dict(zip(classes, map(float, row))),
            }
            for review, row in zip(texts, probabilities)
        ]
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    elif len(classes) == 2:
        width = max(8, *map(len, classes))
        for result in results:
            print(f"{result['probability']:.4f}  {result['label']:<{width}}  {shorten(result['text'])}")
    else:
        width = max(6, *map(len, classes))
        print(f"{'label':<{width}}  " + "  ".join(f"{name:>{max(6, len(name))}}" for name in classes) + "  text")
        for result in results:
            shares = "  ".join(f"{p:>{max(6, len(name))}.4f}" for name, p in result["probabilities"].items())
            print(f"{result['label']:<{width}}  {shares}  {shorten(result['text'])}")
    return 0


def shorten(review: str, width: int = 70) -> str:
    """One line of at most `width` characters: whitespace collapsed, `…` where it is cut."""
    line = " ".join(review.split())
    return line if len(line) <= width else line[: width - 1] + "…"
