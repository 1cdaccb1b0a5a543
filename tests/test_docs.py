"""The README and the user guide (docs/**/*.md) as a reader uses them: every command they show runs, in a
form that costs seconds, and every relative link leads to a file (and heading) that exists.

Convention the docs keep: a shell command is a line in a ```console block that starts with `$ ` (a line
ending in `\\` continues on the next); the other lines of the block are its output, and an output line
`<prog> <command>: error: …` right after a command is the error that command is documented to give.
`test_the_docs_keep_the_command_convention` makes sure nothing that looks like a command escapes it.

How each command is checked (all `imdb-rnn` commands of one Keras backend share one subprocess and run
in-process through `imdb_rnn.cli.main`, so TensorFlow is imported once):

- `imdb-rnn train --config …` (and `python scripts/train.py --config …`): with `--dry-run` appended, which
  checks the configs and builds every model; it exits 0, or 2 with exactly the documented error line.
  A command that names a data folder (`IMDB_DATA_DIR=…`, `--set data.path=…`) missing here is skipped,
  saying so; the others are given ../shared/data (or `$IMDB_DATA_DIR`) when it exists, and otherwise
  only report that they would download it.
- every other `imdb-rnn` command (and `train --resume`, which takes no `--dry-run`): its arguments are
  parsed by the real parser with the subcommand's body replaced by a no-op (so a documented option that
  does not exist fails), and `imdb-rnn <command> --help` exits 0.
- `make TARGET …`: `make -n` knows the target; `python docs/examples/….py`: exists and answers `--help`;
  `pip install -e '.[extra]'`: the extra is in pyproject.toml; other programs (curl, tensorboard, …)
  are only checked to be among the few the docs are expected to name.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

import pytest

from conftest import DATA_DIR, HAS_DATA, PROJECT

DOCS = [PROJECT / "README.md", *sorted((PROJECT / "docs").rglob("*.md"))]
GUIDE = sorted((PROJECT / "docs" / "guide").glob("*.md"))
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Programs the docs may show without this test running them.
EXTERNAL = {"curl", "docker", "echo", "pip", "tensorboard"}
# A line that reads like one of this project's commands (outside a `$ ` line it would escape the test).
LOOKS_LIKE_COMMAND = re.compile(
    r"^\s*(\S+=\S+\s+)*(imdb-rnn [a-z]+(\s|$)|make [a-z]|python3? (-m imdb_rnn|scripts/|docs/))"
)


def relative(path: Path) -> str:
    return path.relative_to(PROJECT).as_posix()


def markdown(path: Path) -> tuple[list[tuple[str, int, list[str]]], str]:
    """A Markdown file's fenced blocks, each (info string, number of its first line, its lines), and its
    prose: the text with those blocks and inline code blanked out, line numbers kept."""
    blocks, prose, current, opened = [], [], None, ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if current is None and match:
            current, opened = (match[2], number + 1, []), match[1]
        elif current is not None and line.strip().startswith(opened[0] * len(opened)) and not line.strip("`~ "):
            blocks.append(current)
            current = None
        elif current is not None:
            current[2].append(line)
        prose.append("" if current is not None or match else line)  # a fence line matches FENCE
    assert current is None, f"{relative(path)}: a fenced block is never closed"
    text = re.sub(r"(`+)(.+?)\1", lambda code: re.sub(r"[^\n]", "x", code[0]), "\n".join(prose), flags=re.S)
    return blocks, text


def fenced_blocks(path: Path) -> list[tuple[str, int, list[str]]]:
    return markdown(path)[0]


def prose(path: Path) -> str:
    return markdown(path)[1]


@dataclass(frozen=True)
class Command:
    where: str  # file:line
    text: str  # as written, continuation lines joined
    error: str | None = None  # the documented error line that follows it, if any


def collect() -> list[Command]:
    found = []
    for path in DOCS:
        for info, first, lines in fenced_blocks(path):
            if info != "console":
                continue
            index = 0
            while index < len(lines):
                line, number = lines[index], first + index
                index += 1
                if not line.startswith("$ "):
                    continue
                text = line[2:]
                while text.endswith("\\") and index < len(lines):
                    text = text[:-1] + " " + lines[index].strip()
                    index += 1
                following = lines[index] if index < len(lines) else ""
                error = following if re.match(r"^[\w./-]+( [\w-]+)?: error: ", following) else None
                found.append(Command(f"{relative(path)}:{number}", text, error))
    return found


COMMANDS = collect()


@dataclass
class Check:
    """What one documented command becomes here."""

    command: Command
    kind: str  # "cli" (in-process imdb-rnn), "make", "example", "pip", "external"
    jobs: list[dict] = field(default_factory=list)  # for "cli": what the runner does, in order
    argv: list[str] = field(default_factory=list)  # for the others
    backend: str = ""
    skip: str | None = None

    @property
    def id(self) -> str:
        return f"{self.command.where} {self.command.text[:70]}"


def segments(text: str) -> list[tuple[dict[str, str], list[str]]]:
    """`A=1 prog args | prog2 args # comment` → [({'A': '1'}, ['prog', 'args']), ({}, ['prog2', 'args'])]."""
    words = shlex.split(text, comments=True)
    parts, current = [], []
    for word in words:
        if word == "|":
            parts.append(current)
            current = []
        else:
            current.append(word)
    parts.append(current)
    result = []
    for part in parts:
        env = {}
        while part and ENV_ASSIGNMENT.match(part[0]):
            name, value = part.pop(0).split("=", 1)
            env[name] = value
        result.append((env, part))
    return result


def data_needed(env: dict[str, str], argv: list[str]) -> list[str]:
    """The data folders a command names (an `IMDB_DATA_DIR=` prefix, `--set data.path=…`)."""
    named = [env["IMDB_DATA_DIR"]] if "IMDB_DATA_DIR" in env else []
    named += [word.split("=", 1)[1] for word in argv if word.startswith("data.path=")]
    return named


def plan(command: Command) -> list[Check]:
    checks = []
    for env, argv in segments(command.text):
        if not argv:
            continue
        program, rest = argv[0], argv[1:]
        if program in ("python", "python3") and rest[:2] == ["-m", "imdb_rnn"]:
            program, rest = "imdb-rnn", rest[2:]
        if program == "imdb-rnn" or (program in ("python", "python3") and rest and rest[0].startswith("scripts/")):
            checks.append(cli_check(command, env, program, rest))
        elif program in ("python", "python3"):
            checks.append(Check(command, "example", argv=rest))
        elif program == "make":
            checks.append(Check(command, "make", argv=rest))
        elif program == "pip":
            checks.append(Check(command, "pip", argv=rest))
        else:
            checks.append(Check(command, "external", argv=argv))
    return checks


def cli_check(command: Command, env: dict[str, str], program: str, rest: list[str]) -> Check:
    if program == "imdb-rnn":
        name, argv, runner = rest[0], rest, {"kind": "cli"}
    else:  # python scripts/<name>.py ...
        name, argv, runner = Path(rest[0]).stem, rest[1:], {"kind": "script", "name": Path(rest[0]).stem}
    backend = env.get("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "tensorflow"))
    check = Check(command, "cli", backend=backend)
    if backend != "tensorflow" and find_spec(backend) is None:
        check.skip = f"KERAS_BACKEND={backend}: {backend} is not installed here"
    job_env = {key: value for key, value in env.items() if key != "KERAS_BACKEND"}
    if "IMDB_DATA_DIR" in job_env:
        job_env["IMDB_DATA_DIR"] = str((PROJECT / job_env["IMDB_DATA_DIR"]).resolve())
    dry_run = name == "train" and "--resume" not in argv
    if dry_run:
        missing = [folder for folder in data_needed(env, argv) if not (PROJECT / folder).exists()]
        if missing:
            check.skip = f"needs the data in {', '.join(missing)}, which is not here"
        argv = argv if "--dry-run" in argv else [*argv, "--dry-run"]
        check.jobs.append({**runner, "argv": argv, "env": job_env, "parse_only": False})
    else:
        check.jobs.append({**runner, "argv": argv, "env": job_env, "parse_only": True})
        check.jobs.append({"kind": "cli", "argv": [name, "--help"], "env": {}, "parse_only": False})
    return check


CHECKS = [check for command in COMMANDS for check in plan(command)]

# Runs a list of jobs in one process: each is `imdb-rnn` (or `scripts/<name>.py`) in-process, with its
# environment variables set for it alone; with "parse_only" every subcommand's body is a no-op.
RUNNER = r"""
import contextlib, io, json, os, sys, time, traceback
from imdb_rnn import cli

jobs, real = json.load(open(sys.argv[1])), dict(cli.COMMANDS)

class ParsedOnly:
    def __init__(self, module):
        self.HELP, self.DESCRIPTION, self.add_arguments = module.HELP, module.DESCRIPTION, module.add_arguments

    def run(self, args, invocation, parser):
        return 0

results = []
for job in jobs:
    saved = dict(os.environ)
    os.environ.update(job["env"])
    cli.COMMANDS.update({name: ParsedOnly(module) for name, module in real.items()} if job["parse_only"] else real)
    out, err, start = io.StringIO(), io.StringIO(), time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if job["kind"] == "cli":
                code = cli.main(job["argv"], prog="imdb-rnn")
            else:
                code = cli.script(job["name"], job["argv"])
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except BaseException:
        code, err = 1, io.StringIO(err.getvalue() + traceback.format_exc())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    results.append({"code": code, "stdout": out.getvalue()[-3000:], "stderr": err.getvalue()[-6000:],
                    "seconds": time.perf_counter() - start})
json.dump(results, open(sys.argv[2], "w"))
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[dict]]:
    """Every runnable `imdb-rnn` check's job results, by `id(check)`: one subprocess per backend, run side
    by side."""
    folder = tmp_path_factory.mktemp("docs")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if HAS_DATA:
        env["IMDB_DATA_DIR"] = str(DATA_DIR)
    else:  # a dry run then only says where the data would come from
        env.pop("IMDB_DATA_DIR", None)
    groups: dict[str, list[Check]] = {}
    for check in CHECKS:
        if check.kind == "cli" and not check.skip:
            groups.setdefault(check.backend, []).append(check)
    running = []
    for backend, checks in groups.items():
        jobs = list({json.dumps(job, sort_keys=True): job for check in checks for job in check.jobs}.values())
        # A mirrored run makes its logical CPU devices before TensorFlow starts: first, then.
        jobs.sort(key=lambda job: "train.distribution=mirrored" not in job["argv"])
        (folder / f"{backend}-jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
        log = open(folder / f"{backend}.log", "w")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(folder / f"{backend}-jobs.json"), str(folder / f"{backend}.json")],
            cwd=PROJECT,
            env={**env, "KERAS_BACKEND": backend},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        running.append((backend, checks, process, log))
    results = {}
    for backend, checks, process, log in running:
        try:
            process.wait(timeout=300)
        finally:
            process.kill()
            log.close()
        output = folder / f"{backend}.json"
        assert output.is_file(), (folder / f"{backend}.log").read_text(encoding="utf-8")[-4000:]
        jobs = json.loads((folder / f"{backend}-jobs.json").read_text(encoding="utf-8"))
        answers = dict(
            zip((json.dumps(job, sort_keys=True) for job in jobs), json.loads(output.read_text()), strict=True)
        )
        for check in checks:
            results[id(check)] = [answers[json.dumps(job, sort_keys=True)] for job in check.jobs]
    return results


def test_the_docs_show_their_commands() -> None:
    """The collector finds the commands (a change of convention would leave it finding none)."""
    assert len(COMMANDS) >= 40, [command.text for command in COMMANDS]
    readme = [command for command in COMMANDS if command.where.startswith("README.md:")]
    assert len(readme) >= 8, readme
    names = {check.jobs[-1]["argv"][0] for check in CHECKS if check.kind == "cli" and check.jobs[-1]["kind"] == "cli"}
    assert {"train", "pretrain", "compare", "evaluate", "predict", "export", "benchmark", "reproduce"} <= names
    assert sum(1 for check in CHECKS if check.kind == "cli" and "--dry-run" in check.jobs[0]["argv"]) >= 10


def test_the_docs_keep_the_command_convention() -> None:
    """Shell commands are `$ ` lines of ```console blocks: no other kind of shell block, no console block
    without a command, and no line elsewhere that reads like one of this project's commands."""
    problems = []
    for path in DOCS:
        for info, first, lines in fenced_blocks(path):
            where = f"{relative(path)}:{first - 1}"
            if info in ("bash", "sh", "shell", "shell-session", "zsh", "text", ""):
                problems += [
                    f"{where}: {line!r} outside a console block" for line in lines if LOOKS_LIKE_COMMAND.match(line)
                ]
                if info and info != "text":
                    problems.append(f"{where}: a ```{info} block (commands go in ```console blocks, as `$ ` lines)")
            elif info == "console":
                if not any(line.startswith("$ ") for line in lines):
                    problems.append(f"{where}: a console block without a `$ ` command")
                continued = False  # a line after one ending in `\\` belongs to that command
                for line in lines:
                    if not continued and LOOKS_LIKE_COMMAND.match(line):
                        problems.append(f"{where}: {line!r} without `$ `")
                    continued = (continued or line.startswith("$ ")) and line.endswith("\\")
    assert not problems, "\n".join(problems)


def test_every_command_is_known() -> None:
    unknown = [check.id for check in CHECKS if check.kind == "external" and check.argv[0] not in EXTERNAL]
    assert not unknown, f"commands of programs the docs are not expected to name (a typo?): {unknown}"


CLI_CHECKS = [check for check in CHECKS if check.kind == "cli"]


@pytest.mark.parametrize("check", CLI_CHECKS, ids=[check.id for check in CLI_CHECKS])
def test_imdb_rnn_command(check: Check, outcomes: dict[int, list[dict]]) -> None:
    if check.skip:
        pytest.skip(check.skip)
    for job, result in zip(check.jobs, outcomes[id(check)], strict=True):
        shown = f"{check.command.where}: imdb-rnn {shlex.join(job['argv'])}\n{result['stderr']}{result['stdout']}"
        expected_error = check.command.error if job is check.jobs[0] and not job["parse_only"] else None
        if expected_error:
            errors = [line for line in result["stderr"].splitlines() if ": error: " in line]
            assert result["code"] == 2 and errors and errors[-1] == expected_error, shown
        else:
            assert result["code"] == 0, shown


OTHER_CHECKS = [check for check in CHECKS if check.kind in ("make", "example", "pip")]


@pytest.mark.parametrize("check", OTHER_CHECKS, ids=[check.id for check in OTHER_CHECKS])
def test_other_command(check: Check) -> None:
    if check.kind == "make":
        target = next(word for word in check.argv if not word.startswith("-") and "=" not in word)
        if shutil.which("make") is None:
            assert re.search(rf"^{re.escape(target)}:", (PROJECT / "Makefile").read_text(), re.M), target
            return
        result = subprocess.run(["make", "-n", *check.argv], cwd=PROJECT, capture_output=True, text=True)
        assert result.returncode == 0, f"{check.id}\n{result.stderr}"
    elif check.kind == "example":
        script = PROJECT / check.argv[0]
        assert script.is_file(), check.id
        result = subprocess.run([sys.executable, str(script), "--help"], cwd=PROJECT, capture_output=True, text=True)
        assert result.returncode == 0, f"{check.id}\n{result.stderr}"
    else:  # pip install [-e] '.[extra]'
        extras = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        for word in check.argv:
            if match := re.fullmatch(r"\.\[([\w,-]+)\]", word):
                assert set(match[1].split(",")) <= set(extras), check.id


# Links.


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (letters, digits, `-`, `_` and
    spaces kept), spaces → `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    raw = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(prose(path).splitlines()):
        if re.match(r"^#{1,6} ", line):
            base = slug(re.sub(r"^#{1,6} ", "", raw[number]).rstrip("# "))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def test_relative_links_resolve() -> None:
    """Every relative link of the README and docs/ reaches a file of the project, and its `#anchor` a
    heading of that file."""
    broken = []
    for path in DOCS:
        for match in LINK.finditer(prose(path)):
            target = match[1]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            file, _, anchor = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            where = f"{relative(path)}: ({target})"
            if not resolved.is_relative_to(PROJECT) or not resolved.exists():
                broken.append(f"{where}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{where}: no heading with anchor #{anchor} in {relative(resolved)}")
    assert not broken, "\n".join(broken)


def test_the_readme_is_the_front_door() -> None:
    """The README stays short and leads to every page of the user guide."""
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200
    assert GUIDE, "docs/guide/ has no pages"
    assert not [page.name for page in GUIDE if f"](docs/guide/{page.name}" not in readme]


def test_slugs_are_githubs() -> None:
    assert slug("Backends: TensorFlow, JAX, PyTorch") == "backends-tensorflow-jax-pytorch"
    assert slug("How well it does, and where it fails") == "how-well-it-does-and-where-it-fails"
    assert slug("Export a model that reads raw strings") == "export-a-model-that-reads-raw-strings"
    assert slug("`data:` keys") == "data-keys"


PROJECT_PATH = re.compile(r"`((?:src|tests|docs|configs|scripts|\.ci)/[^`\s]*)`")


def test_project_paths_exist() -> None:
    """A file or folder of the project named in code (`src/imdb_rnn/data/text.py`, `configs/*.yaml`)
    exists: text moved between pages, or code moved between modules, leaves no dangling name."""
    missing = [
        f"{relative(path)}: {name}"
        for path in DOCS
        for name in PROJECT_PATH.findall(path.read_text(encoding="utf-8"))
        if not any(PROJECT.glob(name.rstrip("/")))
    ]
    assert not missing, "\n".join(missing)
