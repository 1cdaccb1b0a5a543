"""`imdb-rnn explain`: which words of your reviews decided a run's prediction, coloured, as a page or a PNG."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TextIO

from imdb_rnn.cli.common import Invocation, Parser, positive_int, quiet_tensorflow
from imdb_rnn.errors import InputError, UserError

HELP = "show which words of your reviews decided a run's prediction"
DESCRIPTION = (
    "Each word's contribution to the predicted label (integrated gradients over the embedding; TensorFlow "
    "backend), printed with the label and its probability: coloured when standard output is a terminal and "
    "NO_COLOR is unset (green toward the label, red against), else with signed numbers. Reviews come from "
    "the arguments, from --file (one review a line) or, with -, from standard input. --html and --png write "
    "the same as a page or an image; neither overwrites a file."
)


def add_arguments(parser: Parser) -> None:
    parser.add_argument("run", help="a run folder, e.g. outputs/lstm-20261122-023703")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="a review; - reads reviews from standard input")
    parser.add_argument("--file", help="a UTF-8 file of reviews, one a line (blank lines are skipped)")
    parser.add_argument(
        "--html", metavar="PATH", help="also write an HTML page of the highlighted reviews (a new file)"
    )
    parser.add_argument("--png", metavar="PATH", help="also write a PNG image of the highlighted reviews (a new file)")
    parser.add_argument(
        "--steps", type=positive_int, default=50, help="steps of the integral (default: 50; more: closer sums)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of explanations instead, one a review")


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if not args.texts and args.file is None:
        parser.error("no reviews: expected one or more TEXT arguments, --file FILE or - (standard input)")
    try:
        outputs = {
            option: check_new_file(option, path) for option, path in (("--html", args.html), ("--png", args.png))
        }
    except InputError as error:
        return invocation.fail(str(error), error.exit_code)
    quiet_tensorflow()
    from imdb_rnn.evaluation import highlight
    from imdb_rnn.evaluation.explain import explain
    from imdb_rnn.evaluation.reviews import gather_reviews
    from imdb_rnn.runs import load_run

    try:
        texts = gather_reviews(args.texts, args.file)
        trained = load_run(args.run)
        explanations = explain(trained, texts, steps=args.steps)
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    try:
        if outputs["--html"] is not None:
            page = highlight.html_page(explanations, texts, f"Why {trained.name} said what it said")
            with open(outputs["--html"], "x", encoding="utf-8") as file:
                file.write(page)
        if outputs["--png"] is not None:
            with open(outputs["--png"], "xb") as file:
                highlight.write_png(explanations, file)
    except FileExistsError as error:
        return invocation.fail(f"{error.filename}: already exists: expected a new file, received an existing one.", 2)
    except OSError as error:
        return invocation.fail(f"{error.filename}: cannot write it: {error.strerror or error}.", 2)
    if args.json:
        results = [{"text": review, **explanation.to_json()} for review, explanation in zip(texts, explanations)]
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    colour = colour_wanted(sys.stdout)
    width = shutil.get_terminal_size((100, 24)).columns
    print("\n\n".join(highlight.terminal(explanation, colour, width) for explanation in explanations))
    for option, path in outputs.items():
        if path is not None:
            print(f"{option[2:].upper()}: {path}")
    return 0


def colour_wanted(stream: TextIO) -> bool:
    """Whether to print ANSI colours on `stream`: a terminal, and NO_COLOR unset or empty (no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def check_new_file(option: str, path: str | None) -> Path | None:
    """`path` as a `Path` when a file can be made there (None stays None); an `InputError` when it exists or
    its folder does not."""
    if path is None:
        return None
    target = Path(path)
    if target.exists():
        raise InputError(
            f"{option} {path}: already exists: expected a new file (never overwritten), received an existing one."
        )
    if not target.parent.is_dir():
        raise InputError(
            f"{option} {path}: no such folder: expected a file in an existing folder, received {target.parent}."
        )
    return target
