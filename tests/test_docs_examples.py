"""Every console example in README.md, docs/*.md and docs/course/*.md runs, and prints what the page shows.

The rules (what counts as an example, markers, ``...``, normalisation) are in
``tests/doc_examples.py``. Each page's examples run in order in one temporary directory, so
later examples can use what earlier ones wrote; an example that reads ``../shared`` runs alone
(and skips when the shared data sets are absent); ``<!-- not run: WHY -->`` examples are
reported as skipped with their reason. Commands run in this process through
``neuralab.cli.main``, 120 columns wide, without colour, on the CPU with one torch thread, and
with the clock of default run names stopped at 2026-11-23 13:18:14.

``pytest tests/test_docs_examples.py --update-docs`` writes what the commands print back into
the pages (``-m slow`` as well for the slow examples); see CONTRIBUTING.md.
"""

from __future__ import annotations

import datetime
import fcntl
import functools
import io
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from conftest import SHARED, SHARED_DATASETS
from doc_examples import (
    DocSyntaxError,
    Example,
    has_wildcards,
    normalise,
    output_matches,
    parse_examples,
    rewrite,
    unified_diff,
)

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "docs" / "course").glob("*.md")),  # the course companion
]
FROZEN_NOW = datetime.datetime(2026, 11, 23, 13, 18, 14)
DOC_WORK_DIR = "/home/student/nn"  # the examples' working directory, as the pages show it
DOC_CHECKOUT = "/home/student/neuralab"  # this checkout, as the pages show it


def _page_name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


PARSE_ERRORS: dict[str, str] = {}


def _examples(page: Path) -> list[Example]:
    try:
        return parse_examples(page.read_text(encoding="utf-8"), Path(_page_name(page)))
    except DocSyntaxError as error:  # reported by test_every_page_parses, not at collection
        PARSE_ERRORS[_page_name(page)] = str(error)
        return []


def _needs_shared(example: Example) -> bool:
    return "../shared/" in example.command


def _in_page_run(example: Example) -> bool:
    return example.not_run is None and not _needs_shared(example)


ALL = {page: _examples(page) for page in PAGES}
FAST_PAGES = [p for p in PAGES if any(_in_page_run(e) and not e.slow for e in ALL[p])]
SLOW_PAGES = [p for p in PAGES if any(_in_page_run(e) and e.slow for e in ALL[p])]
ALONE = [e for p in PAGES for e in ALL[p] if not _in_page_run(e)]


# -- files some pages' examples read ------------------------------------------------------------


def _bad_npz(folder: Path) -> None:
    """The archive docs/vision-data.md shows being refused: y_test is missing."""
    import numpy as np

    images = np.zeros((4, 8, 8, 1), dtype=np.uint8)
    np.savez(folder / "bad.npz", x_train=images, y_train=np.arange(4) % 2, x_test=images)


def _digit_images(folder: Path) -> None:
    """digit-0.png and digit-1.png for `neuralab predict`: the first two of scikit-learn's digits."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for index in (0, 1):
        pixels = (digits.images[index] * 255 / 16).round().astype("uint8")
        Image.fromarray(pixels, mode="L").save(folder / f"digit-{index}.png")


PAGE_FILES: dict[str, Callable[[Path], None]] = {
    "docs/vision-data.md": _bad_npz,
    "docs/vision-training.md": _digit_images,
}


# -- running ------------------------------------------------------------------------------------


class _FrozenDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> _FrozenDatetime:
        return cls.fromtimestamp(FROZEN_NOW.timestamp(), tz)


@pytest.fixture
def doc_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory beside a ``shared`` link, and a terminal the examples were made in."""
    import torch

    import neuralab.rundir

    work = tmp_path / "work"
    work.mkdir()
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED.resolve(), target_is_directory=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NEURALAB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(neuralab.rundir, "_dt", types.SimpleNamespace(datetime=_FrozenDatetime))
    # the pages show CPU runs ("... on cpu"): on a machine with a GPU, --device auto stays there
    # (wraps: torch._dynamo, imported lazily, looks for the original through __wrapped__)
    for backend in (torch.cuda, torch.backends.mps):
        unavailable = functools.wraps(backend.is_available)(lambda: False)
        monkeypatch.setattr(backend, "is_available", unavailable)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield work
    finally:
        torch.set_num_threads(threads)


def run_example(example: Example) -> tuple[int, list[str]]:
    """Run the example's command in this process; return its exit code and printed lines."""
    from neuralab.cli import main

    argv = example.argv
    if argv[0] != "neuralab":
        pytest.fail(
            f"{example.location}: only neuralab commands run here; "
            f"mark the block <!-- not run: WHY --> to show {argv[0]!r}"
        )
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv[1:])
    printed = out.getvalue() + err.getvalue()
    # absolute paths (a Slurm script names them) as a reader's machine would show them
    printed = printed.replace(str(Path.cwd()), DOC_WORK_DIR).replace(str(ROOT), DOC_CHECKOUT)
    return code, printed.splitlines()


def check(example: Example) -> tuple[str | None, list[str]]:
    """Run one example; return a failure message (or None) and its printed lines."""
    code, printed = run_example(example)
    expected = normalise(example.expected, example.rendered)
    actual = normalise(printed, example.rendered)
    problems = []
    if not output_matches(expected, actual):
        problems.append(unified_diff(expected, actual, example.location))
    if code != example.expected_exit_code:
        problems.append(f"exit code {code}, the page expects {example.expected_exit_code}")
    if not problems:
        return None, printed
    return f"{example.location}: $ {example.command}\n" + "\n".join(problems), printed


@contextmanager
def _locked(page: Path) -> Iterator[None]:
    with open(page, encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _update(page: Path, results: dict[int, list[str]]) -> list[str]:
    """Write printed outputs (by example index) into ``page``; return what could not be written."""
    refused = []
    with _locked(page):  # xdist workers may update the same page
        text = page.read_text(encoding="utf-8")
        current = parse_examples(text, Path(_page_name(page)))
        updates = []
        for index, printed in results.items():
            example = current[index]
            expected = normalise(example.expected, example.rendered)
            if has_wildcards(expected, normalise(printed, example.rendered)):
                refused.append(f"{example.location}: holds '...': edit it by hand")
            else:
                updates.append((example, printed))
        page.write_text(rewrite(text, updates), encoding="utf-8")
    return refused


def _run_and_report(
    page: Path, indices: list[int], request: pytest.FixtureRequest, *, setup: bool = True
) -> None:
    examples = ALL[page]
    if setup and _page_name(page) in PAGE_FILES:
        PAGE_FILES[_page_name(page)](Path.cwd())
    failures: list[str] = []
    stale: dict[int, list[str]] = {}
    for index in indices:
        message, printed = check(examples[index])
        if message is not None:
            failures.append(message)
            stale[index] = printed
    if stale and request.config.getoption("--update-docs"):
        refused = _update(page, stale)
        if refused:
            pytest.fail("\n".join(refused))
        pytest.skip(f"rewrote {len(stale)} example(s) in {_page_name(page)}: review the diff")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


@pytest.mark.parametrize("page", FAST_PAGES, ids=_page_name)
def test_page_examples(page: Path, doc_env: Path, request: pytest.FixtureRequest) -> None:
    """The page's examples (all but slow, shared-data and not-run ones) print what it shows."""
    examples = ALL[page]
    run = [i for i, e in enumerate(examples) if _in_page_run(e) and not e.slow]
    _run_and_report(page, run, request)


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW_PAGES, ids=_page_name)
def test_page_examples_slow(page: Path, doc_env: Path, request: pytest.FixtureRequest) -> None:
    """The same, with the page's slow examples, all in page order."""
    examples = ALL[page]
    run = [i for i, e in enumerate(examples) if _in_page_run(e)]
    _run_and_report(page, run, request)


def _alone_id(example: Example) -> str:
    return example.location


def _alone_marks(example: Example) -> list[pytest.MarkDecorator]:
    return [pytest.mark.slow] if example.slow else []


@pytest.mark.parametrize(
    "example", [pytest.param(e, marks=_alone_marks(e), id=_alone_id(e)) for e in ALONE]
)
def test_example_alone(example: Example, doc_env: Path, request: pytest.FixtureRequest) -> None:
    """Examples on the shared data run alone; those marked not run say why."""
    if example.not_run is not None:
        pytest.skip(f"not run: {example.not_run}")
    if not SHARED_DATASETS.is_dir():
        pytest.skip(
            f"{SHARED_DATASETS} is absent: the shared real data sets sit beside the checkout only"
        )
    page = ROOT / example.path
    _run_and_report(page, [ALL[page].index(example)], request, setup=False)


def test_every_page_parses_and_every_command_is_neuralab() -> None:
    """Markers pair up, and a block of another program is marked not run (with a reason)."""
    assert PARSE_ERRORS == {}
    for page in PAGES:
        for example in ALL[page]:
            assert example.argv, f"{example.location}: empty command"
            if example.argv[0] != "neuralab":
                assert example.not_run, f"{example.location}: needs <!-- not run: WHY -->"


def test_no_command_line_is_missed() -> None:
    """Every "$ neuralab" line of a page belongs to a collected example (none hides in a block
    the collector does not read as a console block)."""
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        commands = [n + 1 for n, line in enumerate(lines) if line.lstrip().startswith("$ ")]
        collected = [e.line for e in ALL[page] if not lines[e.line - 1].lstrip().startswith("<!--")]
        assert commands == collected, _page_name(page)


# -- the collector itself -----------------------------------------------------------------------

PAGE = """\
# A page

```console
$ neuralab one --x
first line
  indented line
$ neuralab two
neuralab: error: bad value
```

<!-- slow -->
```
$ neuralab three
```
<!-- output -->

| a | seconds |
| --- | ---: |
| 1 | 12.5 |

```
took 3.2 s
```

<!-- end output -->

  <!-- not run: needs internet -->
  ```console
  $ neuralab four \\
      --y
  ...
  (exit code 3)
  ```

<!-- output of: neuralab five -->
| b |
<!-- end output -->
"""


def test_collector_reads_every_form() -> None:
    one, two, three, four, five = parse_examples(PAGE, Path("page.md"))
    assert (one.line, one.argv, one.expected) == (
        4,
        ["neuralab", "one", "--x"],
        ["first line", "  indented line"],
    )
    assert (two.expected_exit_code, one.expected_exit_code) == (2, 0)
    assert three.slow and three.rendered and not one.slow
    assert normalise(three.expected, rendered=True) == [
        "| a | seconds |",
        "| --- | ---: |",
        "| 1 | # |",
        "took # s",
    ]
    assert four.argv == ["neuralab", "four", "--y"] and four.not_run == "needs internet"
    assert (four.expected, four.expected_exit_code, four.indent) == (
        ["...", "(exit code 3)"],
        3,
        "  ",
    )
    assert (five.command, five.rendered, normalise(five.expected, rendered=True)) == (
        "neuralab five",
        True,
        ["| b |"],
    )


def test_collector_compares_with_wildcards_and_masks() -> None:
    assert output_matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert output_matches(["a", "...", "z"], ["a", "z"])
    assert not output_matches(["a", "...", "z"], ["a", "b"])
    assert output_matches(
        ["error: unknown 'x' (valid: a, b, ...)"], ["error: unknown 'x' (valid: a, b, c, d)"]
    )
    assert not output_matches(["value 1.5"], ["value 1.6"])  # numbers are compared...
    table = ["epoch  loss  seconds", "    1  0.50      1.4", "    2  0.25     12.9"]
    later = ["epoch  loss  seconds", "    1  0.50      2.0", "    2  0.25      9.9"]
    assert normalise(table) == normalise(later)  # ...except times
    assert normalise(["npz:/a/b/shared/datasets/x.npz"]) == normalise(
        ["npz:/c/shared/datasets/x.npz"]
    )
    assert normalise(["loss 0.25 in 5 seeds"]) == ["loss 0.25 in 5 seeds"]


def test_collector_rewrites_only_the_outputs() -> None:
    one, two, three, four, five = parse_examples(PAGE, Path("page.md"))
    text = rewrite(
        PAGE, [(one, ["new"]), (three, ["| a |", "| - |", "| 2 |", "took 1 s"]), (four, ["x"])]
    )
    again = parse_examples(text, Path("page.md"))
    assert [e.expected for e in again[:2]] == [["new"], two.expected]
    assert normalise(again[2].expected, rendered=True) == ["| a |", "| - |", "| 2 |", "took # s"]
    assert "```\ntook 1 s\n```" in text  # the fenced layout kept
    assert again[3].expected == ["x"] and "\n  x\n" in text  # and the indentation
    assert text.count("<!--") == PAGE.count("<!--")
