"""The `imdb-rnn` command: one subcommand a module, each with `HELP`, `DESCRIPTION`,
`add_arguments(parser)` and `run(args, invocation, parser)`; nothing below this package imports it.

    imdb-rnn train --config lstm          python scripts/train.py --config lstm   (the same)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from imdb_rnn import __version__
from imdb_rnn.cli import (
    benchmark,
    compare,
    ensemble,
    evaluate,
    explain,
    export,
    predict,
    pretrain,
    reproduce,
    search,
    serve,
    train,
)
from imdb_rnn.cli.common import Invocation, Parser, warnings_as_lines

COMMANDS = {
    "train": train,
    "pretrain": pretrain,
    "compare": compare,
    "evaluate": evaluate,
    "predict": predict,
    "explain": explain,
    "export": export,
    "serve": serve,
    "ensemble": ensemble,
    "benchmark": benchmark,
    "reproduce": reproduce,
    "search": search,
}


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """`imdb-rnn COMMAND ...`: parses `argv` (default: the process's arguments) and runs the subcommand;
    returns the exit status. `prog` names the command in messages (default: how it was started)."""
    prog = prog or _program()
    parser = Parser(
        prog=prog,
        description="Train, compare, evaluate, use and export recurrent text classifiers, on IMDB or your own data.",
    )
    parser.add_argument("--version", action="version", version=f"imdb-rnn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name, module in COMMANDS.items():
        module.add_arguments(commands.add_parser(name, help=module.HELP, description=module.DESCRIPTION))
    args, extra = parser.parse_known_args(argv)
    chosen = commands.choices[args.command]
    if extra:  # named by the subcommand, as its own parser would
        chosen.error(f"unrecognized arguments: {' '.join(extra)}")
    with warnings_as_lines():
        return COMMANDS[args.command].run(args, Invocation(chosen.prog, chosen.prog), chosen)


def script(command: str, argv: Sequence[str] | None = None) -> int:
    """`scripts/<command>.py`: the subcommand under its script's name (`train.py: error: …`, and
    `python scripts/train.py --resume …` in hints)."""
    module = COMMANDS[command]
    parser = Parser(prog=f"{command}.py", description=module.DESCRIPTION)
    module.add_arguments(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with warnings_as_lines():
        return module.run(args, Invocation(f"{command}.py", f"python scripts/{command}.py"), parser)


def _program() -> str:
    started_as_module = bool(sys.argv) and os.path.basename(sys.argv[0]) == "__main__.py"
    return "python -m imdb_rnn" if started_as_module else "imdb-rnn"
