"""The page `imdb-rnn serve` shows at `/`: paste a review, see the label, its probability and the words that
decided, highlighted as `imdb-rnn explain --html` highlights them (`imdb_rnn.evaluation.highlight`).

One self-contained HTML document: inline CSS and JavaScript, no external files, no cookies, nothing stored.
It reads `GET v1/models` (`{"models": [{"name", "classes", "version", …}]}`; a select when there are
several) and posts `{"instances": [review]}` to `v1/models/<name>:explain`, which answers
`{"explanations": [{"words", "contributions", "read", "label", "probability", "probabilities", …}]}` or,
with a 4xx or 5xx status, `{"error": "…"}`, shown in the page. The paths are relative, so the page works
behind a proxy that serves the API under a prefix. Element ids, for scripts and tests: `#model`, `#review`,
`#explain` (the button), `#status`, `#error`, `#result`, `#label`, `#probability` (its `data-value`: the
probability as the API gave it), `#probabilities`, `#words` (a `span.word` a word, `data-contribution`).
"""

from __future__ import annotations

import json

from imdb_rnn.evaluation.highlight import AGAINST, TOWARD, UNREAD


def page_html() -> str:
    """The page, as a string of HTML."""
    colours = json.dumps({"toward": TOWARD, "against": AGAINST, "unread": UNREAD})
    return _PAGE.replace("/*COLOURS*/", colours)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imdb-rnn: which words decided</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 46rem; margin: 1.5rem auto;
         padding: 0 1rem; color: #1f2328; background: #fff; }
  h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
  .hint { color: #57606a; margin-top: 0; }
  label { font-weight: 600; display: block; margin: 0.8rem 0 0.3rem; }
  select, textarea, button { font: inherit; }
  textarea { width: 100%; box-sizing: border-box; min-height: 7rem; padding: 0.5rem; border: 1px solid #d0d7de;
             border-radius: 0.4rem; resize: vertical; }
  button { margin-top: 0.6rem; padding: 0.4rem 1.2rem; border: 0; border-radius: 0.4rem; background: #1f6feb;
           color: #fff; cursor: pointer; }
  button:disabled { background: #8c959f; cursor: wait; }
  #status { color: #57606a; margin-left: 0.8rem; }
  #error { color: #b42318; background: #fef3f2; border: 1px solid #fecdca; border-radius: 0.4rem; padding: 0.5rem;
           margin-top: 0.8rem; }
  #result { margin-top: 1.2rem; border-top: 1px solid #d0d7de; padding-top: 0.6rem; }
  #headline { font-size: 1.15rem; margin: 0.3rem 0; }
  #label { font-weight: 700; }
  #probabilities { color: #57606a; font-size: 0.9rem; margin: 0 0 0.6rem; }
  #words { line-height: 2.1; }
  .word { padding: 0.12rem 0.22rem; border-radius: 0.25rem; }
  .unread { color: rgb(140, 140, 140); }
  .legend { color: #57606a; font-size: 0.85rem; }
  .swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 0.15rem; vertical-align: -0.1rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<h1>Which words decided?</h1>
<p class="hint">Paste a review, press <em>Explain</em> (or Ctrl+Enter): the model's label, its probability, and
each word's contribution to it (integrated gradients).</p>

<div id="chooser" hidden><label for="model">Model</label><select id="model"></select></div>
<p id="only-model" class="hint"></p>

<label for="review">Review</label>
<textarea id="review" placeholder="A wonderful, moving film. The acting was superb."></textarea>
<div><button id="explain" type="button" disabled>Explain</button><span id="status" role="status"></span></div>
<div id="error" role="alert" hidden></div>

<div id="result" hidden>
  <p id="headline"><span id="label"></span> <span id="probability"></span></p>
  <p id="probabilities"></p>
  <div id="words"></div>
  <p class="legend"><span class="swatch" id="swatch-toward"></span> toward the label
    <span class="swatch" id="swatch-against"></span> against it (the stronger, the larger);
    <span class="unread">grey</span>: not read by the model. Hover a word for its contribution.</p>
</div>

<script>
"use strict";
const COLOURS = /*COLOURS*/;
const $ = (id) => document.getElementById(id);
const rgba = (rgb, alpha) => `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha.toFixed(3)})`;
$("swatch-toward").style.background = rgba(COLOURS.toward, 0.75);
$("swatch-against").style.background = rgba(COLOURS.against, 0.75);

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch (error) {
    return { error: `the server answered ${response.status} ${response.statusText} without JSON` };
  }
}

async function loadModels() {
  try {
    const response = await fetch("v1/models");
    const body = await readJson(response);
    if (!response.ok) throw new Error(body.error || `status ${response.status}`);
    const models = body.models || [];
    if (!models.length) throw new Error("the server serves no model");
    for (const model of models) {
      const option = document.createElement("option");
      option.value = model.name;
      option.textContent = `${model.name} (${(model.classes || []).join(", ")})`;
      $("model").appendChild(option);
    }
    $("chooser").hidden = models.length < 2;
    $("only-model").textContent = models.length < 2 ? `Model: ${models[0].name}` : "";
    $("explain").disabled = false;
  } catch (error) {
    showError(`Cannot list the models: ${error.message}`);
    $("explain").disabled = true;
  }
}

function render(explanation) {
  $("label").textContent = explanation.label;
  $("probability").textContent = explanation.probability.toFixed(4);
  $("probability").dataset.value = String(explanation.probability);
  $("probabilities").textContent = Object.entries(explanation.probabilities)
    .map(([name, p]) => `${name} ${p.toFixed(4)}`).join(" · ");
  const largest = Math.max(0, ...explanation.contributions.map(Math.abs));
  const words = $("words");
  words.replaceChildren();
  explanation.words.forEach((word, index) => {
    const span = document.createElement("span");
    const value = explanation.contributions[index];
    const read = explanation.read ? explanation.read[index] : true;
    span.className = read ? "word" : "word unread";
    span.textContent = word;
    span.dataset.contribution = String(value);
    span.title = read ? (value >= 0 ? "+" : "") + value.toFixed(4) : "not read by the model";
    const share = largest > 0 ? value / largest : 0;
    if (read && share !== 0) {
      span.style.background = rgba(share > 0 ? COLOURS.toward : COLOURS.against, Math.min(Math.abs(share), 1) * 0.75);
    }
    words.append(span, " ");
  });
  if (!explanation.words.length) words.textContent = "(no words)";
  $("result").hidden = false;
}

async function explain() {
  const name = $("model").value;
  $("error").hidden = true;
  $("explain").disabled = true;
  $("status").textContent = "Explaining…";
  try {
    const response = await fetch(`v1/models/${encodeURIComponent(name)}:explain`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ instances: [$("review").value] }),
    });
    const body = await readJson(response);
    if (!response.ok) {
      $("result").hidden = true;
      showError(body.error || `the server answered ${response.status}`);
    } else {
      render(body.explanations[0]);
    }
  } catch (error) {
    showError(`Cannot reach the server: ${error.message}`);
  } finally {
    $("explain").disabled = false;
    $("status").textContent = "";
  }
}

$("explain").addEventListener("click", explain);
$("review").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) explain();
});
loadModels();
</script>
</body>
</html>
"""
