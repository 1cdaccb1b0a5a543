"""How the cost of your own data grows with its size: the figures of docs/BENCHMARK.md's "A million
reviews on one machine" (`scripts/measure_scale.py`).

Two phases, each meant for a process of its own, so that its peak resident memory is its own:

- `measure_encoding(file)`: the first load of a CSV into an empty cache (streamed tokenizing, the
  vocabulary, the ragged splits): seconds and peak resident memory;
- `measure_training(file, steps)`: the cached load (seconds), then the shipped lstm config trained on
  the file for one epoch, exactly as `imdb-rnn train --config lstm --set data.source=csv --set
  data.path=FILE --set train.epochs=1` trains it (`training.recipe.train`), stopped after `steps`
  optimizer steps when given. Every call into the train step is timed; the epoch's seconds are then
  measured (a whole epoch) or extrapolated (`steps_per_epoch` × the steady seconds a step, after the
  first `WARM_UP_STEPS`, + the time to the first steady step + the validation pass, which always runs
  whole), and said which. Peak resident memory covers the load and the training.

Every time is given twice: wall-clock seconds, and the CPU seconds of the process (all its threads), which
a machine shared with other jobs disturbs less (on 2 shared cores the wall time of the same 100k epoch's
steps moved by 25% between its first 400 steps and the rest).

`record(path, reviews, phase, figures)` merges a phase's figures into one JSON file, under the number of
reviews and the phase, with the machine, commit and versions.
"""

from __future__ import annotations

import dataclasses
import resource
import time
from pathlib import Path
from typing import Any

from imdb_rnn.environment import commit, machine, versions
from imdb_rnn.files import write_json

CONFIG = "lstm"
WARM_UP_STEPS = 64  # steps left out of the steady rate: tracing the train step, filling the shuffle buffer


def peak_memory_gib() -> float:
    """This process's peak resident memory so far, GiB (`ru_maxrss`, KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)


def overrides(file: Path) -> list[str]:
    return ["data.source=csv", f"data.path={file}", "train.epochs=1"]


def measure_encoding(file: Path) -> dict[str, Any]:
    """The first load of `file` (the cache is expected empty): seconds, sizes and peak memory."""
    from imdb_rnn.config import load_config
    from imdb_rnn.data.splits import load_splits

    config = load_config(CONFIG, overrides(file))
    started, started_cpu = time.perf_counter(), time.process_time()
    splits = load_splits(config.data)
    seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    return {
        "seconds_first_load": round(seconds, 1),
        "cpu_seconds_first_load": round(cpu, 1),
        "peak_memory_gib": peak_memory_gib(),
        **_sizes(file, splits),
    }


def measure_training(file: Path, steps: int | None, output_dir: Path, test: bool = False) -> dict[str, Any]:
    """The cached load of `file`, then one epoch of the lstm config on it (stopped after `steps` steps when
    given; see the module), into a run folder under `output_dir`."""
    import keras

    from imdb_rnn.config import load_config
    from imdb_rnn.data.splits import load_splits
    from imdb_rnn.runs import load_run
    from imdb_rnn.training.data_size import passes_per_epoch
    from imdb_rnn.training.recipe import train

    class Clock(keras.callbacks.Callback):
        """When each call into the train step ended, and how long validation took; stops at `steps`."""

        def __init__(self) -> None:
            super().__init__()
            self.marks: list[tuple[int, float, float]] = []  # (steps done, wall seconds, CPU seconds)
            self.validation = self.validation_cpu = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.marks.append((0, time.perf_counter(), time.process_time()))

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self.marks.append((batch + 1, time.perf_counter(), time.process_time()))
            if steps is not None and batch + 1 >= steps:
                self.model.stop_training = True

        def on_test_begin(self, logs: dict | None = None) -> None:
            self.validation, self.validation_cpu = time.perf_counter(), time.process_time()

        def on_test_end(self, logs: dict | None = None) -> None:
            self.validation = time.perf_counter() - self.validation
            self.validation_cpu = time.process_time() - self.validation_cpu

    config = load_config(CONFIG, overrides(file))
    started, started_cpu = time.perf_counter(), time.process_time()
    splits = load_splits(config.data)
    cached_seconds, cached_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    sizes = _sizes(file, splits)
    clock = Clock()
    run = train(config, output_dir, splits=splits, verbose=2, extra_callbacks=[clock], test=test)
    del splits
    passes = passes_per_epoch(config, sizes["train"]) or 1  # small data reads its texts more than once an epoch
    steps_per_epoch = -(-sizes["train"] // config.train.batch_size) * passes
    done, ended, ended_cpu = clock.marks[-1]
    done = min(done, steps_per_epoch)  # Keras counts a last, short call into the train step as whole
    warm = next((mark for mark in clock.marks if mark[0] >= WARM_UP_STEPS), clock.marks[-1])
    step = (ended - warm[1]) / max(done - warm[0], 1)
    cpu_step = (ended_cpu - warm[2]) / max(done - warm[0], 1)
    whole = done >= steps_per_epoch
    first = clock.marks[0]
    train_seconds = ended - first[1] if whole else warm[1] - first[1] + step * (steps_per_epoch - warm[0])
    train_cpu = ended_cpu - first[2] if whole else warm[2] - first[2] + cpu_step * (steps_per_epoch - warm[0])
    metrics = load_run(run).metrics
    return {
        "seconds_cached_load": round(cached_seconds, 1),
        "cpu_seconds_cached_load": round(cached_cpu, 1),
        **sizes,
        "steps_per_epoch": steps_per_epoch,
        "steps_timed": done,
        "epoch": "measured whole" if whole else f"extrapolated from {done} of {steps_per_epoch} steps",
        "seconds_per_step_steady": round(step, 4),
        "cpu_seconds_per_step_steady": round(cpu_step, 4),
        "seconds_to_step": {str(count): round(at - first[1], 2) for count, at, _ in clock.marks[1:]},
        "cpu_seconds_to_step": {str(count): round(cpu - first[2], 2) for count, _, cpu in clock.marks[1:]},
        "seconds_training": round(train_seconds, 1),
        "seconds_validation": round(clock.validation, 1),
        "cpu_seconds_validation": round(clock.validation_cpu, 1),
        "seconds_per_epoch": round(train_seconds + clock.validation, 1),
        "cpu_seconds_per_epoch": round(train_cpu + clock.validation_cpu, 1),
        "val_accuracy": metrics.get("best_val_accuracy"),
        "test_accuracy": metrics.get("test_accuracy"),
        "peak_memory_gib": peak_memory_gib(),
        "run": str(run),
    }


def measure_pretraining(file: Path, epochs: int | None, scratch: Path) -> dict[str, Any]:
    """word2vec's cost on `file`'s training reviews: the cached load, one corpus line a review (its ids as
    the words, at most `data.maxlen` each, as the classifier reads them) written to a file in `scratch`, then
    gensim's Word2Vec with the shipped `configs/pretrain/word2vec.yaml` settings (`epochs` of them when given)
    on every core, as `imdb-rnn pretrain` trains it. Wall and CPU seconds of each, words, peak memory."""
    from imdb_rnn.config import load_config
    from imdb_rnn.config.pretraining import load_pretrain_config
    from imdb_rnn.data.splits import load_splits
    from imdb_rnn.pretraining.word_vectors import train_word2vec

    settings = load_pretrain_config("word2vec", [f"word2vec.epochs={epochs}"] if epochs else []).settings
    config = load_config(CONFIG, overrides(file))
    started, started_cpu = time.perf_counter(), time.process_time()
    splits = load_splits(config.data)
    sizes = _sizes(file, splits)
    train = splits.train
    del splits
    corpus = Path(scratch) / "word2vec-corpus.txt"
    with open(corpus, "w", encoding="ascii") as lines:
        for start, end in zip(train.offsets[:-1], train.offsets[1:], strict=True):
            lines.write(" ".join(map(str, train.ids[start:end].tolist())) + "\n")
    written, written_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    words = int(len(train.ids))
    del train
    started, started_cpu = time.perf_counter(), time.process_time()
    train_word2vec(corpus, settings, out=lambda line: print(line, flush=True))
    seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    corpus.unlink()
    return {
        **sizes,
        "words": words,
        "word2vec": dataclasses.asdict(settings),
        "seconds_load_and_corpus": round(written, 1),
        "cpu_seconds_load_and_corpus": round(written_cpu, 1),
        "seconds_word2vec": round(seconds, 1),
        "cpu_seconds_word2vec": round(cpu, 1),
        "seconds_word2vec_per_epoch": round(seconds / settings.epochs, 1),
        "peak_memory_gib": peak_memory_gib(),
    }


def _sizes(file: Path, splits: Any) -> dict[str, Any]:
    parts = {name: getattr(splits, name) for name in ("train", "validation", "test")}
    return {
        "file_bytes": Path(file).stat().st_size,
        **{name: len(part) for name, part in parts.items()},
        "ids_in_memory": int(sum(len(part.ids) for part in parts.values())),
        "num_words": splits.num_words,
    }


def record(path: Path, reviews: int, phase: str, figures: dict[str, Any], command: str) -> None:
    """Merges `figures` into the JSON file `path` under `results[reviews][phase]`, with the command, the
    machine, commit and versions of this measurement."""
    import json

    content = json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {"results": {}}
    content["results"].setdefault(str(reviews), {})[phase] = {
        **figures,
        "command": command,
        "commit": commit(),
        "machine": machine(with_gpus=False),
        "versions": versions(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json(Path(path), content)


def markdown(content: dict[str, Any], rounds: tuple[str, ...], encodings: tuple[str, ...]) -> str:
    """The table of docs/BENCHMARK.md from a `record`ed file: a row a size; for each of the training `rounds`
    (phase names, in order) its CPU seconds an epoch and their ratio to linear growth from the smallest
    size of the same round, its wall seconds; loads and memory from the `encodings` phases and the rounds."""
    sizes = sorted(content["results"], key=int)
    smallest = content["results"][sizes[0]]

    def each(figures: dict[str, Any], names: tuple[str, ...], key: str, style: str = "{:,.0f}") -> str:
        return " / ".join(style.format(figures[name][key]) for name in names if key in figures.get(name, {}))

    lines = [
        "| reviews | train / validation / test | ids kept | first load: s (CPU s) | cached load: s (CPU s) "
        "| steps an epoch | CPU s a step | CPU s an epoch | ÷ linear from "
        f"{int(sizes[0]):,} | wall s an epoch | peak memory: first load, training (GiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        figures = content["results"][size]
        trained = figures[rounds[0]]
        loads = _first_loads(figures, encodings, ",.0f")
        cached = " / ".join(
            f"{figures[name]['seconds_cached_load']:,.1f} ({figures[name]['cpu_seconds_cached_load']:,.1f})"
            for name in rounds
        )
        linear = " / ".join(
            f"{figures[name]['cpu_seconds_per_epoch'] / smallest[name]['cpu_seconds_per_epoch'] * int(sizes[0]) / int(size):.2f}"
            for name in rounds
        )
        memory = ", ".join(
            [each(figures, encodings, "peak_memory_gib", "{:.2f}"), each(figures, rounds, "peak_memory_gib", "{:.2f}")]
        )
        lines.append(
            f"| {int(size):,} | {trained['train']:,} / {trained['validation']:,} / {trained['test']:,} "
            f"| {trained['ids_in_memory'] / 1e6:,.0f} M | {loads} | {cached} | {trained['steps_per_epoch']:,} "
            f"| {each(figures, rounds, 'cpu_seconds_per_step_steady', '{:.3f}')} "
            f"| {each(figures, rounds, 'cpu_seconds_per_epoch')} | {linear} "
            f"| {each(figures, rounds, 'seconds_per_epoch')} | {memory} |"
        )
    return "\n".join(lines) + "\n"


def pretraining_markdown(content: dict[str, Any], phase: str = "pretrain", encodings: tuple[str, ...] = ()) -> str:
    """The word2vec table of docs/BENCHMARK.md from a `record`ed file: a row a size, with the `phase` of
    `measure_pretraining` (wall and CPU seconds of word2vec, CPU seconds a million words and their ratio to
    the smallest size's) and the first load of the `encodings` phases."""
    sizes = sorted(content["results"], key=int)
    per_million = {
        size: content["results"][size][phase]["cpu_seconds_word2vec"] / content["results"][size][phase]["words"] * 1e6
        for size in sizes
    }
    epochs = {content["results"][size][phase]["word2vec"]["epochs"] for size in sizes}
    lines = [
        f"| reviews | training reviews | words | first load (encode): s (CPU s) | word2vec, {'/'.join(map(str, epochs))} "
        f"epoch(s): s (CPU s) | CPU s a million words | ÷ linear from {int(sizes[0]):,} | peak memory (GiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        figures = content["results"][size]
        run = figures[phase]
        loads = _first_loads(figures, encodings, ",.1f")
        memory = max(
            [run["peak_memory_gib"], *(figures[name]["peak_memory_gib"] for name in encodings if name in figures)]
        )
        lines.append(
            f"| {int(size):,} | {run['train']:,} | {run['words']:,} | {loads or '-'} "
            f"| {run['seconds_word2vec']:,.1f} ({run['cpu_seconds_word2vec']:,.1f}) | {per_million[size]:.2f} "
            f"| {per_million[size] / per_million[sizes[0]]:.2f} | {memory:.2f} |"
        )
    return "\n".join(lines) + "\n"


def _first_loads(figures: dict[str, Any], encodings: tuple[str, ...], style: str) -> str:
    """ "wall (CPU)" seconds of the first load of each of the `encodings` phases a size holds, "a / b"."""
    return " / ".join(
        f"{figures[name]['seconds_first_load']:{style}} ({figures[name]['cpu_seconds_first_load']:{style}})"
        for name in encodings
        if "cpu_seconds_first_load" in figures.get(name, {})
    )
