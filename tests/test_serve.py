"""`imdb-rnn serve`: the real server in a child process on a free loopback port, asked over HTTP (httpx).

One server serves three models: a tiny two-class run, a three-class run on your own data (CSV) and the
tiny run's export. It is started once for the module (again only if a test stopped it), because
importing TensorFlow dominates its start. Its child process wraps each model's batch prediction so that
a test can hold it: while a file exists the batch in progress waits (and says so in another file),
which lets a test queue requests behind it and know they are queued (the server lists its queue), with
no sleeping and no timing. Without the file the server is `imdb-rnn serve` exactly.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from conftest import run_command, tiny_test_texts, wait_for
from imdb_rnn.runs import Run, load_run
from test_own_data import csv_config, star_rows, write_csv

STARTUP = 240  # seconds a server may take to load its models on a loaded 2-core machine
LONG_REVIEW = " ".join(["wonderful", "dull", "film"] * 33_334)  # 100,002 words
MAX_BODY = 2_000_000  # --max-body-bytes of the servers here: the long review (700 KB) fits, 2.5 MB does not

# `imdb-rnn serve` whose every batch waits while the file IMDB_RNN_TEST_HOLD exists (writing the file
# IMDB_RNN_TEST_HOLDING, the batch's size, while it waits).
GATED = """
import os, sys, time
from pathlib import Path

from imdb_rnn.serving import batching

hold, holding = Path(os.environ["IMDB_RNN_TEST_HOLD"]), Path(os.environ["IMDB_RNN_TEST_HOLDING"])
original = batching.Batcher.__init__


def gated_init(self, predict, *args, **kwargs):
    def gated(texts):
        if hold.exists():
            holding.write_text(str(len(texts)))
            while hold.exists():
                time.sleep(0.01)
            holding.unlink()
        return predict(texts)

    original(self, gated, *args, **kwargs)


batching.Batcher.__init__ = gated_init
from imdb_rnn.cli import main

sys.exit(main(sys.argv[1:], prog="imdb-rnn"))
"""


class Server:
    """`imdb-rnn serve ARGS --port 0` in a child process; `url` once it listens and is ready."""

    def __init__(self, args: list[str], folder: Path) -> None:
        self.hold, self.holding = folder / "hold", folder / "holding"
        self.stderr_path = folder / "stderr.txt"
        folder.mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, "IMDB_RNN_TEST_HOLD": str(self.hold), "IMDB_RNN_TEST_HOLDING": str(self.holding)}
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-c", GATED, "serve", *args, "--port", "0", "--max-body-bytes", str(MAX_BODY)],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=environment,
            )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True).start()
        self.printed: list[str] = []
        wait_for(self._listening, "the server says where it listens", [self.process], timeout=STARTUP)
        self.url = re.search(r"Listening on (http://\S+)", self.printed[-1]).group(1)
        self.client = httpx.Client(base_url=self.url, timeout=120)
        wait_for(self._ready, "the server is ready", [self.process], timeout=STARTUP)

    def _listening(self) -> bool:
        while not self.lines.empty():
            self.printed.append(self.lines.get())
        return bool(self.printed) and self.printed[-1].startswith("Listening on ")

    def _ready(self) -> bool:
        try:
            return self.client.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def predict(self, model: str, texts: list[str]) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/models/{model}:predict", json={"instances": texts}, timeout=120)

    def queued(self, model: str) -> int:
        listed = self.client.get("/v1/models").json()["models"]
        return next(entry["batching"]["queued"] for entry in listed if entry["name"] == model)

    def statistics(self, model: str) -> dict:
        return next(
            entry["batching"] for entry in self.client.get("/v1/models").json()["models"] if entry["name"] == model
        )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop(self) -> None:
        self.hold.unlink(missing_ok=True)
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=120)


def probabilities_of(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    return np.array([prediction["probabilities"] for prediction in response.json()["predictions"]])


def expected(run_folder: Path, texts: list[str]) -> np.ndarray:
    """`Run.predict` (what `imdb-rnn predict` prints) as the server answers it: `(n, classes)`."""
    probabilities = loaded(run_folder).predict(texts, allow_empty=True)
    return np.stack([1 - probabilities, probabilities], axis=1) if probabilities.ndim == 1 else probabilities


@pytest.fixture(scope="module")
def stars_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three classes (1, 3, 5 stars) from a CSV of your own texts."""
    from imdb_rnn.training.recipe import train

    folder = tmp_path_factory.mktemp("stars")
    write_csv(folder / "train.csv", star_rows(40, 0))
    return train(csv_config(folder, "train.epochs=4"), tmp_path_factory.mktemp("star-runs"), verbose=0)


@pytest.fixture(scope="module")
def exported(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from imdb_rnn.serving import export_run

    return export_run(tiny_run, tmp_path_factory.mktemp("exported") / "export")


class Servers:
    """The module's server: `get()` starts it, or again when a test has stopped it."""

    def __init__(self, args: list[str], folder: Path) -> None:
        self.args, self.folder, self.current, self.started = args, folder, None, 0

    def get(self) -> Server:
        if self.current is None or self.current.process.poll() is not None:
            self.started += 1
            self.current = Server(self.args, self.folder / str(self.started))
        return self.current


@pytest.fixture(scope="module")
def servers(tiny_run: Path, stars_run: Path, exported: Path, tmp_path_factory: pytest.TempPathFactory):
    names = ["--name", "tiny", "stars", "tiny-export"]
    held = Servers(
        [str(tiny_run), str(stars_run), str(exported), *names, "--max-queue", "10"], tmp_path_factory.mktemp("server")
    )
    yield held
    if held.current is not None and held.current.process.poll() is None:
        held.current.stop()
        assert held.current.process.returncode == 0 and "Traceback" not in held.current.stderr


@pytest.fixture
def server(servers: Servers) -> Server:
    return servers.get()


@functools.cache
def loaded(folder: Path) -> Run:
    return load_run(folder)


def some_texts(tiny_corpus: Path) -> list[str]:
    return tiny_test_texts(tiny_corpus)[::4] + ["", "!!! ...", LONG_REVIEW, "Superb, superb, SUPERB.<br />"]


# Predictions ------------------------------------------------------------------------------------------


def test_predictions_equal_run_predict_in_row_and_columnar_format(server, tiny_run: Path, tiny_corpus: Path) -> None:
    texts = some_texts(tiny_corpus)
    wanted = expected(tiny_run, texts)
    np.testing.assert_allclose(probabilities_of(server.predict("tiny", texts)), wanted, atol=1e-6)
    named = server.client.post("/v1/models/tiny:predict", json={"instances": [{"texts": text} for text in texts]})
    np.testing.assert_allclose(probabilities_of(named), wanted, atol=1e-6)
    labels = [["negative", "positive"][i] for i in wanted.argmax(axis=1)]
    assert [prediction["labels"] for prediction in named.json()["predictions"]] == labels
    for inputs in (texts, {"texts": texts}):
        columnar = server.client.post("/v1/models/tiny/versions/1:predict", json={"inputs": inputs})
        assert columnar.status_code == 200 and set(columnar.json()) == {"outputs"}
        np.testing.assert_allclose(columnar.json()["outputs"]["probabilities"], wanted, atol=1e-6)
        assert columnar.json()["outputs"]["labels"] == labels


def test_a_three_class_run_of_your_own_data(server, stars_run: Path) -> None:
    texts = ["A superb, stunning masterpiece", "Dreadful and painful", "Average, passable, uneven", "the"]
    response = server.client.post(
        "/v1/models/stars:predict", json={"instances": texts, "signature_name": "serving_default"}
    )
    wanted = expected(stars_run, texts)
    np.testing.assert_allclose(probabilities_of(response), wanted, atol=1e-6)
    labels = [prediction["labels"] for prediction in response.json()["predictions"]]
    assert labels == [["1", "3", "5"][i] for i in wanted.argmax(axis=1)]


def test_an_export_folder_answers_as_its_run(server, tiny_run: Path, tiny_corpus: Path) -> None:
    texts = some_texts(tiny_corpus)
    # the SavedModel's graph agrees with Run.predict to 1e-5 (tests/test_export.py), not bit for bit
    np.testing.assert_allclose(
        probabilities_of(server.predict("tiny-export", texts)), expected(tiny_run, texts), atol=1e-5
    )


def test_concurrent_clients_each_get_their_own_answer(server, tiny_run: Path, tiny_corpus: Path) -> None:
    texts = tiny_test_texts(tiny_corpus)
    requests = [texts[i : i + 1 + i % 3] for i in range(24)]  # 1 to 3 reviews a request
    with ThreadPoolExecutor(8) as clients:
        responses = list(clients.map(lambda chunk: server.predict("tiny", chunk), requests))
    wanted = dict(zip(texts, expected(tiny_run, texts)))
    for chunk, response in zip(requests, responses):
        np.testing.assert_allclose(probabilities_of(response), [wanted[text] for text in chunk], atol=1e-6)


# Explanations and the page ----------------------------------------------------------------------------


def test_explain_gives_each_word_its_contribution_and_the_predicted_probability(server, tiny_run, stars_run) -> None:
    for model, folder, texts in [
        ("tiny", tiny_run, ["Superb and moving, a wonderful film.", "Dull... a waste!", ""]),
        ("stars", stars_run, ["A superb, stunning masterpiece"]),
    ]:
        response = server.client.post(f"/v1/models/{model}:explain", json={"instances": texts})
        assert response.status_code == 200, response.text
        explanations = response.json()["explanations"]
        wanted = expected(folder, texts)
        classes = list(loaded(folder).classes)
        assert len(explanations) == len(texts)
        for explanation, row in zip(explanations, wanted):
            assert explanation["label"] == classes[int(row.argmax())]
            assert explanation["probability"] == pytest.approx(float(row.max()), abs=1e-6)
            assert len(explanation["words"]) == len(explanation["contributions"])
    assert explanations[0]["words"] == ["a", "superb", "stunning", "masterpiece"]
    bad = server.client.post("/v1/models/tiny:explain", json={"instances": []})
    assert bad.status_code == 400 and "empty list" in bad.json()["error"]
    exported = server.client.post("/v1/models/tiny-export:explain", json={"instances": ["Superb."]})
    assert exported.status_code == 501 and "export folder" in exported.json()["error"]


def test_the_page_is_served_at_the_root(server) -> None:
    from imdb_rnn.serving.page import page_html

    response = server.client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.text == page_html()


# Status, metadata, health ---------------------------------------------------------------------------


def test_status_metadata_and_the_list_of_models(server) -> None:
    status = server.client.get("/v1/models/stars").json()
    assert status == {
        "model_version_status": [
            {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        ]
    }
    assert server.client.get("/v1/models/stars/versions/1").json() == status
    metadata = server.client.get("/v1/models/stars/metadata").json()
    assert metadata["model_spec"] == {"name": "stars", "signature_name": "", "version": "1"}
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["inputs"]["texts"]["dtype"] == "DT_STRING"
    assert [dim["size"] for dim in signature["outputs"]["probabilities"]["tensor_shape"]["dim"]] == ["-1", "3"]
    assert metadata["imdb_rnn"]["classes"] == ["1", "3", "5"] and metadata["imdb_rnn"]["batching"] == "masked"
    listed = {entry["name"]: entry for entry in server.client.get("/v1/models").json()["models"]}
    assert set(listed) == {"tiny", "stars", "tiny-export"} and listed["tiny"]["classes"] == ["negative", "positive"]
    assert listed["tiny-export"]["kind"] == "export" and listed["stars"]["version"] == "1"
    assert server.client.get("/healthz").json() == {"status": "alive"}
    assert server.client.get("/readyz").json() == {"status": "ready", "models": ["tiny", "stars", "tiny-export"]}
    assert "/tmp" not in json.dumps([metadata, listed]) and str(Path.home()) not in json.dumps([metadata, listed])


# Bad requests -----------------------------------------------------------------------------------------

BAD_REQUESTS = [  # (path, body, status, what the error names)
    ("tiny:predict", b'{"instances": ["a review"', 400, "invalid JSON"),
    ("tiny:predict", b"", 400, "empty request body"),
    ("tiny:predict", b'["a review"]', 400, "received a list"),
    ("tiny:predict", b'{"instances": "a review"}', 400, 'invalid "instances": expected a list'),
    (
        "tiny:predict",
        b'{"instances": [3]}',
        400,
        "invalid instances[0]: expected a review (a string), received a number (3)",
    ),
    ("tiny:predict", b'{"instances": ["ok", null]}', 400, "instances[1]: expected a review (a string), received null"),
    (
        "tiny:predict",
        b'{"instances": [["nested"]]}',
        400,
        "instances[0]: expected a review (a string), received a list",
    ),
    ("tiny:predict", b'{"instances": [{"text": "a"}]}', 400, 'instances[0]: expected a string or {"texts": a string}'),
    ("tiny:predict", b'{"inputs": {"words": ["a"]}}', 400, 'expected the one input "texts"'),
    ("tiny:predict", b'{"inputs": [true]}', 400, "inputs[0]: expected a review (a string), received a boolean"),
    ("tiny:predict", b'{"review": ["a"]}', 400, 'unknown key "review"'),
    ("tiny:predict", b'{"signature_name": "serving_default"}', 400, 'missing key: expected "instances"'),
    ("tiny:predict", b'{"instances": ["a"], "inputs": ["a"]}', 400, "received both"),
    ("tiny:predict", b'{"instances": ["a"], "signature_name": "other"}', 400, 'invalid "signature_name"'),
    ("tiny:predict", b'{"instances": []}', 400, "expected at least one review, received an empty list"),
    ("tiny:predict", b'{"inputs": []}', 400, "expected at least one review, received an empty list"),
    (
        "tiny:predict",
        b'{"instances": ["caf\xe9"]}',
        400,
        "expected UTF-8 text, received a byte that is not UTF-8 (0xe9",
    ),
    ("tiny:predict", b"\xff\xfe{\x00", 400, "not UTF-8 (0xff at byte 0)"),
    ("tiny:predict", b'{"instances": ["\\ud800 lone"]}', 400, "lone surrogate"),
    ("tiny:predict", b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    ("tiny:predict", b'{"instances": [' + b"9" * 5000 + b"]}", 400, "invalid JSON"),
    (
        "nope:predict",
        b'{"instances": ["a"]}',
        404,
        "unknown model \"nope\": expected one of 'tiny', 'stars', 'tiny-export'",
    ),
    ("tiny/versions/2:predict", b'{"instances": ["a"]}', 404, "has no version"),
    ("tiny:predict", b'{"instances": ["' + b"a" * MAX_BODY + b'"]}', 413, f"expected at most {MAX_BODY} bytes"),
]


@pytest.mark.parametrize(("path", "body", "status", "named"), BAD_REQUESTS, ids=range(len(BAD_REQUESTS)))
def test_a_bad_request_gets_its_4xx_and_a_json_error_naming_the_problem(server, path, body, status, named) -> None:
    response = server.client.post(f"/v1/models/{path}", content=body)
    assert response.status_code == status and response.headers["content-type"] == "application/json"
    assert named in response.json()["error"], response.json()
    assert "Traceback" not in server.stderr


def test_a_body_over_the_limit_without_a_length_gets_413(server) -> None:
    chunks = (b'{"instances": ["' + b"a" * 100_000 for _ in range(30))  # chunked: no Content-Length
    response = server.client.post("/v1/models/tiny:predict", content=chunks)
    assert response.status_code == 413 and "request body too large" in response.json()["error"]


def test_unknown_paths_and_methods_are_json_and_the_server_keeps_answering(server, tiny_run: Path) -> None:
    for method, path, status in [
        ("GET", "/v2/models", 404),
        ("GET", "/v1/models/tiny:predict", 404),
        ("POST", "/healthz", 405),
    ]:
        response = server.client.request(method, path)
        assert response.status_code == status and "error" in response.json()
    np.testing.assert_allclose(
        probabilities_of(server.predict("tiny", ["Superb."])), expected(tiny_run, ["Superb."]), atol=1e-6
    )
    assert server.process.poll() is None and "Traceback" not in server.stderr


# Batching, the bounded queue, SIGTERM (a test holds the batch in progress) -------------------------


def test_requests_queued_behind_a_busy_model_are_predicted_as_one_batch(
    server, tiny_run: Path, tiny_corpus: Path
) -> None:
    texts = tiny_test_texts(tiny_corpus)[:11]
    before = server.statistics("tiny")
    server.hold.touch()
    with ThreadPoolExecutor(11) as clients:
        first = clients.submit(server.predict, "tiny", texts[:1])
        wait_for(server.holding.exists, "the first batch is being predicted", [server.process], timeout=60)
        queued = [clients.submit(server.predict, "tiny", [text]) for text in texts[1:]]
        wait_for(lambda: server.queued("tiny") == 10, "ten requests queued", [server.process], timeout=60)
        server.hold.unlink()
        answers = np.concatenate([probabilities_of(future.result()) for future in [first, *queued]])
    np.testing.assert_allclose(answers, expected(tiny_run, texts), atol=1e-6)
    after = server.statistics("tiny")
    assert after["batches"] - before["batches"] == 2 and after["texts"] - before["texts"] == 11  # 1, then 10


def test_a_full_queue_answers_503_with_retry_after(server, tiny_run: Path) -> None:
    server.hold.touch()
    with ThreadPoolExecutor(11) as clients:
        first = clients.submit(server.predict, "tiny", ["Superb."])
        wait_for(server.holding.exists, "a batch is being predicted", [server.process], timeout=60)
        queued = [clients.submit(server.predict, "tiny", ["Dull."]) for _ in range(10)]
        wait_for(lambda: server.queued("tiny") == 10, "the queue full (--max-queue 10)", [server.process], timeout=60)
        refused = server.predict("tiny", ["Awful."])
        server.hold.unlink()
        assert all(future.result().status_code == 200 for future in [first, *queued])
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "queue of requests is full" in refused.json()["error"]
    assert server.statistics("tiny")["refused"] >= 1


def test_sigterm_stops_accepting_finishes_the_requests_in_flight_and_exits_0(servers: Servers, tiny_run: Path) -> None:
    server = servers.get()  # stopped here: the next test that needs it starts another
    port = int(server.url.rsplit(":", 1)[1])
    texts = ["Superb and moving.", "Dull, a waste."]
    server.hold.touch()
    try:
        with ThreadPoolExecutor(2) as clients:
            first = clients.submit(server.predict, "tiny", texts[:1])
            wait_for(server.holding.exists, "a batch is being predicted", [server.process], timeout=60)
            second = clients.submit(server.predict, "tiny", texts[1:])
            wait_for(lambda: server.queued("tiny") == 1, "a request queued", [server.process], timeout=60)
            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: refused(port), "new connections refused", [server.process], timeout=60)
            server.hold.unlink()
            answers = np.concatenate([probabilities_of(first.result()), probabilities_of(second.result())])
        assert server.process.wait(timeout=120) == 0
    finally:
        server.stop()
    np.testing.assert_allclose(answers, expected(tiny_run, texts), atol=1e-6)
    assert "Traceback" not in server.stderr and "in flight were answered" in server.stderr


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return True
    return False


# The command line -------------------------------------------------------------------------------------


def test_folders_names_and_ports_that_cannot_be_served_exit_2_with_one_line(
    tiny_run: Path, tmp_path: Path, capsys
) -> None:
    unsafe = copy_with_lambda_layer(tiny_run, tmp_path / "unsafe")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        cases = [
            ([str(tmp_path / "missing")], "not a run folder"),
            ([str(unsafe)], "cannot load the model"),  # Keras's safe mode: no code from the file is run
            ([str(tiny_run), "--name", "a b"], "invalid model name"),
            ([str(tiny_run), str(tiny_run)], "two models named"),
            ([str(tiny_run), "--name", "a", "b"], "expected one name a RUN (1), received 2"),
            ([str(tiny_run), "--port", port], f"cannot listen on 127.0.0.1:{port}"),
        ]
        for argv, message in cases:
            try:
                code = run_command("serve", argv)
            except SystemExit as exit:  # argparse
                code = exit.code
            error = capsys.readouterr().err.strip().splitlines()
            assert code == 2 and len(error) == 1 and message in error[0], error


def copy_with_lambda_layer(run: Path, folder: Path) -> Path:
    """A copy of `run` whose model.keras holds a `Lambda` layer (Python code in the file)."""
    import shutil

    import keras

    shutil.copytree(run, folder)
    inputs = keras.Input(shape=(None,), dtype="int32")
    outputs = keras.layers.Lambda(lambda x: keras.ops.cast(x, "float32")[:, :1] * 0.0)(inputs)
    keras.Model(inputs, outputs).save(folder / "model.keras")
    return folder


# The load benchmark -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_serving_benchmark_times_both_ways_and_the_memory(tiny_run: Path) -> None:
    from imdb_rnn.reports.serving import benchmark_serving, serving_table, training_texts

    reviews = training_texts(tiny_run, count=50)
    assert len(reviews) == 50 and all(isinstance(review, str) and review for review in reviews)
    raw = benchmark_serving(tiny_run, reviews, requests=30, seconds=60, memory_requests=40, levels=(1, 4))
    assert [(level["way"], level["clients"]) for level in raw["levels"]] == [
        ("unbatched", 1),
        ("unbatched", 4),
        ("batched", 1),
        ("batched", 4),
    ]
    for level in raw["levels"]:
        assert level["requests"] == 30 and level["failed"] == 0 and len(level["latencies_ms"]) == 30
        assert level["latency_ms"]["p50"] <= level["latency_ms"]["p99"] and level["requests_per_second"] > 0
    assert all(level["batches"] == 30 for level in raw["levels"] if level["way"] == "unbatched")  # one a request
    assert raw["memory"]["requests"] == 40 and raw["memory"]["failed"] == 0
    assert raw["memory"]["resident_bytes_before"] > 0 and "| batched | 4 | 30 | 0 |" in serving_table(raw)


def test_the_serving_benchmark_refuses_an_empty_folder_name(capsys) -> None:
    """`--serving ""` (a shell variable that came out empty) names no run: refused, not read as the training
    benchmark or the current folder."""
    with pytest.raises(SystemExit) as refused:
        run_command("benchmark", ["--serving", ""])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "--serving" in err and "expected a folder, received ''" in err and "Traceback" not in err
