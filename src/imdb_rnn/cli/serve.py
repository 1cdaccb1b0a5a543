"""`imdb-rnn serve`: run and export folders over HTTP, speaking TensorFlow Serving's REST API."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from imdb_rnn.cli.common import Invocation, Parser, positive_int, quiet_tensorflow
from imdb_rnn.errors import UserError

HELP = "serve run or export folders over HTTP (TensorFlow Serving's REST API)"
DESCRIPTION = (
    "Serve one or more run folders (an ensemble's too) or export folders (imdb-rnn export) over HTTP: "
    'POST /v1/models/NAME:predict with {"instances": ["a review", ...]}, GET /v1/models/NAME and '
    "/v1/models/NAME/metadata, /healthz and /readyz, and a page at /. Concurrent requests are predicted in "
    "batches. Listens on 127.0.0.1 only unless --host says otherwise: anyone who can reach the port can use "
    "the models. SIGTERM or Ctrl-C stops taking requests, finishes those in flight and exits 0 (a second Ctrl-C: at once, 130)."
)
NOT_INSTALLED = (
    "imdb-rnn serve needs Starlette and uvicorn: expected them installed (pip install 'imdb-rnn[serve]'), received"
)


def add_arguments(parser: Parser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", help="a run folder or an export folder (imdb-rnn export)")
    parser.add_argument(
        "--name",
        nargs="+",
        dest="names",
        metavar="NAME",
        help="the URL name of each RUN, in order (default: each folder's name; an export folder called "
        "'export' gets its run's)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1, this machine only)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8501,
        help="the port (default: 8501, TensorFlow Serving's REST port; 0: any free one)",
    )
    parser.add_argument(
        "--max-batch-size",
        type=positive_int,
        default=64,
        help="reviews predicted together at most (default: 64; 1: no batching)",
    )
    parser.add_argument(
        "--max-wait-ms",
        type=float,
        default=0.0,
        help="how long a request may wait for others to join its batch when the model is idle (default: 0: a "
        "batch is whatever queued while the model was busy)",
    )
    parser.add_argument(
        "--max-queue",
        type=positive_int,
        default=256,
        help="requests waiting a model at most; more get 503 (default: 256)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=positive_int,
        default=10 * 2**20,
        help="the largest request body; larger get 413 (default: 10 MiB)",
    )


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if args.names is not None and len(args.names) != len(args.runs):
        parser.error(f"--name: expected one name a RUN ({len(args.runs)}), received {len(args.names)}")
    if not 0 <= args.port <= 65535:
        parser.error(f"argument --port: expected a port from 0 to 65535, received {args.port}")
    if args.max_wait_ms < 0:
        parser.error(f"argument --max-wait-ms: expected a number >= 0, received {args.max_wait_ms:g}")
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":
        return invocation.fail(
            f"the server runs models under TensorFlow: expected KERAS_BACKEND=tensorflow, received {backend}.", 2
        )
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as error:
        return invocation.fail(f"{NOT_INSTALLED} no module {error.name}.", 2)
    quiet_tensorflow()
    import tensorflow as tf

    # One thread issues the model's ops: a pool of one runs them in order, instead of handing each small op
    # of a recurrent step between threads (measured on the shipped lstm, 2 busy cores: 24 ms instead of
    # 30 for one review, 330 instead of 365 for 64).
    with contextlib.suppress(RuntimeError):  # TensorFlow already running in this process: left as it is
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from imdb_rnn.serving.served import load_served
    from imdb_rnn.serving.server import Limits, listening_socket, serve

    limits = Limits(args.max_batch_size, args.max_wait_ms, args.max_queue, args.max_body_bytes)
    try:
        models = [
            load_served(folder, name, limits.max_batch_size)
            for folder, name in zip(args.runs, args.names or [None] * len(args.runs))
        ]
        repeated = sorted({model.name for model in models if [m.name for m in models].count(model.name) > 1})
        if repeated:
            raise UserError(
                f"two models named {repeated[0]!r}: expected a name each (give them with --name), received the same."
            )
        listener = listening_socket(args.host, args.port)
    except UserError as error:
        return invocation.fail(str(error), error.exit_code)
    host, port = listener.getsockname()[:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    for model in models:
        classes = ", ".join(model.classes)
        print(
            f"Model {model.name} ({model.details.get('kind')}; classes {classes}; batches: {model.details.get('batching')})"
        )

    def started() -> None:
        first = models[0].name
        print(
            f"Listening on {url} (POST {url}/v1/models/{first}:predict; page {url}/); Ctrl-C or SIGTERM stops",
            flush=True,
        )

    ended = serve(models, limits, listener, started)
    if ended == "not started":
        return invocation.fail("the server did not start.", 1)
    if ended == "forced":
        print("Stopped at once: requests in flight were dropped.", file=sys.stderr)
        return 130
    print("Stopped: the requests in flight were answered.", file=sys.stderr)
    return 0
