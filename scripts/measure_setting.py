"""`python scripts/measure_setting.py --config cnn_lstm --key train.embedding_updates --values dense lazy --json OUT`:
what one config key costs and gives, measured in one interleaved run: each value of `--key` trains the
config through the trainer once per seed, the values in turn and in reverse order every other seed
(A B, B A, …), in this process (TensorFlow, or $KERAS_BACKEND). For each value: every epoch's seconds
(validation included), the fastest epoch and its ratio to the first value's, the best validation accuracy
and the test accuracy of that epoch's weights (the trainer's), each the mean over seeds.

    IMDB_DATA_DIR=../shared/data python scripts/measure_setting.py --config cnn_lstm \\
        --key train.embedding_updates --values dense lazy --seeds 1 2 --json docs/benchmarks/OUT.json

A value is chosen by its speed with validation accuracy held (no test review decides anything); the test
accuracy is reported so that a speed-up never hides a loss. OUT holds every epoch of every run
(`imdb_rnn.reports.timings`); the run folders go to a temporary folder unless `--output-dir` is given.
"""

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

STATISTIC = "fastest epoch"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="a shipped config's name or a YAML file")
    parser.add_argument("--key", required=True, help="SECTION.KEY, e.g. train.embedding_updates")
    parser.add_argument("--values", nargs="+", required=True, help="its values; ratios are to the first")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2], help="train.seed of each round")
    parser.add_argument("--set", action="append", default=[], help="SECTION.KEY=VALUE for every run")
    parser.add_argument("--json", type=Path, required=True, help="the raw timings are written here")
    parser.add_argument("--output-dir", type=Path, help="keep the run folders here (default: a temporary folder)")
    args = parser.parse_args(argv)

    from imdb_rnn.config import load_config
    from imdb_rnn.environment import machine
    from imdb_rnn.reports.timings import record
    from imdb_rnn.runs import load_run
    from imdb_rnn.training.recipe import train

    started = time.perf_counter()
    results = {
        value: {"value": value, "epoch_seconds": [], "validation_accuracy": [], "test_accuracy": []}
        for value in args.values
    }
    with tempfile.TemporaryDirectory() as temporary:
        output_dir = args.output_dir or Path(temporary)
        for round_number, seed in enumerate(args.seeds):
            order = args.values if round_number % 2 == 0 else args.values[::-1]
            for value in order:
                overrides = [*args.set, f"{args.key}={value}", f"train.seed={seed}"]
                folder = train(load_config(args.config, overrides), output_dir=output_dir, verbose=0)
                run = load_run(folder)
                result = results[value]
                result["epoch_seconds"].append(run.history["seconds"])
                result["validation_accuracy"].append(run.metrics["best_val_accuracy"])
                result["test_accuracy"].append(run.metrics["test_accuracy"])
                print(
                    f"seed {seed}, {args.key}={value}: {run.history['seconds']}, "
                    f"test {run.metrics['test_accuracy']:.4f}",
                    flush=True,
                )
    baseline = min(min(epochs) for epochs in results[args.values[0]]["epoch_seconds"])
    for value, result in results.items():
        result["fastest"] = min(min(epochs) for epochs in result["epoch_seconds"])
        result["ratio"] = round(result["fastest"] / baseline, 3)
        result["mean_validation_accuracy"] = round(statistics.mean(result["validation_accuracy"]), 4)
        result["mean_test_accuracy"] = round(statistics.mean(result["test_accuracy"]), 4)
        print(
            f"{args.key}={value}: fastest epoch {result['fastest']:.2f} s ({result['ratio']:.2f}x), validation "
            f"{result['mean_validation_accuracy']:.4f}, test {result['mean_test_accuracy']:.4f} ({machine()})"
        )
    command = "python scripts/measure_setting.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    settings = {"config": args.config, "key": args.key, "seeds": args.seeds, "overrides": args.set}
    record(args.json, "epochs", command, STATISTIC, settings, list(results.values()), time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
