"""`imdb-rnn pretrain`: word vectors or a language model from the training and unlabeled reviews, into a pretraining
run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from imdb_rnn.cli.common import Invocation, Parser, add_set_argument, guarded, quiet_tensorflow

HELP = "pretrain word vectors or a language model on the training + unlabeled reviews (never the test ones)"
DESCRIPTION = (
    "Pretrain on the 25,000 training and 50,000 unlabeled reviews into <output-dir>/pretrain/<name>-<time>/; "
    "the same config again reuses that folder. Classifiers start from it with model.pretrained."
)


def add_arguments(parser: Parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--config", metavar="CONFIG", help="a pretraining config: a path or a name in configs/pretrain/ (word2vec, …)"
    )
    source.add_argument("--resume", type=Path, metavar="RUN", help="continue an interrupted pretraining run folder")
    add_set_argument(parser, "override one key, value read as YAML (repeatable): --set word2vec.epochs=1")
    parser.add_argument("--output-dir", default="outputs", help="runs go to <output-dir>/pretrain/ (default: outputs)")
    parser.add_argument("--force", action="store_true", help="train again even when a run of this config completed")


def run(args: argparse.Namespace, invocation: Invocation, parser: Parser) -> int:
    if args.resume and (args.overrides or args.force):
        parser.error("--resume takes no --set or --force: a run resumes with the config in its folder")
    quiet_tensorflow()  # the data locator imports Keras
    from imdb_rnn.config.pretraining import load_pretrain_config
    from imdb_rnn.pretraining.runs import pretrain, resume_pretraining

    def body() -> int:
        if args.resume:
            folder, trained = resume_pretraining(args.resume)
            if not trained:
                print(f"{folder} already completed; nothing to resume.")
                return 0
            _report(folder, reused=False)
            return 0
        config = load_pretrain_config(args.config, args.overrides)
        folder, reused = pretrain(config, args.output_dir, reuse=not args.force)
        _report(folder, reused)
        return 0

    return guarded(invocation, body, what="pretraining run")


def _report(folder, reused: bool) -> None:
    from imdb_rnn.files import read_json

    metrics = read_json(folder / "metrics.json")
    if reused:
        print(f"Reusing {folder}: a completed run of the same config (--force trains again).")
    print(f"Pretraining folder: {folder}")
    corpus = f"{metrics['corpus']['reviews']:,} reviews ({metrics['corpus']['tokens']:,} words)"
    if metrics["method"] == "word2vec":
        print(
            f"{metrics['rows_trained']:,} of {metrics['rows']:,} vocabulary rows trained, {metrics['vector_size']} "
            f"dimensions, from {corpus} in {metrics['seconds'] / 60:.1f} min on {metrics['machine']}"
        )
    elif metrics["method"] == "region":
        print(
            f"Region embedding: neighbours told from drawn words in {metrics['validation_accuracy']:.4f} of held-out "
            f"cases (loss {metrics['validation_loss']:.4f}; best epoch {metrics['best_epoch']} of "
            f"{metrics['epochs_run']}), from {corpus} in {metrics['training_seconds'] / 60:.1f} min of training on "
            f"{metrics['machine']}"
        )
    else:
        print(
            f"Language model: validation perplexity {metrics['validation_perplexity']}, next-word accuracy "
            f"{metrics['validation_accuracy']:.4f} (best epoch {metrics['best_epoch']} of {metrics['epochs_run']}), "
            f"from {corpus} in {metrics['training_seconds'] / 60:.1f} min of training on {metrics['machine']}"
        )
    for word, near in metrics.get("neighbours", {}).items():
        print(f"  {word}: " + ", ".join(other for other, _ in near))
