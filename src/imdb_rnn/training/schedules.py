"""Learning-rate schedules for `train.schedule` (Keras `LearningRateSchedule`s, saved with the model).

`slanted_triangular` is ULMFiT's (Howard & Ruder 2018, eq. 3): the rate rises linearly for the first
`warmup` share of the steps, from `learning_rate / ratio` to `learning_rate`, then falls linearly back
over the rest — a short climb to a good region, then a long refinement.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="imdb_rnn")
class SlantedTriangular(keras.optimizers.schedules.LearningRateSchedule):
    """η_t = peak · (1 + p·(ratio − 1)) / ratio, p = t / cut before the peak at `cut = warmup · total_steps`
    and 1 − (t − cut) / (total_steps − cut) after it (0 at the last step)."""

    def __init__(self, peak: float, total_steps: int, warmup: float = 0.1, ratio: float = 32.0) -> None:
        self.peak, self.total_steps, self.warmup, self.ratio = (
            float(peak),
            int(total_steps),
            float(warmup),
            float(ratio),
        )

    def __call__(self, step):
        step = ops.cast(step, "float32")
        cut = max(int(self.total_steps * self.warmup), 1)
        rising = step / cut
        falling = 1.0 - (step - cut) / max(self.total_steps - cut, 1)
        p = ops.clip(ops.where(step < cut, rising, falling), 0.0, 1.0)
        return self.peak * (1.0 + p * (self.ratio - 1.0)) / self.ratio

    def get_config(self) -> dict:
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup": self.warmup, "ratio": self.ratio}
