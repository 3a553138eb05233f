"""The layering rules of DESIGN.md, checked on every module rather than a hand-picked few."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

WALK_CORE_WITHOUT_STREAMLIT = """
import importlib, pkgutil, sys

class NoStreamlit:  # any `import streamlit` anywhere under core now fails loudly
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            raise ImportError("core imported " + name)

sys.meta_path.insert(0, NoStreamlit())
import core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "core.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_every_core_module_imports_without_streamlit() -> None:
    out = subprocess.run([sys.executable, "-c", WALK_CORE_WITHOUT_STREAMLIT], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    walked = int(out.stdout.strip())
    on_disk = len([p for p in (REPO / "core").rglob("*.py") if p.name != "__main__.py"])
    assert walked >= on_disk - 1  # every module file (core/__init__ is the root, not walked)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_dashboard_and_pages_only_draw() -> None:
    """No torch in dashboard/ or pages/: models are run by core (core/inference.py)."""
    offenders = {}
    for path in [*REPO.glob("dashboard/**/*.py"), *REPO.glob("pages/*.py")]:
        heavy = {m for m in _imported_modules(path) if m.split(".")[0] in ("torch", "torchvision")}
        if heavy:
            offenders[str(path.relative_to(REPO))] = sorted(heavy)
    assert not offenders, offenders


def test_model_kind_names_live_in_the_kind_enum() -> None:
    """'classifier' as a string literal only in core/models/kinds.py: code asks Kind instead."""
    found = []
    for path in [*REPO.glob("core/**/*.py"), *REPO.glob("dashboard/**/*.py"), *REPO.glob("pages/*.py")]:
        if path == REPO / "core/models/kinds.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in ("classifier", "autoencoder"):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not found, found


HOME_AND_DATA_IMPORTS = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("dashboard/app.py", default_timeout=120)
at.run()
at.switch_page("../pages/data.py").run()
assert not at.exception, at.exception
print(" ".join(m for m in ("torch", "torchvision", "sklearn", "umap", "pandas") if m in sys.modules))
"""


def test_home_and_data_pages_do_not_import_torch_sklearn_or_pandas() -> None:
    """The cold start to the Data page pays for none of them (issue: cold start <= 1.5x
    hello-world): in a fresh interpreter, after Home and the Data page on digits, none is loaded."""
    out = subprocess.run([sys.executable, "-c", HOME_AND_DATA_IMPORTS], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"imported: {out.stdout.strip()}"


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (they may name a state in prose)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            found.add(id(node.body[0].value))
    return found


@pytest.mark.parametrize("home, enums", [
    ("core/runs/status.py", ("core.runs.status", ("RunState", "JobState"))),
    ("core/anomaly/outcomes.py", ("core.anomaly.outcomes", ("Cell", "View"))),
], ids=["run-and-job-states", "cells-and-views"])
def test_enum_names_live_in_their_enums(home: str, enums) -> None:
    """"running", "done", "TP", "balanced", ... as string literals only in their enum's module:
    code says RunState.RUNNING, Cell.TP. Docstrings, dict keys and subscripts are not values."""
    import importlib

    module, classes = enums
    names = {str(m) for c in classes for m in getattr(importlib.import_module(module), c)}
    found = []
    for path in [*REPO.glob("core/**/*.py"), *REPO.glob("dashboard/**/*.py"), *REPO.glob("pages/*.py")]:
        if path == REPO / home:
            continue
        tree = ast.parse(path.read_text())
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                skip.update(id(k) for k in node.keys if k is not None)
            elif isinstance(node, ast.Subscript):
                skip.add(id(node.slice))
            elif isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and b.id in ("StrEnum", "Enum") for b in node.bases):
                # another concept's own enum (a sweep trial's state) may share a word with these
                skip.update(id(c) for c in ast.walk(node) if isinstance(c, ast.Constant))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in names and id(node) not in skip:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value!r}")
    assert not found, found
