"""The import graph of core/, read from the source (every import, lazy ones in functions too):
no cycle between modules, and no arrow from a lower package to a higher one."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Lowest first. A package may import only packages on lower levels (and itself); two packages on
# one level know nothing of each other. Top-level modules count as packages (core.cli -> "cli").
LEVELS = [
    {"errors"},
    {"settings"},
    {"io", "console"},  # console: how text and JSON reach a terminal (commands at every level print)
    {"data", "models"},
    {"runs"},  # reads run folders; knows nothing of training
    {"training"},
    {"inference"},
    {"evaluation"},
    {"anomaly", "latent"},
    {"predict", "audit"},  # audit trains folds and reads predictions, as predict applies runs
    {"sweeps"},  # a study whose trials are runs launched like any other
    {"shipping"},
    {"cli"},
    {"launcher"},  # the warm launcher: forks `core.cli.main` runs (core.runs.warm talks to it)
    {"__main__"},
]
LEVEL = {name: i for i, names in enumerate(LEVELS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(path: Path) -> set[str]:
    """core.* modules imported anywhere in the file, except under `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("core."))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level \
                and node.module.startswith("core"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # `from core.x import mod`
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in (REPO / "core").rglob("*.py")}
    # A module reaching for its own package (`import core.data.sources` to find its siblings)
    # is not an arrow between modules: the package's __init__ is its front door.
    return {name: {m for m in _imports(path) if m in modules and m != name
                   and not name.startswith(m + ".")}
            for name, path in modules.items()}


def _package(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_every_core_package_has_a_level() -> None:
    packages = {_package(m) for m in _graph() if m != "core"}
    assert packages <= set(LEVEL), sorted(packages - set(LEVEL))


def test_no_arrow_from_a_lower_package_to_a_higher_one() -> None:
    wrong = sorted(f"{m} -> {t}" for m, targets in _graph().items() if m != "core" for t in targets
                   if _package(t) != _package(m) and LEVEL[_package(t)] >= LEVEL[_package(m)])
    assert not wrong, wrong


def test_no_import_cycle_between_core_modules() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert not cycles, [" -> ".join(c) for c in cycles]


def test_the_checks_see_a_planted_cycle_and_an_upward_arrow(tmp_path, monkeypatch) -> None:
    """The walk itself works: a runs module importing training is found."""
    fake = tmp_path / "core" / "runs"
    fake.mkdir(parents=True)
    (fake / "a.py").write_text("def f():\n    from core.training.b import x\n")
    (tmp_path / "core" / "training").mkdir()
    (tmp_path / "core" / "training" / "b.py").write_text("from core.runs.a import f\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["REPO"]), "REPO", tmp_path)
    graph = _graph()
    assert graph["core.runs.a"] == {"core.training.b"} and graph["core.training.b"] == {"core.runs.a"}
