"""`python scripts/measure_torch_kernels.py --json OUT`: seconds per epoch of the seed LSTM recipe through the
trainer under TensorFlow; under PyTorch with its fused CPU LSTM (`imdb_rnn.models.torch_kernels`, the
default); the same with one intra-op thread (`torch.set_num_threads(1)`); and under PyTorch stepping
through time as Keras does (the fused kernel switched off). The ways are interleaved (A B C D A B C D …),
each run in a process of its own (the backend is chosen per process); the test set is not read.

    IMDB_DATA_DIR=../shared/data python scripts/measure_torch_kernels.py --limit 2000 --epochs 2 --rounds 2 --json OUT

The statistic is the fastest epoch of each way over all its rounds (as `imdb-rnn benchmark`), the ratio to
TensorFlow's; OUT holds every epoch of every run (`imdb_rnn.reports.timings`).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runs from a checkout without install

WAYS = {
    "tensorflow": "tensorflow",
    "torch, fused": "torch",
    "torch, fused, 1 thread": "torch",
    "torch, step by step": "torch",
}
STATISTIC = "fastest epoch"


def child(way: str, overrides: list[str], output_dir: str) -> None:
    """One run of `way` in this process: prints its seconds per epoch as JSON."""
    from imdb_rnn.config import load_config
    from imdb_rnn.runs import load_run
    from imdb_rnn.training import recipe

    if way == "torch, step by step":  # this process only: Keras's own loop over time steps
        recipe.use_fused_kernels = lambda model: 0
    if way == "torch, fused, 1 thread":
        import torch

        torch.set_num_threads(1)
    config = load_config(None, overrides, name="seed-lstm")
    folder = recipe.train(config, output_dir=output_dir, verbose=0, test=False)
    print(json.dumps({"epoch_seconds": load_run(folder).history["seconds"]}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=2000, help="reviews, 20%% of them for validation (data.limit)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each way, interleaved")
    parser.add_argument("--json", type=Path, required=True, help="the raw timings are written here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    overrides = [f"data.limit={args.limit}", f"train.epochs={args.epochs}", "train.early_stopping=null"]
    if args.child:
        child(args.child, overrides, os.environ["MEASURE_OUTPUT_DIR"])
        return 0

    from imdb_rnn.reports.timings import record

    started = time.perf_counter()
    results = {way: {"way": way, "backend": backend, "epoch_seconds": []} for way, backend in WAYS.items()}
    with tempfile.TemporaryDirectory() as output_dir:
        for round_number in range(args.rounds):
            for way, backend in WAYS.items():
                environment = {**os.environ, "KERAS_BACKEND": backend, "MEASURE_OUTPUT_DIR": output_dir}
                command = [sys.executable, __file__, "--json", str(args.json), "--child", way]
                command += [f"--limit={args.limit}", f"--epochs={args.epochs}"]
                done = subprocess.run(command, capture_output=True, text=True, env=environment)
                if done.returncode != 0:
                    sys.exit(f"{way}: failed: {done.stderr[-2000:]}")
                found = json.loads(done.stdout.strip().splitlines()[-1])
                results[way]["epoch_seconds"].append(found["epoch_seconds"])
                print(f"round {round_number + 1}, {way}: {found['epoch_seconds']}", flush=True)
    baseline = min(min(epochs) for epochs in results["tensorflow"]["epoch_seconds"])
    for way, result in results.items():
        result["fastest"] = min(min(epochs) for epochs in result["epoch_seconds"])
        result["ratio_to_tensorflow"] = round(result["fastest"] / baseline, 3)
        print(f"{way}: fastest epoch {result['fastest']:.2f} s, {result['ratio_to_tensorflow']:.2f}x TensorFlow")
    command = "python scripts/measure_torch_kernels.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    settings = {"recipe": "seed LSTM (typed defaults) through the trainer", "overrides": overrides}
    settings["rounds"] = args.rounds
    record(args.json, "epochs", command, STATISTIC, settings, list(results.values()), time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
