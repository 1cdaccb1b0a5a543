"""The page at `/` of `imdb-rnn serve`, in a real headless browser: Debian's Chromium driven by Playwright (no
browser download). A person types a review, presses the button and reads the label, the probability the API
gives and the words highlighted; an error from the server is shown in the page."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import wait_for

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium installed (Debian: apt-get install chromium; .ci/run installs it): the page's browser test",
)
REVIEW = "The movie was a wonderful story and the acting of this film was a plot."
STARTUP = 300  # seconds: the server imports TensorFlow and loads the models on two busy cores


@pytest.fixture(scope="module")
def server(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m imdb_rnn serve` of the tiny run under two names on a free loopback port; its URL."""
    log = tmp_path_factory.mktemp("page-server") / "stderr.txt"
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "imdb_rnn", "serve", str(tiny_run), str(tiny_run), "--name", "tiny", "twin"]
            + ["--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    printed: list[str] = []

    def listening() -> bool:
        while not lines.empty():
            printed.append(lines.get())
        return any(line.startswith("Listening on ") for line in printed)

    try:
        wait_for(listening, "the server says where it listens", [process], timeout=STARTUP)
        url = re.search(r"Listening on (http://\S+)", "".join(printed)).group(1)
        wait_for(lambda: _ready(url), "the server is ready", [process], timeout=STARTUP)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=120)
        assert "Traceback" not in log.read_text()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:
    """A fresh tab on the server's page; fails the test on any JavaScript error or console error."""
    context = browser.new_context()
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("console", lambda message: problems.append(message.text) if _a_problem(message) else None)
    tab.set_default_timeout(120_000)  # an explanation on two busy cores; each wait polls, none sleeps
    tab.goto(f"{server}/")
    yield tab
    context.close()
    assert not problems, problems


def _a_problem(message) -> bool:
    """A console error other than Chromium's note of an HTTP error status (which the page shows itself)."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def test_a_review_typed_in_the_page_shows_the_apis_probability_and_highlighted_words(page, server: str) -> None:
    assert page.title().startswith("imdb-rnn")
    page.select_option("#model", "twin")  # two models served: a select of them
    page.fill("#review", REVIEW)
    page.click("#explain")  # waits until the models are listed (the button is enabled then)
    page.wait_for_selector("#result:not([hidden])")

    [expected] = httpx.post(f"{server}/v1/models/twin:explain", json={"instances": [REVIEW]}, timeout=120).json()[
        "explanations"
    ]
    assert page.text_content("#label") == expected["label"] == "positive"
    assert page.text_content("#probability") == f"{expected['probability']:.4f}"
    assert float(page.get_attribute("#probability", "data-value")) == pytest.approx(expected["probability"], abs=1e-6)

    words = page.query_selector_all("#words span.word")
    assert [word.text_content() for word in words] == expected["words"]
    backgrounds = [word.evaluate("node => getComputedStyle(node).backgroundColor") for word in words]
    strongest = max(range(len(words)), key=lambda index: abs(expected["contributions"][index]))
    assert expected["words"][strongest] == "wonderful"
    assert backgrounds[strongest].startswith("rgba(22, 163, 74, 0.75")  # green, full strength: toward the label
    assert sum(background not in ("rgba(0, 0, 0, 0)", "transparent") for background in backgrounds) >= 3
    assert page.is_hidden("#error")


def test_an_error_from_the_server_is_shown_in_the_page(page) -> None:
    page.wait_for_selector("#explain:enabled")
    page.evaluate("""() => { const option = document.createElement("option"); option.value = "gone";
                             document.getElementById("model").append(option); }""")
    page.select_option("#model", "gone")  # a model the server does not serve: 404 {"error": ...}
    page.fill("#review", REVIEW)
    page.click("#explain")
    page.wait_for_selector("#error:not([hidden])")
    assert "gone" in page.text_content("#error") and page.is_hidden("#result") and page.is_enabled("#explain")
