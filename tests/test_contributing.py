"""CONTRIBUTING.md's architecture map matches the code: every path it names exists, and every
package folder under src/neuralab is named in it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "neuralab"


def _map() -> list[str]:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    return section.split("```")[1].splitlines()[1:]  # the tree, without its first line


def _named_paths() -> list[Path]:
    """Return every path the tree names: folders (``name/``) and modules (``name.py``).

    A line that starts with a folder opens it (its own modules are in it, as are those of the
    lines indented below it); other words ``name.py`` or ``name/`` are in the folder the line
    belongs to.
    """
    paths: list[Path] = []
    stack: list[tuple[int, Path]] = [(-1, PACKAGE)]  # (indentation, folder)
    for line in _map():
        words = line.split()
        if not words:
            continue
        indent = len(line) - len(line.lstrip())
        while stack[-1][0] >= indent:
            stack.pop()
        folder = stack[-1][1]
        if re.fullmatch(r"[a-z_]+/", words[0]):
            folder = folder / words[0].rstrip("/")
            stack.append((indent, folder))
            paths.append(folder)
            words = words[1:]
        for word in (w.strip(",()") for w in words):
            if re.fullmatch(r"[a-z_]+\.py", word):
                paths.append(folder / word)
            elif re.fullmatch(r"[a-z_]+/", word):
                paths.append(folder / word.rstrip("/"))
    return paths


def test_every_named_path_exists() -> None:
    missing = [str(p.relative_to(ROOT)) for p in _named_paths() if not p.exists()]
    assert not missing, f"CONTRIBUTING.md names paths that do not exist: {missing}"
    assert len(_named_paths()) > 60  # the map really was read


def test_every_package_folder_is_named() -> None:
    named = {p for p in _named_paths() if p.suffix == ""}
    folders = {
        p
        for p in PACKAGE.rglob("*")
        if p.is_dir() and (p / "__init__.py").exists() and p != PACKAGE
    }
    assert not folders - named, f"not in CONTRIBUTING.md's map: {sorted(folders - named)}"
