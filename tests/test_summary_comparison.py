"""docs/arch-summary.md's comparison with torchinfo is the output of tests/summary_comparison.py.

Slow (resnet18 and mobilenet_v2 at 224x224 through both libraries): run with ``-m slow``;
``--update-docs -m slow`` rewrites the table between its markers after an intended change.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "arch-summary.md"
START, END = "<!-- torchinfo comparison -->\n", "<!-- end torchinfo comparison -->"


@pytest.mark.slow
def test_the_page_shows_the_computed_comparison(request: pytest.FixtureRequest) -> None:
    pytest.importorskip("torchinfo", reason="torchinfo not installed (pip install torchinfo)")
    from summary_comparison import comparison_markdown

    text = PAGE.read_text(encoding="utf-8")
    before, _, rest = text.partition(START)
    shown, _, after = rest.partition(END)
    assert rest and after is not None, f"{PAGE} lacks the markers {START.strip()} / {END}"
    computed = "\n" + comparison_markdown() + "\n"
    if request.config.getoption("--update-docs"):
        if shown != computed:
            PAGE.write_text(before + START + computed + END + after, encoding="utf-8")
            pytest.skip(f"rewrote the comparison in {PAGE.name}: review the diff")
        return
    if shown != computed:
        diff = difflib.unified_diff(shown.splitlines(), computed.splitlines(), "page", "computed")
        pytest.fail("\n".join(diff), pytrace=False)
