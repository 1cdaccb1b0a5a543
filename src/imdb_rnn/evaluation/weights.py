"""The weights of an ensemble, chosen from its members' predictions on the validation reviews.

    weights = choose_weights(probabilities, labels, "accuracy")   # (k,), non-negative, summing to 1

`probabilities` are the `k` members' predictions on the same `n` reviews: `(k, n)`, P(second class), for
two classes, `(k, n, classes)` for more; `labels` `(n,)` are class indices. The ensemble predicts
`sum(w_j * p_j)`, and a review counts as the second class when that is above 0.5 (two classes) or as
its most probable class (more), as `classification_metrics` counts.

- `accuracy`: the weights on a grid over the simplex (steps of 1/20, coarser past 5 members so that at most
  `MAX_CANDIDATES` are tried; equal weights always among them) with the highest accuracy; ties go to the
  lower log-loss, then to equal weights, then to the grid's order.
- `log_loss`: the weights of lowest mean log-loss (cross-entropy, probabilities clipped to
  `[EPSILON, 1 - EPSILON]` as Keras clips them). The log-loss of a mixture is convex in its weights, and
  the fixed-point iteration of a mixture's weights (EM: `w_j <- w_j * mean(q_ij / sum_l w_l q_il)`, `q` the
  probability each member gives the true class) decreases it at every step, from equal weights on.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import comb

import numpy as np

from imdb_rnn.evaluation.metrics import EPSILON

MAX_CANDIDATES = 20_000  # weight vectors the accuracy search tries at most
GRID_STEPS = 20  # the accuracy search's finest grid: weights in steps of 1/20
EM_TOLERANCE = 1e-10  # the log-loss search stops when no weight moves more than this in a step
EM_STEPS = 10_000


def true_class_probabilities(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """`(k, n)`: the probability each member gives each review's true class, float64."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    if probabilities.ndim == 2:  # two classes: P(second class)
        return np.where(labels[None, :] == 1, probabilities, 1 - probabilities)
    return np.take_along_axis(probabilities, labels[None, :, None], axis=2)[..., 0]


def mixture(probabilities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The ensemble's probabilities `sum(w_j * p_j)`: `(n,)` or `(n, classes)`, float64."""
    return np.tensordot(np.asarray(weights, dtype=np.float64), np.asarray(probabilities, dtype=np.float64), axes=1)


def choose_weights(probabilities: np.ndarray, labels: np.ndarray, objective: str = "accuracy") -> np.ndarray:
    """The weights `(k,)` (non-negative, summing to 1) that maximise accuracy (`objective` `accuracy`) or
    minimise log-loss (`log_loss`) of the mixture on these predictions; see the module docstring."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if objective == "log_loss":
        return _least_log_loss(true_class_probabilities(probabilities, labels))
    if objective != "accuracy":
        raise ValueError(f"choose_weights: expected objective 'accuracy' or 'log_loss', received {objective!r}.")
    return _most_accurate(probabilities, np.asarray(labels).reshape(-1).astype(np.int64))


def simplex_grid(members: int, steps: int) -> Iterator[tuple[int, ...]]:
    """Every `members` non-negative integers summing to `steps`, in lexicographic order (first large first)."""
    if members == 1:
        yield (steps,)
        return
    for first in range(steps, -1, -1):
        for rest in simplex_grid(members - 1, steps - first):
            yield (first, *rest)


def grid_steps(members: int) -> int:
    """The finest steps (at most `GRID_STEPS`) whose grid holds at most `MAX_CANDIDATES` weight vectors."""
    steps = GRID_STEPS
    while steps > 1 and comb(steps + members - 1, members - 1) > MAX_CANDIDATES:
        steps -= 1
    return steps


def _most_accurate(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    members = probabilities.shape[0]
    steps = grid_steps(members)
    grid = np.array(list(simplex_grid(members, steps)), dtype=np.float64) / steps
    candidates = np.vstack([np.full((1, members), 1 / members), grid])
    truth = true_class_probabilities(probabilities, labels)
    n = probabilities.shape[1]
    chunk = max(1, 20_000_000 // max(1, n * (probabilities.shape[2] if probabilities.ndim == 3 else 1)))
    accuracy, loss = np.empty(len(candidates)), np.empty(len(candidates))
    for start in range(0, len(candidates), chunk):
        weights = candidates[start : start + chunk]
        mixed = np.tensordot(weights, probabilities, axes=1)  # (m, n) or (m, n, classes)
        if probabilities.ndim == 2:
            correct = (mixed > 0.5) == (labels[None, :] == 1)
        else:
            correct = np.argmax(mixed, axis=2) == labels[None, :]
        accuracy[start : start + chunk] = correct.mean(axis=1)
        loss[start : start + chunk] = -np.log(np.clip(weights @ truth, EPSILON, 1 - EPSILON)).mean(axis=1)
    order = np.lexsort((np.arange(len(candidates)), loss, -accuracy))  # last key first: accuracy, loss, order
    return candidates[order[0]]


def _least_log_loss(truth: np.ndarray) -> np.ndarray:
    truth = np.clip(truth, EPSILON, 1 - EPSILON)
    weights = np.full(truth.shape[0], 1 / truth.shape[0])
    for _ in range(EM_STEPS):
        updated = weights * (truth / (weights @ truth)).mean(axis=1)
        updated /= updated.sum()
        if np.max(np.abs(updated - weights)) < EM_TOLERANCE:
            return updated
        weights = updated
    return weights
