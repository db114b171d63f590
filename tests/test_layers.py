"""The engine's layers import one way only: each may use those before it, never a later one.

upload -> question -> graph -> audit -> fit/sample -> measure -> report, as packages:
foundation (errors, limits) < io < causal < generators < metrics < workflow < present < entry
(cli, __main__, and the `faircause_core.fairness` re-export kept for outside checks).
Inside `generators`, the shared pieces come before the `lm` toolkit, which comes before the
generators that use it. The engine never imports Streamlit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "faircause_core"

# (rank, dotted prefix); the longest matching prefix decides a module's rank.
LAYERS = [
    (0, "faircause_core.errors"), (0, "faircause_core.limits"), (0, "faircause_core.engine"), (0, "faircause_core"),
    (1, "faircause_core.io"),
    (2, "faircause_core.causal"),
    (3.0, "faircause_core.generators.base"), (3.0, "faircause_core.generators.columns"),
    (3.0, "faircause_core.generators.mechanisms"), (3.0, "faircause_core.generators.sampling"),
    (3.0, "faircause_core.generators.strength"),
    (3.1, "faircause_core.generators.lm"), (3.2, "faircause_core.generators"),
    (4, "faircause_core.metrics"),
    (5, "faircause_core.workflow"),
    (6, "faircause_core.present"),
    (7, "faircause_core.cli"), (7, "faircause_core.__main__"), (7, "faircause_core.fairness"),
]
UI_LIBRARIES = ("streamlit", "streamlit_flow", "faircause_app")


def rank(module: str) -> float:
    best = max((p for _, p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return dict((p, r) for r, p in LAYERS)[best]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every (line, absolute module) the source imports, in functions too."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from pkg import sub` imports the submodule pkg.sub when it is one
            found += [(node.lineno, f"{target}.{a.name}") for a in node.names
                      if _is_module(f"{target}.{a.name}")]
    return found


def _is_module(dotted: str) -> bool:
    if not dotted.startswith("faircause_core"):
        return False
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Imports in `source` that run back up the layers or reach for the UI."""
    own = rank(module)
    bad = []
    for line, target in imports_of(source, module, is_package):
        if target.split(".")[0] in UI_LIBRARIES:
            bad.append(f"{module}:{line} imports {target} (the engine never imports the UI)")
        elif target.startswith("faircause_core") and target != "faircause_core" and rank(target) > own:
            bad.append(f"{module}:{line} imports {target}, a later layer")
    return bad


def engine_files() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def test_every_engine_module_has_a_layer():
    assert len(engine_files()) > 30
    for path in engine_files():
        assert rank(module_name(path)) is not None


@pytest.mark.parametrize("path", engine_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_imports_run_one_way(path):
    assert violations(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py") == []


def test_the_check_catches_a_backward_import():
    """The rule itself fails on imports that run back up, relative or absolute, even in functions."""
    assert violations("from faircause_core.workflow.pipeline import run_generation\n",
                      "faircause_core.causal.fairness")
    assert violations("def f():\n    from ..present import plots\n", "faircause_core.metrics.fidelity")
    assert violations("from faircause_core.generators import llm\n", "faircause_core.generators.lm.train")
    assert violations("import streamlit as st\n", "faircause_core.io.data")
    assert violations("from faircause_core import fairness\n", "faircause_core.workflow.refine")
    assert not violations("from faircause_core.causal.fairness import decompose\n",
                          "faircause_core.workflow.refine")
    assert not violations("from ..base import FairnessSpec\n", "faircause_core.generators.lm.store")



def test_published_contracts_keep_their_homes():
    """Checks outside the repository import these: faircause_core.fairness.decompose and the CLI."""
    import subprocess
    import sys

    import numpy as np
    import pandas as pd

    from faircause_core import fairness
    from faircause_core.causal import fairness as home

    assert fairness.decompose is home.decompose and fairness.Decomposition is home.Decomposition
    rng = np.random.default_rng(0)
    z = rng.normal(size=600)
    x = (rng.random(600) < 1 / (1 + np.exp(-z))).astype(int)
    y = (rng.random(600) < 1 / (1 + np.exp(-(z + x)))).astype(int)
    table = fairness.decompose(pd.DataFrame({"x": x, "z": z, "y": y}), "x", 0, 1, "y", z=("z",), w=(),
                               seed=0, method="plugin").to_frame()
    assert list(table.index) == ["tv", "ctf_de", "ctf_ie", "ctf_se", "ett"]
    assert list(table.columns) == ["estimate", "se", "ci_low", "ci_high"]
    est = table["estimate"]
    assert est["tv"] == pytest.approx(est["ctf_de"] - est["ctf_ie"] - est["ctf_se"], abs=1e-9)
    out = subprocess.run([sys.executable, "-m", "faircause_core", "--help"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0 and all(c in out.stdout for c in ("audit", "discover", "generate"))
