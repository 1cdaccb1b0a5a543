"""The members of an ensemble: completed classifier runs that read the same data the same way.

`check_members(folders)` returns each folder as a loaded `Run` (config, model, vocabulary), or raises a
one-line `RunError` naming the first folder that cannot be a member, what was expected (the first
member's value) and what was received. Members may differ in `data.num_words`, `maxlen`, `padding`,
`bucketing` and anything of `model` and `train`; they must agree on:

- the classes (`vocabulary.json`) and the text encoding (`vocabulary.json`'s `encoding`), and on the word
  index: a member's words are the largest vocabulary's words of the ranks it keeps;
- the data source (`data.source`, `data.path`, the columns of your own data, and the source it resolved to
  in `metrics.json`);
- the validation split (`data.limit`, `validation_split`, `validation_split_by`, `seed`, `test_split`), from
  which the validation weights are chosen, and the test set (`data.test_limit`);
- `data.truncating`: the ensemble reads one cut of each review, from which every member's own cut is taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from imdb_rnn.data.text import INDEX_FROM
from imdb_rnn.data.vocabulary import VOCABULARY_FILE
from imdb_rnn.errors import RunError, show
from imdb_rnn.files import read_json_or_none
from imdb_rnn.runs.run import Run, load_run

SAME = {  # data keys the members share: what differs when they do not
    "source": "different data source",
    "path": "different data source",
    "text_column": "different data source",
    "label_column": "different data source",
    "limit": "different validation split",
    "validation_split": "different validation split",
    "validation_split_by": "different validation split",
    "seed": "different validation split",
    "test_split": "different validation split",
    "test_limit": "different test set",
    "truncating": "different cut of long reviews",
}


def check_members(folders: Sequence[str | Path]) -> list[Run]:
    """The runs of `folders`, loaded, once each checked as an ensemble member (see the module docstring)."""
    if len(folders) < 2:
        raise RunError(
            f"{', '.join(map(str, folders)) or 'ensemble'}: too few members: expected at least two completed "
            f"run folders, received {len(folders)}."
        )
    seen: dict[Path, Path] = {}
    members = []
    for folder in map(Path, folders):
        if folder.resolve() in seen:
            raise RunError(f"{folder}: a member twice: expected each run folder once, received it twice.")
        seen[folder.resolve()] = folder
        members.append(_completed(folder))
    first = members[0]
    for member in members[1:]:
        _agree(first, member)
    largest = max(members, key=lambda member: member.config.data.num_words)
    for member in members:
        _same_words(largest, member)
    return members


def _completed(folder: Path) -> Run:
    """A completed classifier run (`status.json`), loaded; a `RunError` naming the folder otherwise."""
    expected = "expected a completed run folder (made by imdb-rnn train)"
    if not folder.is_dir():
        received = "a file" if folder.exists() else "a path that does not exist"
        raise RunError(f"{folder}: not a run folder: {expected}, received {received}.")
    if not (folder / "config.yaml").is_file():
        raise RunError(f"{folder}: not a run folder: {expected}, received a folder without config.yaml.")
    state = Run(folder).state
    if state != "completed":
        raise RunError(f"{folder}: not completed: {expected}, received a run in state {show(state)}.")
    run = load_run(folder)
    run.metrics, run.vocabulary  # noqa: B018 - read now, so a broken folder fails here
    return run


def _agree(first: Run, member: Run) -> None:
    """`member` reads the same data as `first`, with the same classes and text encoding."""
    if member.classes != first.classes:
        raise RunError(
            f"{member.folder}: different classes: expected {show(list(first.classes))} (as {first.folder}), "
            f"received {show(list(member.classes))}."
        )
    expected, received = _encoding(first), _encoding(member)
    if expected != received:
        raise RunError(
            f"{member.folder}: different text encoding: expected {VOCABULARY_FILE} encoding {show(expected)} "
            f"(as {first.folder}), received {show(received)}."
        )
    for key, problem in SAME.items():
        want, got = getattr(first.config.data, key), getattr(member.config.data, key)
        if want != got:
            raise RunError(
                f"{member.folder}: {problem}: expected data.{key} {show(want)} (as {first.folder}), received {show(got)}."
            )
    want, got = _source(first), _source(member)
    if want != got:
        raise RunError(
            f"{member.folder}: different data source: expected the {show(want)} data (as {first.folder}, "
            f"metrics.json), received {show(got)}."
        )


def _encoding(run: Run) -> int | None:
    content = read_json_or_none(run.folder / VOCABULARY_FILE)
    return content.get("encoding") if isinstance(content, dict) else None


def _source(run: Run) -> str | None:
    data = run.metrics.get("data")
    return data.get("source") if isinstance(data, dict) else None


def _same_words(largest: Run, member: Run) -> None:
    """`member`'s vocabulary holds the words of `largest`'s whose id fits its `num_words`, at the same ranks."""
    words, limit = largest.vocabulary.words, member.config.data.num_words
    kept = {word: rank for word, rank in words.items() if rank + INDEX_FROM < limit}
    if kept != member.vocabulary.words:
        different = sorted(set(kept.items()) ^ set(member.vocabulary.words.items()))[:1]
        example = f" (e.g. {show(different[0][0])})" if different else ""
        raise RunError(
            f"{member.folder}: different word index: expected the words of {largest.folder}'s {VOCABULARY_FILE} "
            f"that rank within data.num_words {limit}, received other words or ranks{example}."
        )
