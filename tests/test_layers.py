"""The layer lint (scripts/linters/layers.py): the tree passes, and each rule catches its case."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layers", ROOT / "scripts/linters/layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["layers"] = module
    spec.loader.exec_module(module)
    return module


def test_the_source_tree_keeps_its_layers() -> None:
    assert [str(v) for v in _lint().lint(ROOT / "src" / "dreamer")] == []


CASES = {
    "router-repository": {"leads/router.py": "from dreamer.leads import repository\n"},
    "foreign-repository": {"leads/service.py": "from dreamer.users import repository\n"},
    "domain-private": {"deps.py": "from dreamer.auth.tokens import issue\n"},
    "layer-order": {"core/x.py": "from dreamer.db.session import Database\n"},
    "app-state": {"leads/router.py": "def f(request):\n    return request.app.state.db\n"},
    "service-request": {"leads/service.py": "from fastapi import Request\n"},
    "domain-cycle": {
        "catalog/service.py": "from dreamer.bookings import service\n",
        "bookings/service.py": "from dreamer.catalog import service\n",
    },
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_catches_its_violation(tmp_path: Path, rule: str) -> None:
    for name, source in CASES[rule].items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    found = _lint().lint(tmp_path)
    assert rule in {v.rule for v in found}
    assert all(str(v).endswith(")") and v.rule in str(v) for v in found)  # reason attached


def test_app_state_is_allowed_in_app_and_deps(tmp_path: Path) -> None:
    (tmp_path / "deps.py").write_text("def f(request):\n    return request.app.state.db\n")
    assert _lint().lint(tmp_path) == []
