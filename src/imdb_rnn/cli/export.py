"""`imdb-rnn export`: a run's best model as a TensorFlow SavedModel that reads raw strings."""

from __future__ import annotations

import argparse
import os
import sys

from imdb_rnn.cli.common import Invocation, Parser, quiet_tensorflow
from imdb_rnn.errors import UserError

HELP = "export a run as a SavedModel that reads raw strings (for TensorFlow Serving)"
DESCRIPTION = (
    "Export a run's best model as a TensorFlow SavedModel whose signature `serve` (also `serving_default`) "
    "takes a batch of raw strings and returns class probabilities and labels, tokenized inside the graph "
    "exactly as training tokenized. Runs on the CPU, so that a model trained on a GPU serves on a CPU."
)


def add_arguments(parser: Parser) -> None:
    parser.add_argument("run", help="a run folder, e.g. outputs/lstm-20261122-023703")
    parser.add_argument("--out", help="the SavedModel folder to create (default: RUN/export); never replaced")


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if "tensorflow" not in sys.modules:  # a GPU would put cuDNN kernels into the graph
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    quiet_tensorflow()
    from imdb_rnn.serving import export_run

    try:
        out = export_run(args.run, args.out)
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    print(f"SavedModel: {out} (signature serve: strings (n,) → probabilities (n, classes), labels (n,))")
    return 0
