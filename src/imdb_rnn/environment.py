"""Where a figure was measured: library versions, the machine (CPU cores, GPUs), the commit.

TensorFlow is imported only by the functions that ask it something.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

CHECKOUT = Path(__file__).resolve().parents[2]  # the project folder when running from a checkout


def versions() -> dict[str, str]:
    """Python, TensorFlow, Keras and NumPy versions, the Keras backend's when it is JAX or PyTorch, and the
    platform (for `metrics.json`)."""
    import keras
    import tensorflow

    found = {
        "python": sys.version.split()[0],
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
    backend = keras.backend.backend()
    if backend != "tensorflow":
        found[backend] = metadata.version(backend)
    return {**found, "platform": platform.platform()}


def commit() -> str:
    """The short hash of the checkout's HEAD, or "unknown" (no git, or an installed package)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(CHECKOUT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def cpu_count() -> int:
    """The CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def gpus() -> list[str]:
    """The names of the GPUs TensorFlow sees (empty on a CPU-only machine)."""
    import tensorflow as tf

    names = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        names.append(str(details.get("device_name", device.name)))
    return names


def machine(with_gpus: bool = True) -> str:
    """`x86_64, 2 CPU cores (Intel Xeon …), no GPU` or `…, GPU: NVIDIA H100 80GB HBM3`; without the GPU
    part (and without importing TensorFlow) for work that runs on the CPU alone, `with_gpus=False`."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    cpus = f"{platform.machine()}, {cpu_count()} CPU cores{f' ({model})' if model else ''}"
    if not with_gpus:
        return cpus
    found = gpus()
    return f"{cpus}, " + (f"GPU: {', '.join(found)}" if found else "no GPU")
