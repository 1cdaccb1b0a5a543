"""The state of a run, kept in `<run>/status.json` and updated as the run goes.

    {"state": "running" | "completed" | "failed" | "interrupted" | "pruned", "error": null | "one line",
     "config": "lstm", "backend": "tensorflow", "pid": 1234, "host": "...", "started": "...", "updated": "...",
     "epochs_completed": 3}

A `running` run whose process is gone (killed, machine rebooted) is reported as `crashed` by
`state_of`; it resumes like an interrupted one. A `pruned` run was stopped after an epoch by a search
that judged its trial unpromising (`imdb-rnn search`): it has its epochs, but no metrics.
"""

from __future__ import annotations

import errno
import os
import socket
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from imdb_rnn.errors import RunFailed, RunInterrupted, RunPruned, Terminated, TrainingFailed, UserError
from imdb_rnn.files import read_json_or_none, write_json, write_text

STATUS_FILE = "status.json"


def read(run: Path) -> dict[str, Any] | None:
    content = read_json_or_none(Path(run) / STATUS_FILE)
    return content if isinstance(content, dict) else None


def update(run: Path, **fields: Any) -> dict[str, Any]:
    """Merges `fields` into `status.json` and stamps `updated`."""
    content = {**(read(run) or {}), **fields, "updated": _now()}
    write_json(Path(run) / STATUS_FILE, content)
    return content


def state_of(run: Path) -> str:
    """`running`, `completed`, `failed`, `interrupted`, `pruned`, `crashed` (running, process gone) or `unknown`."""
    content = read(run)
    if content is None:
        return "completed" if (Path(run) / "metrics.json").is_file() else "unknown"
    state = content.get("state", "unknown")
    if state == "running" and content.get("host") == socket.gethostname() and not _alive(content.get("pid")):
        return "crashed"
    return state


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child that its parent has not reaped yet is a zombie, not a live run
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@contextmanager
def tracking(run: Path, config_name: str, resumed: bool = False, backend: str | None = None) -> Iterator[None]:
    """Marks the run `running` for the duration of the block, then `completed`, `failed` or
    `interrupted` (or `pruned`, when a callback raises `RunPruned`: it comes out again with the run folder).
    Failures come out as `RunFailed` (with the run folder and one line), interrupts as `RunInterrupted`
    (exit 130 for SIGINT, 143 for SIGTERM)."""
    fields = {"pid": os.getpid(), "host": socket.gethostname(), "error": None, "config": config_name}
    if backend is not None:  # the Keras backend training it: a resume must use the same one
        fields["backend"] = backend
    if not resumed:
        fields["started"] = _now()
    update(run, state="running", **fields)
    try:
        yield
    except KeyboardInterrupt as interrupt:
        _mark(run, "interrupted", "stopped by SIGTERM" if isinstance(interrupt, Terminated) else "stopped by SIGINT")
        raise RunInterrupted(run, 143 if isinstance(interrupt, Terminated) else 130) from None
    except RunPruned as pruned:
        _mark(run, "pruned", str(pruned))
        raise RunPruned(str(pruned), run) from None
    except (TrainingFailed, UserError) as error:
        _mark(run, "failed", str(error))
        raise RunFailed(run, str(error)) from None
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EPERM):
            raise _failed(run, error) from error
        message = f"cannot write {error.filename or run}: {error.strerror}"
        _mark(run, "failed", message)
        raise RunFailed(run, message) from None
    except Exception as error:
        raise _failed(run, error) from error
    update(run, state="completed", error=None, finished=_now())


def _failed(run: Path, error: BaseException) -> RunFailed:
    """An unexpected error: its traceback goes to `<run>/traceback.txt`, one line to the caller."""
    message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    try:
        write_text(Path(run) / "traceback.txt", "".join(traceback.format_exception(error)))
        message += f" (traceback in {Path(run) / 'traceback.txt'})"
    except OSError:
        pass
    _mark(run, "failed", message)
    return RunFailed(run, message)


def _mark(run: Path, state: str, error: str) -> None:
    try:
        update(run, state=state, error=error, finished=_now())
    except OSError:  # a full or read-only disk: the caller still reports the error
        pass
