"""Explanations shown: each word coloured by its contribution, in a terminal, an HTML page or a PNG.

Green words pushed the review toward its label, red ones away from it; the stronger the colour, the larger
the contribution, relative to the review's largest (`strength`). Words the model did not read are grey
(HTML, PNG), dim (terminal) or in brackets (plain text). Without colour, each word carries its signed
contribution: `wonderful(+0.298)`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from imdb_rnn.evaluation.explain import Explanation

TOWARD, AGAINST = (22, 163, 74), (220, 38, 38)  # green, red (RGB)
UNREAD = (140, 140, 140)
# Terminal: 256-colour backgrounds from pale to strong, chosen by strength 0.1, 0.35, 0.65 and up.
TERMINAL_LEVELS = (0.1, 0.35, 0.65)
TERMINAL_TOWARD, TERMINAL_AGAINST = (194, 120, 40), (224, 210, 196)


def strength(explanation: Explanation) -> list[float]:
    """Each word's contribution divided by the largest in absolute value: `(words,)` in [-1, 1] (0s when none)."""
    largest = max((abs(value) for value in explanation.contributions), default=0.0)
    return [value / largest if largest > 0 else 0.0 for value in explanation.contributions]


def headline(explanation: Explanation) -> str:
    """`positive 0.9956` and the legend."""
    return (
        f"{explanation.label} {explanation.probability:.4f}  "
        f"(green: toward {explanation.label}; red: against; sum {sum(explanation.contributions):+.4f} "
        f"from {explanation.baseline_probability:.4f} with no words)"
    )


# Terminal ----------------------------------------------------------------------------------------


def terminal(explanation: Explanation, colour: bool, width: int = 100) -> str:
    """The headline, then the words wrapped at `width` columns: on ANSI backgrounds (`colour`), or each with
    its signed contribution and unread words in brackets."""
    pieces = []
    for word, value, share, read in zip(
        explanation.words, explanation.contributions, strength(explanation), explanation.read
    ):
        if not colour:
            pieces.append((f"{word}({value:+.3f})" if read else f"[{word}]",) * 2)
        elif not read:
            pieces.append((word, f"\x1b[2m{word}\x1b[0m"))
        else:
            level = sum(abs(share) >= bound for bound in TERMINAL_LEVELS)
            codes = (TERMINAL_TOWARD if share > 0 else TERMINAL_AGAINST)[level - 1] if level else None
            pieces.append((word, f"\x1b[30;48;5;{codes}m{word}\x1b[0m" if codes else word))
    lines, line, used = [], [], 0
    for visible, shown in pieces:
        if line and used + 1 + len(visible) > width:
            lines.append(" ".join(line))
            line, used = [], 0
        used += len(visible) + (1 if line else 0)
        line.append(shown)
    lines.append(" ".join(line))
    return "\n".join([headline(explanation), *lines])


# HTML --------------------------------------------------------------------------------------------


def css_colour(share: float, read: bool = True) -> str:
    """The background of a word of strength `share` in [-1, 1]: `rgba(r, g, b, a)`, transparent at 0."""
    if not read:
        return "transparent"
    red, green, blue = TOWARD if share > 0 else AGAINST
    return f"rgba({red}, {green}, {blue}, {min(abs(share), 1.0) * 0.75:.3f})"


def html_page(explanations: Sequence[Explanation], texts: Sequence[str], title: str) -> str:
    """A self-contained HTML page (no scripts, no external files): for each review its label, probability and
    words highlighted, each word's contribution in its tooltip."""
    sections = []
    for explanation, review in zip(explanations, texts):
        words = []
        for word, value, share, read in zip(
            explanation.words, explanation.contributions, strength(explanation), explanation.read
        ):
            tip = f"{value:+.4f}" if read else "not read by the model"
            style = f"background:{css_colour(share)}" if read else "color:#8c8c8c"
            words.append(f'<span class="word" style="{style}" title="{tip}">{html.escape(word)}</span>')
        sections.append(
            f'<section><p class="label">{html.escape(explanation.label)} '
            f'<span class="probability">{explanation.probability:.4f}</span></p>'
            f'<p class="words">{" ".join(words)}</p>'
            f'<details><summary>review as written</summary><p class="original">{html.escape(review)}</p></details>'
            "</section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }}
section {{ border-top: 1px solid #d0d7de; padding: 0.5rem 0; }}
.label {{ font-weight: 600; font-size: 1.1rem; }}
.words {{ line-height: 2; }}
.word {{ padding: 0.1rem 0.2rem; border-radius: 0.2rem; }}
.original {{ color: #57606a; white-space: pre-wrap; }}
</style></head>
<body><h1>{html.escape(title)}</h1>
<p>Each word's contribution to the label (integrated gradients): green toward it, red against it, stronger
for larger contributions; grey words were not read by the model. Hover a word for its contribution.</p>
{"".join(sections)}
</body></html>
"""


# PNG ---------------------------------------------------------------------------------------------


def write_png(explanations: Sequence[Explanation], file: BinaryIO | Path, width: int = 900, dpi: int = 100) -> None:
    """The explanations as one PNG `width` pixels wide (matplotlib's Figure API): each review's headline,
    then its words on coloured backgrounds, wrapped."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font, bold = FontProperties(size=12), FontProperties(size=12, weight="bold")
    measure = RendererAgg(width, 100, dpi)
    margin, gap, line_height = 16, 7, 24
    placed, y = [], margin  # (x, y, text, font, background) in pixels from the top left
    for explanation in explanations:
        placed.append((margin, y, f"{explanation.label} {explanation.probability:.4f}", bold, None))
        y += line_height + 4
        x = margin
        for word, share, read in zip(explanation.words, strength(explanation), explanation.read):
            word_width = measure.get_text_width_height_descent(word, font, ismath=False)[0]
            if x > margin and x + word_width > width - margin:
                x, y = margin, y + line_height
            background = _rgba(share) if read else None
            placed.append((x, y, word, font, background if read else "unread"))
            x += word_width + gap
        y += line_height + 12
    height = y + margin
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    for x, y, word, properties, background in placed:
        options = {"color": "#8c8c8c"} if background == "unread" else {}
        if background not in (None, "unread"):
            options["bbox"] = {"facecolor": background, "edgecolor": "none", "pad": 2.0}
        figure.text(
            x / width, 1 - y / height, word, fontproperties=properties, va="top", ha="left", parse_math=False, **options
        )
    figure.savefig(file, format="png", dpi=dpi, facecolor="white")


def _rgba(share: float) -> tuple[float, float, float, float]:
    red, green, blue = TOWARD if share > 0 else AGAINST
    return (red / 255, green / 255, blue / 255, min(abs(share), 1.0) * 0.75)
