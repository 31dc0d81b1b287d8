"""Console examples in Markdown: find them, compare what they print, rewrite them.

A console example is a ``$ COMMAND`` line inside a fenced block (```` ```console ````, or any
fence whose first line starts with ``$ neuralab``), followed by the lines the command prints
(stdout, then stderr) up to the next ``$`` line or the end of the block. Two more forms keep an
output that is itself Markdown (``--format markdown``) readable on the page:

- a console block whose last command prints nothing inside it, followed by
  ``<!-- output -->`` ... ``<!-- end output -->``: the command's output is the text between;
- ``<!-- output of: neuralab ARGS -->`` ... ``<!-- end output -->``: the same, with the command
  in the comment.

In such a rendered output, blank lines and fence lines (```` ``` ````) only lay the text out on
the page and are ignored when comparing.

Comments on the lines just before a block (or before ``<!-- output of: -->``) mark it:

- ``<!-- slow -->``: run only in the slow suite (``pytest -m slow``);
- ``<!-- not run: WHY -->``: never run (downloads, interrupts, benchmarks), WHY says why.

Expected output may hold ``...``: a line that is only ``...`` stands for any number of lines,
``...`` inside a line for any text in that line. A line ``(exit code N)`` states the exit code;
without one it is 2 when the output holds a ``neuralab: error:`` line and 0 otherwise.

Before comparing, both sides are normalised so that only what the code computes is compared:
trailing spaces dropped; times masked (``12.3 s`` -> ``# s``, and the numbers in table columns
headed ``seconds``, ``train seconds``, ``images/s``, ``img/s``); the absolute path of the shared
data sets (``/any/where/shared/datasets/``) written as ``<shared>/datasets/``.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

TIMING_HEADERS = ("seconds", "train seconds", "images/s", "img/s")

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_MARKER = re.compile(r"^\s*<!--\s*(?P<body>.*?)\s*-->\s*$")
_EXIT_CODE = re.compile(r"^\(exit code (?P<code>\d+)\)$")
_INLINE_SECONDS = re.compile(r"(?<![\w.])\d+(?:\.\d+)? s\b")
_SHARED_PATH = re.compile(r"(?<![\w.])/[^\s:'\"]*/shared/datasets/")
_NUMBER = re.compile(r"^-?[\d,]+(?:\.\d+)?(?:e[-+]?\d+)?$")


@dataclass
class Example:
    """One command of a Markdown page and the output the page says it prints."""

    path: Path
    line: int  # 1-based line of the command in the page
    command: str  # what follows "$ "
    expected: list[str]  # the page's lines for the output (without the block's indentation)
    start: int  # 0-based index of the first output line in the page
    end: int  # 0-based index one past the last output line
    indent: str = ""  # indentation of the block (blocks inside list items)
    rendered: bool = False  # output rendered as Markdown outside the fence
    slow: bool = False
    not_run: str | None = None  # why it is never run
    markers: list[str] = field(default_factory=list)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command)

    @property
    def expected_exit_code(self) -> int:
        for line in self.expected:
            match = _EXIT_CODE.match(line.strip())
            if match:
                return int(match["code"])
        if any(line.strip().startswith("neuralab: error:") for line in self.expected):
            return 2
        return 0


class DocSyntaxError(ValueError):
    """A page's markers do not pair up (an output region without its end)."""


def _marker(line: str) -> str | None:
    match = _MARKER.match(line)
    return match["body"] if match else None


def _apply_markers(example: Example, markers: Sequence[str]) -> Example:
    for marker in markers:
        if marker == "slow":
            example.slow = True
        elif marker.startswith("not run:"):
            example.not_run = marker.removeprefix("not run:").strip()
        example.markers.append(marker)
    return example


def _region_end(lines: Sequence[str], start: int, path: Path) -> int:
    """Return the index of the ``<!-- end output -->`` line at or after ``start``."""
    for index in range(start, len(lines)):
        if _marker(lines[index]) == "end output":
            return index
    raise DocSyntaxError(f"{path}:{start}: <!-- output --> without <!-- end output -->")


def _split_commands(content: list[str], first: int) -> list[tuple[int, str, int, int]]:
    """Return (command line index, command, output start, output end) for a block's lines."""
    commands: list[tuple[int, str, int, int]] = []
    index = 0
    while index < len(content):
        line = content[index]
        if not line.startswith("$ "):
            index += 1
            continue
        line_index = first + index
        command = line[2:]
        while command.endswith("\\") and index + 1 < len(content):
            index += 1
            command = command[:-1] + " " + content[index].strip()
        index += 1
        output_start = index
        while index < len(content) and not content[index].startswith("$ "):
            index += 1
        commands.append((line_index, command.strip(), first + output_start, first + index))
    return commands


def _is_console(info: str, content: list[str]) -> bool:
    if info == "console":
        return True
    first = next((line for line in content if line.strip()), "")
    return first.startswith("$ neuralab")


def parse_examples(text: str, path: Path) -> list[Example]:
    """Return the console examples of a Markdown page, in page order."""
    lines = text.splitlines()
    examples: list[Example] = []
    markers: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        body = _marker(line)
        if body is not None and body.startswith("output of:"):
            end = _region_end(lines, index + 1, path)
            example = Example(
                path=path,
                line=index + 1,
                command=body.removeprefix("output of:").strip(),
                expected=lines[index + 1 : end],
                start=index + 1,
                end=end,
                rendered=True,
            )
            examples.append(_apply_markers(example, markers))
            markers = []
            index = end + 1
            continue
        if body is not None:
            markers.append(body)
            index += 1
            continue
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip():
                markers = []
            index += 1
            continue
        indent, mark = fence["indent"], fence["fence"]
        close = index + 1
        while close < len(lines) and not (
            lines[close].strip().startswith(mark) and not lines[close].strip().strip(mark[0])
        ):
            close += 1
        content = [
            raw[len(indent) :] if raw.startswith(indent) else raw.lstrip()
            for raw in lines[index + 1 : close]
        ]
        if _is_console(fence["info"], content):
            first = index + 1  # page index of content[0]
            block = [
                Example(
                    path, at + 1, command, content[start - first : end - first], start, end, indent
                )
                for at, command, start, end in _split_commands(content, first)
            ]
            after = close + 1
            while after < len(lines) and not lines[after].strip():
                after += 1
            if block and after < len(lines) and _marker(lines[after]) == "output":
                last = block[-1]
                if last.start != last.end:
                    raise DocSyntaxError(
                        f"{last.location}: <!-- output --> follows a command that has output in its block"
                    )
                end = _region_end(lines, after + 1, path)
                last.expected, last.start, last.end = lines[after + 1 : end], after + 1, end
                last.rendered, last.indent = True, ""
                close = end
            examples.extend(_apply_markers(example, markers) for example in block)
        markers = []
        index = close + 1
    return examples


# -- normalising and comparing ------------------------------------------------------------------


def _mask_markdown_timing(lines: list[str]) -> list[str]:
    masked: list[str] = []
    columns: list[int] = []
    for index, line in enumerate(lines):
        if not line.startswith("|"):
            columns = []
            masked.append(line)
            continue
        cells = line.split("|")
        if set(line) <= set("|-: "):
            # a separator row: the row above is a header, also where two rendered tables touch
            # (blank lines between them are dropped before masking)
            header = [cell.strip() for cell in lines[index - 1].split("|")] if index else []
            columns = [i for i, name in enumerate(header) if name in TIMING_HEADERS]
            masked.append(line)
            continue
        for column in columns:
            if column < len(cells) and _NUMBER.match(cells[column].strip()):
                cells[column] = " # "
        masked.append("|".join(cells))
    return masked


def _mask_text_table_timing(lines: list[str]) -> list[str]:
    """Mask numbers right-aligned under a timing header of a whitespace-aligned table."""
    masked: list[str] = []
    spans: list[tuple[int, int]] = []
    for line in lines:
        tokens = line.split()
        if spans and tokens and (tokens[0].isdigit() or line.strip() == "..."):
            for start, end in spans:
                for token in re.finditer(r"\S+", line):
                    if token.start() < end and token.end() > start and _NUMBER.match(token[0]):
                        line = (
                            line[: token.start()] + "#".rjust(len(token[0])) + line[token.end() :]
                        )
            masked.append(line)
            continue
        spans = []
        if tokens and not line.lstrip().startswith(("|", "│", "┃")):
            for name in TIMING_HEADERS:
                for found in re.finditer(rf"(?<!\S){re.escape(name)}(?!\S)", line):
                    if len(tokens) > 2:
                        spans.append(found.span())
        masked.append(line)
    return masked


def normalise(lines: Sequence[str], rendered: bool = False) -> list[str]:
    """Return ``lines`` as compared: see the module docstring for each rule."""
    out = [line.rstrip() for line in lines]
    out = [line for line in out if not _EXIT_CODE.match(line.strip())]
    if rendered:
        out = [line for line in out if line.strip() and not _FENCE.match(line)]
    out = [_SHARED_PATH.sub("<shared>/datasets/", line) for line in out]
    out = [_INLINE_SECONDS.sub("# s", line) for line in out]
    out = _mask_text_table_timing(_mask_markdown_timing(out))
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return out


def _pattern(expected: Sequence[str]) -> re.Pattern[str]:
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(piece) for piece in line.split("...")) + r"\n")
    return re.compile("".join(parts))


def has_wildcards(expected: Sequence[str], actual: Sequence[str] = ()) -> bool:
    """Return whether ``expected`` uses ``...`` as a wildcard (not as text ``actual`` prints too)."""
    printed = set(actual)
    return any("..." in line and line not in printed for line in expected)


def output_matches(expected: Sequence[str], actual: Sequence[str]) -> bool:
    """Return whether normalised ``actual`` lines match normalised ``expected`` (with ``...``)."""
    if list(expected) == list(actual):
        return True
    if not has_wildcards(expected):
        return False
    text = "".join(line + "\n" for line in actual)
    return _pattern(expected).fullmatch(text) is not None


def unified_diff(expected: Sequence[str], actual: Sequence[str], where: str) -> str:
    """Return a unified diff from the page's output to the printed one."""
    return "\n".join(
        difflib.unified_diff(
            list(expected),
            list(actual),
            fromfile=f"{where} (in the page)",
            tofile="printed",
            lineterm="",
        )
    )


# -- rewriting ----------------------------------------------------------------------------------


def _render_region(actual: Sequence[str], fenced: bool) -> list[str]:
    """Lay out a Markdown output on the page: tables as they are, other text fenced or plain."""
    blocks: list[tuple[bool, list[str]]] = []  # (is table, lines), split at blank lines
    for line in actual:
        is_table = line.startswith("|")
        if not line.strip():
            blocks.append((False, []))
        elif blocks and blocks[-1][0] == is_table and blocks[-1][1]:
            blocks[-1][1].append(line)
        else:
            blocks.append((is_table, [line]))
    region: list[str] = [""]
    for is_table, block in blocks:
        if not block:
            continue
        if fenced and not is_table:
            block = ["```", *(line.rstrip() for line in block), "```"]
        region.extend([*block, ""])
    return region


def rewrite(text: str, updates: Sequence[tuple[Example, Sequence[str]]]) -> str:
    """Return the page ``text`` with each example's output replaced by the printed lines."""
    lines = text.splitlines()
    for example, actual in sorted(updates, key=lambda item: item[0].start, reverse=True):
        if example.rendered:
            fenced = any(_FENCE.match(line) for line in example.expected)
            new = _render_region(actual, fenced)
        else:
            new = [f"{example.indent}{line}".rstrip() for line in actual]
        lines[example.start : example.end] = new
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")
