"""The course's claim table (docs/course/README.md) is backed by commands and their real output.

Every row names a command that is an example of the page section it links to, and quotes, as
evidence for its verdict, fragments of that example's output as the page shows it: the page's
outputs are compared with what the commands print by tests/test_docs_examples.py (timing
columns masked, so a quoted time does not count as evidence). The known-mistakes table has the
issue's eight rows, each pointing at a claim (stated as the mistake states it) whose verdict
from the output is that it does not hold, holds only in part of the cases, or is shown in part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from doc_examples import Example, normalise, parse_examples

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"
INDEX = COURSE / "README.md"
CLAIMS_HEADING = "## The course's claims, each computed"
MISTAKES_HEADING = "## The known mistakes, and the output that shows each"
VERDICTS = ("holds", "does NOT hold", "holds only", "shown in part", "not measured")
# verdicts of a claim stated as the course's mistake states it: the output shows it wrong
WRONG = ("does NOT hold", "holds only", "shown in part")
_LINK = re.compile(r"\[`(?P<command>neuralab [^`]+)`\]\((?P<page>[^)#]+)#(?P<anchor>[^)]+)\)")
_CODE = re.compile(r"`((?:[^`\\]|\\.)+)`")
_HEADING = re.compile(r"^(?P<hashes>#{1,6}) (?P<title>.+)$")


@dataclass
class Claim:
    number: int
    text: str
    command: str
    page: Path
    anchor: str
    verdict: str
    evidence: list[str]


def _cells(line: str) -> list[str]:
    """Return the cells of a Markdown table row (``\\|`` inside a cell is not a separator)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _table(text: str, heading: str) -> list[list[str]]:
    """Return the body rows of the first table under ``heading``."""
    lines = text.splitlines()
    start = lines.index(heading)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append(_cells(line))
        elif rows:
            break
    return rows[2:]  # without the header and the --- row


def slug(title: str) -> str:
    """Return GitHub's anchor for a heading: lower case, punctuation dropped, spaces as -."""
    title = re.sub(r"`", "", title.strip().lower())
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def section(page: Path, anchor: str) -> tuple[int, int]:
    """Return the 1-based lines (first, last) of the section whose heading has ``anchor``."""
    lines = page.read_text(encoding="utf-8").splitlines()
    headings = [(n + 1, m) for n, line in enumerate(lines) if (m := _HEADING.match(line))]
    for index, (line, match) in enumerate(headings):
        if slug(match["title"]) == anchor:
            level = len(match["hashes"])
            later = [n for n, m in headings[index + 1 :] if len(m["hashes"]) <= level]
            return line, (later[0] - 1 if later else len(lines))
    raise AssertionError(f"{page.name} has no heading #{anchor}")


def claims() -> list[Claim]:
    found = []
    for cells in _table(INDEX.read_text(encoding="utf-8"), CLAIMS_HEADING):
        assert len(cells) == 5, cells
        number, text, command, verdict, evidence = cells
        link = _LINK.fullmatch(command)
        assert link, f"claim {number}: the command cell must be [`neuralab ...`](page.md#anchor)"
        found.append(
            Claim(
                int(number),
                text,
                link["command"],
                (COURSE / link["page"]).resolve(),
                link["anchor"],
                verdict,
                [fragment.replace("\\|", "|") for fragment in _CODE.findall(evidence)],
            )
        )
    return found


def _example(claim: Claim) -> Example:
    first, last = section(claim.page, claim.anchor)
    examples = parse_examples(claim.page.read_text(encoding="utf-8"), claim.page)
    matching = [e for e in examples if first <= e.line <= last and e.command == claim.command]
    assert matching, f"claim {claim.number}: `{claim.command}` is not run in that section"
    return matching[0]


def test_claims_are_numbered_and_have_a_verdict() -> None:
    found = claims()
    assert [c.number for c in found] == list(range(1, len(found) + 1))
    assert len(found) >= 27  # the issue counted 27 computable claims
    for claim in found:
        assert claim.verdict.startswith(VERDICTS), f"claim {claim.number}: {claim.verdict}"


def test_every_claim_comes_from_a_command_and_quotes_its_output() -> None:
    for claim in claims():
        example = _example(claim)
        if example.not_run is not None:
            # not rerun by the tests: the verdict says so, and quotes the measured report the
            # section shows (or, not measured at all, quotes nothing)
            if claim.verdict.startswith("not measured"):
                assert not claim.evidence, claim.number
                continue
            assert "measured once, not rerun by the tests" in claim.verdict, claim.number
            first, last = section(claim.page, claim.anchor)
            lines = claim.page.read_text(encoding="utf-8").splitlines()[first - 1 : last]
            for fragment in claim.evidence:
                assert fragment in "\n".join(lines), f"claim {claim.number}: {fragment!r}"
            assert claim.evidence, claim.number
            continue
        assert claim.evidence, f"claim {claim.number}: quote the output that gives the verdict"
        if any("NOT" in fragment for fragment in claim.evidence):
            # an output that says NOT cannot back a plain "holds"
            assert claim.verdict.startswith(WRONG), f"claim {claim.number}: {claim.verdict}"
        shown = "\n".join(normalise(example.expected, example.rendered))
        for fragment in claim.evidence:
            assert fragment in shown, f"claim {claim.number}: {fragment!r} is not in the output"


def test_eight_known_mistakes_each_shown_by_claims_that_do_not_simply_hold() -> None:
    by_number = {c.number: c for c in claims()}
    rows = _table(INDEX.read_text(encoding="utf-8"), MISTAKES_HEADING)
    assert len(rows) == 8  # the eight
    for mistake, shown_by in rows:
        numbers = [int(n) for n in re.findall(r"claim (\d+)", shown_by)]
        assert numbers, f"{mistake}: name the claims that show it"
        verdicts = [by_number[n].verdict for n in numbers]
        # the output contradicts the mistaken statement (or, said so, only in part)
        assert any(v.startswith(WRONG) for v in verdicts), f"{mistake}: {verdicts}"


def test_the_slug_is_githubs() -> None:
    assert slug("Batch GD vs SGD vs mini-batch") == "batch-gd-vs-sgd-vs-mini-batch"
    assert (
        slug("Dropout at the course's size, measured once on the shared MNIST data")
        == "dropout-at-the-courses-size-measured-once-on-the-shared-mnist-data"
    )
    assert slug("Stride and padding: 20 filters 5x5, stride 2, padding 1 on 28x28?") == (
        "stride-and-padding-20-filters-5x5-stride-2-padding-1-on-28x28"
    )
