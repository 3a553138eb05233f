"""User-provided names reach the pages as text: Markdown syntax in them is escaped, so it shows
literally (the browser test checks the rendering; this checks the escaping itself)."""
from __future__ import annotations

import re

import pytest

from dashboard.text import plain, plot_text

# (name, what Streamlit's Markdown receives)
CASES = [
    ("![x](http://127.0.0.1:9/x.png)", r"!\[x\](http://127.0.0.1:9/x.png)"),
    ("**bold**", r"\*\*bold\*\*"),
    ("a_b_c", r"a\_b\_c"),
    ("`code` $x^2$ ~~s~~ <b>", r"\`code\` \$x^2\$ \~\~s\~\~ \<b\>"),
    ("[l](javascript:x) | &amp;", r"\[l\](javascript:x) \| \&amp;"),
    ("# heading", r"\# heading"),
    ("- item", r"\- item"),
    ("12. item", r"12\. item"),
    ("20261202-021433-257aa8", "20261202-021433-257aa8"),
    ("two\nlines", "two lines"),
    ("plain name 3", "plain name 3"),
]


@pytest.mark.parametrize(("name", "escaped"), CASES)
def test_plain_escapes_markdown(name: str, escaped: str) -> None:
    assert plain(name) == escaped
    # Removing the escapes gives the name back: nothing else is changed.
    assert re.sub(r"\\(.)", r"\1", plain(name)) == name.replace("\n", " ")


def test_icon_shortcodes_are_broken_up() -> None:
    # Streamlit draws ":material/home:" as an icon even with escaped colons.
    assert plain(":material/home:") == ":\u2060material/home:"
    assert ":material/" not in plain("x :material/home: y")


def test_plot_text_escapes_html() -> None:
    assert plot_text("<b>bold</b> & <a href='x'>") == "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href='x'&gt;"
