"""TensorFlow Serving's REST API for a text classifier: request bodies in, JSON answers out.

A predict (or explain) request is a JSON object, UTF-8, in TensorFlow Serving's row or columnar format.
The model's one input is `texts`, a batch of raw strings (as in the exported SavedModel's signature):

    {"instances": ["A wonderful film.", "Dull."]}                    row format: one review an instance
    {"instances": [{"texts": "A wonderful film."}, {"texts": "Dull."}]}   the same, inputs named
    {"inputs": ["A wonderful film.", "Dull."]}                       columnar format
    {"inputs": {"texts": ["A wonderful film.", "Dull."]}}            the same, inputs named

`"signature_name"` may say `serving_default` (or `serve`). The row format is answered
`{"predictions": [{"probabilities": [0.02, 0.98], "labels": "positive"}, ...]}` (one object a review:
each class's probability in the order of the model's classes, and the most probable class), the columnar
format `{"outputs": {"probabilities": [[0.02, 0.98], ...], "labels": ["positive", ...]}}`, as TensorFlow
Serving answers for the exported SavedModel. An empty string is a valid review (read as the start token
alone); a review longer than the model's `maxlen` is cut as in training. Anything else is a `BadRequest`
whose message says what was expected and what was received, without echoing the review.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

INPUT = "texts"  # the name of the model's one input (the exported signature's)
SIGNATURES = ("serving_default", "serve")
KEYS = ("instances", "inputs", "signature_name")
EXAMPLE = '{"instances": ["a review", ...]}'


class BadRequest(ValueError):
    """A request the server cannot answer; `status` is its HTTP status (400, 404, 413, ...)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Texts:
    """The reviews of a request and its format (`row` or `columnar`), which the answer keeps."""

    texts: list[str]
    columnar: bool


def parse(body: bytes) -> Texts:
    """A predict request's body → its reviews; a `BadRequest` naming what is wrong."""
    try:
        content = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"invalid request body: expected UTF-8 text, received a byte that is not UTF-8 "
            f"(0x{body[error.start]:02x} at byte {error.start})."
        ) from None
    if not content.strip():
        raise BadRequest(f"empty request body: expected a JSON object such as {EXAMPLE}.")
    try:
        request = json.loads(content)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply for the parser
        reason = str(error) if isinstance(error, ValueError) else "nested too deeply"
        raise BadRequest(
            f"invalid JSON: expected a JSON object such as {EXAMPLE}, received text that is not JSON ({reason})."
        ) from None
    if not isinstance(request, dict):
        raise BadRequest(
            f'invalid request: expected a JSON object with "instances" or "inputs", received {kind(request)}.'
        )
    unknown = [key for key in request if key not in KEYS]
    if unknown:
        raise BadRequest(
            f'unknown key {json.dumps(unknown[0])}: expected "instances" or "inputs" (and optionally "signature_name").'
        )
    signature = request.get("signature_name", SIGNATURES[0])
    if signature not in SIGNATURES:
        raise BadRequest(f'invalid "signature_name": expected "serving_default", received {shown(signature)}.')
    if ("instances" in request) == ("inputs" in request):
        received = "both" if "instances" in request else "neither"
        raise BadRequest(
            f'missing key: expected "instances" (row format) or "inputs" (columnar format), received {received}.'
        )
    if "instances" in request:
        instances = request["instances"]
        _check_list("instances", instances)
        return Texts([_instance(index, item) for index, item in enumerate(instances)], columnar=False)
    inputs = request["inputs"]
    where = "inputs"
    if isinstance(inputs, dict):
        if list(inputs) != [INPUT]:
            raise BadRequest(
                f'invalid "inputs": expected the one input {json.dumps(INPUT)}, received keys {shown(list(inputs))}.'
            )
        inputs, where = inputs[INPUT], f"inputs.{INPUT}"
    _check_list(where, inputs)
    return Texts([_text(f"{where}[{index}]", item) for index, item in enumerate(inputs)], columnar=True)


def _check_list(where: str, value: Any) -> None:
    if not isinstance(value, list):
        raise BadRequest(f'invalid "{where}": expected a list of reviews (strings), received {kind(value)}.')
    if not value:
        raise BadRequest(f'invalid "{where}": expected at least one review, received an empty list.')


def _instance(index: int, item: Any) -> str:
    where = f"instances[{index}]"
    if isinstance(item, dict):
        if list(item) != [INPUT]:
            raise BadRequest(
                f'invalid {where}: expected a string or {{"{INPUT}": a string}}, received keys {shown(list(item))}.'
            )
        return _text(f"{where}.{INPUT}", item[INPUT])
    return _text(where, item)


def _text(where: str, item: Any) -> str:
    if not isinstance(item, str):
        raise BadRequest(f"invalid {where}: expected a review (a string), received {kind(item)}.")
    try:
        item.encode("utf-8")
    except UnicodeEncodeError as error:
        raise BadRequest(
            f"invalid {where}: expected Unicode text, received a lone surrogate (\\u{ord(item[error.start]):04x})."
        ) from None
    return item


def kind(value: Any) -> str:
    """What a JSON value is, for messages, without its content: `a list`, `a number (3)`, `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, (int, float)):
        return f"a number ({shown(value)})"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return "an object"


def shown(value: Any, width: int = 40) -> str:
    """`value` as JSON, cut to `width` characters."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= width else text[: width - 1] + "…"


# Answers --------------------------------------------------------------------------------------------


def predictions(probabilities: np.ndarray, classes: Sequence[str], columnar: bool) -> dict[str, Any]:
    """`(n, classes)` probabilities → TensorFlow Serving's answer (see the module docstring)."""
    rows = [[float(p) for p in row] for row in probabilities]
    labels = [classes[int(i)] for i in np.argmax(probabilities, axis=1)]
    if columnar:
        return {"outputs": {"probabilities": rows, "labels": labels}}
    return {"predictions": [{"probabilities": row, "labels": label} for row, label in zip(rows, labels)]}


def model_status(version: str) -> dict[str, Any]:
    """`GET /v1/models/<name>`: TensorFlow Serving's status of a model with one version, available."""
    return {
        "model_version_status": [
            {"version": version, "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        ]
    }


def metadata(name: str, version: str, classes: Sequence[str], extra: dict[str, Any]) -> dict[str, Any]:
    """`GET /v1/models/<name>/metadata`: TensorFlow Serving's signature of the served model (strings in,
    `probabilities` `(n, classes)` float and `labels` `(n,)` string out), plus `extra` under `imdb_rnn`."""

    def tensor(dtype: str, *sizes: int, name: str) -> dict[str, Any]:
        dims = [{"size": str(size), "name": ""} for size in sizes]
        return {"dtype": dtype, "tensor_shape": {"dim": dims, "unknown_rank": False}, "name": name}

    signature = {
        "inputs": {INPUT: tensor("DT_STRING", -1, name=f"serving_default_{INPUT}:0")},
        "outputs": {
            "probabilities": tensor("DT_FLOAT", -1, len(classes), name="StatefulPartitionedCall:0"),
            "labels": tensor("DT_STRING", -1, name="StatefulPartitionedCall:1"),
        },
        "method_name": "tensorflow/serving/predict",
    }
    return {
        "model_spec": {"name": name, "signature_name": "", "version": version},
        "metadata": {"signature_def": {"signature_def": {"serving_default": signature}}},
        "imdb_rnn": {"classes": list(classes), **extra},
    }
