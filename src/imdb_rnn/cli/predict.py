"""`imdb-rnn predict`: the probability that each of your reviews is positive, from a run folder."""

from __future__ import annotations

import argparse
import json

from imdb_rnn.cli.common import Invocation, Parser, add_run_arguments, quiet_tensorflow
from imdb_rnn.errors import UserError

HELP = "classify your own reviews with a trained run"
DESCRIPTION = (
    "Probability that each review is positive, from a run folder. Reviews come from the arguments, "
    "from --file (one review a line) or, with -, from standard input."
)


def add_arguments(parser: Parser) -> None:
    add_run_arguments(parser, "the label is positive")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="a review; - reads reviews from standard input")
    parser.add_argument("--file", help="a UTF-8 file of reviews, one a line (blank lines are skipped)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {text, probability, label}")


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if not args.texts and args.file is None:
        parser.error("no reviews: expected one or more TEXT arguments, --file FILE or - (standard input)")
    quiet_tensorflow()
    from imdb_rnn.evaluation.metrics import label
    from imdb_rnn.evaluation.reviews import gather_reviews
    from imdb_rnn.runs import load_run

    try:
        texts = gather_reviews(args.texts, args.file)
        probabilities = load_run(args.run).predict(texts)
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    results = [
        {"text": review, "probability": float(p), "label": label(p, args.threshold)}
        for review, p in zip(texts, probabilities)
    ]
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for result in results:
            print(f"{result['probability']:.4f}  {result['label']:<8}  {shorten(result['text'])}")
    return 0


def shorten(review: str, width: int = 70) -> str:
    """One line of at most `width` characters: whitespace collapsed, `…` where it is cut."""
    line = " ".join(review.split())
    return line if len(line) <= width else line[: width - 1] + "…"
