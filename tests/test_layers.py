"""The import graph of src/neuralab: layers point one way, no cycles, no backend switching.

(And one rule of size beside them: no module over 400 lines.)

Every ``import`` statement of every module is read with ``ast``: at module level, inside
functions and under ``if TYPE_CHECKING:``. Type-only imports make no runtime edge, but they count
for the layers all the same: a type-only dependency on a higher layer is still a dependency, and
one rule without exceptions is easier to keep. They do not count for cycles, where they are the
standard way to break one (only module-level runtime imports can deadlock an import).

The layers, top to bottom (DESIGN.md):

    cli, web, the package root (its lazy loader names every public function)
    studies, cluster
    vision, playground
    arch, theory
    kernel: errors, registry, config, rundir, atomic, paths, limits, device, console

A module may import its own layer and the ones below. ``report`` renders results of any layer:
it may import every layer but cli, web and the root, and every layer above arch and theory may
import it; arch, theory and the kernel never do.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "neuralab"

KERNEL = (
    "errors",
    "registry",
    "config",
    "rundir",
    "atomic",
    "paths",
    "limits",
    "device",
    "console",
)
RANK = {
    "kernel": 0,
    "arch": 1,
    "theory": 1,
    "vision": 2,
    "playground": 2,
    "studies": 3,
    "cluster": 3,
    "cli": 4,
    "web": 4,
    "root": 4,
}
NO_REPORT = ("kernel", "arch", "theory")  # report sits above these, beside the rest
NO_MATPLOTLIB = ("kernel", "arch", "theory")  # figures are drawn in report/
TORCH_FREE = ("neuralab.arch.shapes", "neuralab.arch.receptive")  # integers in, integers out

# Known violations left for later, each as (module, what) with "what" as the failure messages
# write it: ("neuralab.studies.curves", "matplotlib.use("). Empty now: keep it so. A fixed entry
# must be removed (the test fails on an allowance that nothing needs any more).
ALLOWED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    """One imported module, as written at one line of one module."""

    module: str  # the importing module, e.g. "neuralab.arch.summary"
    path: Path
    line: int
    target: str  # the imported module, resolved: "neuralab.arch.shapes", "torch.nn"
    top_level: bool  # executed when the module is imported (not inside a function)
    type_only: bool  # under ``if TYPE_CHECKING:``

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(SRC.parent)}:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """Return the absolute module of ``from ... import`` (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: str) -> list[Import]:
    """Return every import of ``module``, wherever it is written."""
    path = modules()[module]
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, path, node.lineno, alias.name, top_level, type_only))
            return
        if isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, path.name == "__init__.py")
            targets = []
            for alias in node.names:
                # ``from pkg import sub`` imports the module pkg.sub when there is one
                sub = f"{base}.{alias.name}"
                target = sub if sub in modules() or sub == "matplotlib.pyplot" else base
                if target not in targets:
                    targets.append(target)
            for target in targets:
                found.append(Import(module, path, node.lineno, target, top_level, type_only))
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, top_level, True)
            for child in node.orelse:
                visit(child, top_level, type_only)
            return
        nested = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, top_level and not nested, type_only)

    visit(tree(path), True, False)
    return found


def layer(module: str) -> str:
    """Return the layer of a neuralab module (``"root"`` for the package and ``__main__``)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return "root"
    if parts[1] in KERNEL:
        return "kernel"
    return parts[1]


def layer_problem(edge: Import) -> str | None:
    """Return why ``edge`` breaks the layer table, or None when it may exist."""
    source, target = layer(edge.module), layer(edge.target)
    for name in (source, target):
        if name not in RANK and name != "report":
            return f"layer {name!r} is not in the layer table of tests/test_layers.py"
    if source == target:
        return None
    if target == "report":
        return f"{source} imports report" if source in NO_REPORT else None
    if source == "report":
        return "report imports a layer above it" if target in ("cli", "web", "root") else None
    if RANK[target] > RANK[source]:
        return f"{source} (layer {RANK[source]}) imports {target} (layer {RANK[target]})"
    return None


def all_imports() -> list[Import]:
    return [edge for module in modules() for edge in imports_of(module)]


def neuralab_imports() -> list[Import]:
    return [e for e in all_imports() if e.target == "neuralab" or e.target.startswith("neuralab.")]


def _allowed(found: list[tuple[str, str, str]]) -> list[str]:
    """Return the messages of ``found`` (module, what, message) not in ALLOWED."""
    return [message for module, what, message in found if (module, what) not in ALLOWED]


def test_every_module_is_read():
    # the walk sees the whole package: a broken path would make every check below vacuous
    names = modules()
    assert {"neuralab", "neuralab.arch.summary", "neuralab.report.tabular"} <= set(names)
    assert len(names) > 60
    edges = neuralab_imports()
    assert any(e.module == "neuralab.arch.summary" and not e.top_level for e in edges)


def test_layers_point_one_way():
    problems = [
        f"{edge.where}: {edge.module} -> {edge.target}: {problem}"
        for edge in neuralab_imports()
        if (problem := layer_problem(edge))
    ]
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def _is_backend_switch(node: ast.AST) -> bool:
    """Return whether ``node`` is a call ``matplotlib.use(...)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "use"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "matplotlib"
    )


def plotting_violations() -> list[tuple[str, str, str]]:
    """Return (module, what, message) for each matplotlib import below report/, pyplot, use()."""
    found = []
    for edge in all_imports():
        if edge.target.split(".")[0] != "matplotlib":
            continue
        where = f"{edge.where}: {edge.module} -> {edge.target}"
        if layer(edge.module) in NO_MATPLOTLIB:
            why = f"{layer(edge.module)} never plots (draw in report/)"
            found.append((edge.module, "import matplotlib", f"{where}: {why}"))
        if edge.target == "matplotlib.pyplot":
            why = "build a matplotlib.figure.Figure() instead"
            found.append((edge.module, "import matplotlib.pyplot", f"{where}: {why}"))
    for module, path in modules().items():
        for node in ast.walk(tree(path)):
            if _is_backend_switch(node):
                where = f"{path.relative_to(SRC.parent)}:{node.lineno}: {module}"
                why = "calls matplotlib.use(): library code never switches the backend"
                found.append((module, "matplotlib.use(", f"{where} {why}"))
    return found


def test_no_plotting_in_the_arithmetic_and_no_pyplot_anywhere():
    found = plotting_violations()
    problems = _allowed(found)
    assert not problems, "plotting outside report/:\n" + "\n".join(problems)
    stale = ALLOWED - {(module, what) for module, what, _ in found}
    assert not stale, f"ALLOWED lists violations that are gone, remove them: {sorted(stale)}"


def test_no_import_cycles():
    """Module-level runtime imports form no cycle (importing a module never re-enters itself)."""
    graph: dict[str, set[str]] = {module: set() for module in modules()}
    lines: dict[tuple[str, str], str] = {}
    for edge in neuralab_imports():
        if not edge.top_level or edge.type_only or edge.target not in graph:
            continue
        # importing a.b.c runs a.b's __init__ first, unless a.b is the importer's own package
        parts = edge.target.split(".")
        targets = {".".join(parts[:n]) for n in range(2, len(parts) + 1)}
        for target in targets - {edge.module}:
            if not edge.module.startswith(target + "."):
                graph[edge.module].add(target)
                lines.setdefault((edge.module, target), edge.where)
    cycles = []
    for cycle in _cycles(graph):
        steps = zip(cycle, [*cycle[1:], cycle[0]], strict=True)
        cycles.append(" -> ".join(f"{a} ({lines[a, b]})" for a, b in steps) + f" -> {cycle[0]}")
    assert not cycles, "module-level import cycles:\n" + "\n".join(cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return one cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                connect(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_one_cycle(graph, set(component)) for component in components]


def _one_cycle(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """Return a cycle through the smallest module of a strongly connected component."""
    start = min(members)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to start
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & members):
                if successor == start:
                    return paths[node]
                if successor not in paths:
                    paths[successor] = [*paths[node], successor]
                    following.append(successor)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def test_no_module_getattr_but_the_package_roots_lazy_loader():
    problems = []
    for module, path in modules().items():
        for node in tree(path).body:
            if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
                if module != "neuralab":
                    problems.append(
                        f"{path.relative_to(SRC.parent)}:{node.lineno}: {module} defines a module "
                        "__getattr__; import the name from its module instead"
                    )
    assert not problems, "\n".join(problems)


MAX_LINES = 400  # small modules with one job (issue 9); a longer one is split by job


def test_no_module_is_over_400_lines():
    lengths = {module: len(path.read_text().splitlines()) for module, path in modules().items()}
    over = [f"{module}: {n} lines" for module, n in sorted(lengths.items()) if n > MAX_LINES]
    assert not over, f"modules over {MAX_LINES} lines (split them by job):\n" + "\n".join(over)
    assert max(lengths.values()) > MAX_LINES // 2  # the files were really read


@pytest.mark.parametrize("module", TORCH_FREE)
def test_pure_arithmetic_imports_no_torch(module):
    """The pure modules and the neuralab modules they import at module level import no torch."""
    seen, todo, problems = set(), [module], []
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for edge in imports_of(current):
            root = edge.target.split(".")[0]
            if root in ("torch", "torchvision", "numpy"):
                problems.append(f"{edge.where}: {current} -> {edge.target}")
            elif root == "neuralab" and edge.top_level and edge.target in modules():
                todo.append(edge.target)
    assert not problems, f"{module} must stay pure:\n" + "\n".join(problems)


def test_the_checks_catch_what_they_are_for(tmp_path):
    """Each rule fires on a made-up edge, so a passing run means something."""
    arch_to_report = Import("neuralab.arch.x", tmp_path, 1, "neuralab.report.tabular", False, True)
    assert layer_problem(arch_to_report) == "arch imports report"
    theory_to_vision = Import("neuralab.theory.x", tmp_path, 1, "neuralab.vision.sam", False, False)
    assert layer_problem(theory_to_vision) == "theory (layer 1) imports vision (layer 2)"
    kernel_to_arch = Import("neuralab.config", tmp_path, 1, "neuralab.arch.shapes", True, False)
    assert layer_problem(kernel_to_arch) == "kernel (layer 0) imports arch (layer 1)"
    report_to_cli = Import("neuralab.report.x", tmp_path, 1, "neuralab.cli._app", True, False)
    assert layer_problem(report_to_cli) == "report imports a layer above it"
    studies_to_report = Import("neuralab.studies.x", tmp_path, 1, "neuralab.report.x", True, False)
    assert layer_problem(studies_to_report) is None
    unknown = Import("neuralab.gadgets.x", tmp_path, 1, "neuralab.errors", True, False)
    assert "not in the layer table" in (layer_problem(unknown) or "")
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
