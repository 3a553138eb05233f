"""User-provided names (classes, runs, files) shown as the plain text they are.

Streamlit renders Markdown in st.markdown, captions, image captions, metric and expander labels,
radio options, alerts and progress text: a class folder named `![x](http://host/x.png)` would
make the browser fetch that image. `plain` escapes a name for those places; selectbox and
multiselect options, st.text, st.code and dataframes show text as is and need nothing. Plotly
reads a few HTML tags in its labels, so names go through `plot_text` there.
"""
from __future__ import annotations

import html
import re

_MARKDOWN = re.compile(r"([\\`*_\[\]<>$~|&])")  # inline syntax: emphasis, links, code, maths
_BLOCK_START = re.compile(r"^(\s*\d+|\s*)([.)]|(?<!\d)[#+\-=])")  # heading/list at the start
# Streamlit turns ":material/name:" and ":streamlit:" into icons even when the colons are
# escaped; a word joiner (invisible, zero width) after the colon stops that.
_ICON = re.compile(r":(?=material/|streamlit:)")


def plain(name: object) -> str:
    """`name` as literal text inside Streamlit Markdown."""
    escaped = _MARKDOWN.sub(r"\\\1", str(name).replace("\n", " "))
    escaped = _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return _ICON.sub(":\u2060", escaped)


def plot_text(name: object) -> str:
    """`name` as literal text in a plotly label, legend or hover text."""
    return html.escape(str(name), quote=False)


def sentence(message: object) -> str:
    """A core message ("accuracy at chance level: ...") as a line of its own: capitalised, and
    plain text like every other name it may hold."""
    text = str(message)
    return plain(text[:1].upper() + text[1:])


def noun(n: int, word: str, many: str | None = None) -> str:
    """word for one, its plural (word + "s" unless given) for any other count."""
    return word if n == 1 else (many or word + "s")


def count(n: int, word: str, many: str | None = None) -> str:
    """ "1 image", "2 images", "1,024 images"."""
    return f"{n:,} {noun(n, word, many)}"


NOISE = 1e-9  # relative to the scores' scale: below it a threshold is zero plus float noise


def number(value: float | None, scale: float = 1.0, digits: int = 4) -> str:
    """A threshold or score for people: `digits` significant digits, and float noise around
    zero (a TNR threshold of 5.551e-17 on scores up to 0.08) said as "just above 0"."""
    if value is None:
        return "n/a"
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        return "n/a" if v != v else str(v)
    if v != 0 and abs(v) < NOISE * max(abs(float(scale)), 1e-300):
        return "just above 0" if v > 0 else "just below 0"
    return f"{v:.{digits}g}"
