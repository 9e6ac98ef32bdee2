"""Layer lint: keeps router → service → repository and the order of the shared layers.

Run by ``make lint`` (and so by ``make test``): ``python scripts/linters/layers.py [src/dreamer]``.
It reads the source with ``ast`` only (nothing is imported), prints one line per violation with
the rule's reason, and exits 1 if there is any.

The layers, lowest first: ``core`` (config, errors, HTTP helpers: imports nothing of ours but
itself) → ``models`` → ``db`` → ``mail`` → the domains (``auth``, ``users``, ``catalog``, …, each
``router`` → ``service`` → ``repository``) → ``deps`` → ``app``/``cli``/``worker``/``seed``.
A domain's own modules are private to it, except its ``service`` (how other code calls it),
its ``schemas`` (the types that service takes and returns) and its routers, ``pages`` and
``tasks``/``mails`` (which the entry points register).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "dreamer"
DOMAINS = frozenset(
    {
        "auth",
        "users",
        "catalog",
        "bookings",
        "leads",
        "newsletter",
        "content",
        "chat",
        "analytics",
        "audit",
        "privacy",
    }
)
# What each shared layer may import from the package (itself included).
SHARED_LAYERS = {
    "core": {"core"},
    "models": {"core", "models"},
    "db": {"core", "models", "db"},
    "mail": {"core", "models", "db", "mail"},
}
PUBLIC_MODULES = {"service", "schemas"}
ENTRY_MODULES = {
    "router",
    "admin_router",
    "pages",
    "tasks",
    "mails",
}  # registered by app/worker/mail
ROUTERS = {"router", "admin_router", "pages"}
ENTRY_POINTS = {"app", "cli", "worker", "seed"}
STATE_READERS = {"app.py", "deps.py"}

REASONS = {
    "router-repository": "routers parse and shape HTTP; data access goes through the service",
    "foreign-repository": "another domain's data is reached through its service, never its SQL",
    "domain-private": "outside a domain only its service and schemas are public",
    "layer-order": "a lower layer may not depend on a higher one",
    "app-state": "settings, secrets and pools arrive as typed dependencies (deps.py)",
    "service-request": "services take typed inputs, not the HTTP request",
    "domain-cycle": "domains call each other in one direction only",
}


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message} ({REASONS[self.rule]})"


@dataclass(frozen=True)
class Module:
    path: Path
    parts: tuple[str, ...]  # ("leads", "router") for dreamer/leads/router.py

    @property
    def top(self) -> str:
        return self.parts[0]

    @property
    def domain(self) -> str | None:
        return self.top if self.top in DOMAINS else None

    @property
    def leaf(self) -> str:
        return self.parts[-1]


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Every ``dreamer.…`` module a file imports, as parts below the package."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    yield node.lineno, tuple(alias.name.split(".")[1:])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != PACKAGE:
                continue
            for alias in node.names:
                # ``from dreamer.leads import repository`` names a module; ``import X`` a symbol.
                yield node.lineno, (*parts[1:], alias.name)


def target_module(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Strip a trailing symbol name: ``(leads, service, capture)`` → ``(leads, service)``."""
    if parts and parts[0] in DOMAINS and len(parts) >= 2:
        return parts[:2]
    return parts[:1]


def check_import(module: Module, line: int, parts: tuple[str, ...]) -> Iterator[Violation]:
    if not parts:
        return
    target = target_module(parts)
    top = target[0]
    shown = ".".join((PACKAGE, *target))
    if module.top in SHARED_LAYERS and top not in SHARED_LAYERS[module.top]:
        yield Violation(module.path, line, "layer-order", f"{module.top} imports {shown}")
    if top not in DOMAINS or len(target) < 2:
        return
    leaf = target[1]
    if leaf == "repository":
        if module.leaf in ROUTERS:
            yield Violation(module.path, line, "router-repository", f"imports {shown}")
        if module.domain != top:
            yield Violation(module.path, line, "foreign-repository", f"imports {shown}")
            return
    if module.domain == top:
        return
    if leaf in PUBLIC_MODULES:
        return
    if leaf in ENTRY_MODULES and module.top in ENTRY_POINTS | {"mail"}:
        return
    if leaf != "repository":
        yield Violation(module.path, line, "domain-private", f"imports {shown}")


def check_state(module: Module, tree: ast.AST) -> Iterator[Violation]:
    if module.path.name in STATE_READERS and len(module.parts) == 1:
        return
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "state"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "app"
        ):
            yield Violation(module.path, node.lineno, "app-state", "reads request.app.state")


def check_service_request(module: Module, tree: ast.AST) -> Iterator[Violation]:
    if module.leaf != "service":
        return
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module in {"fastapi", "starlette.requests"}
            and any(alias.name == "Request" for alias in node.names)
        ):
            yield Violation(module.path, node.lineno, "service-request", "imports Request")


def domain_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return cycles


def lint(root: Path) -> list[Violation]:
    violations: list[Violation] = []
    edges: dict[str, set[str]] = {}
    first_line: dict[tuple[str, str], tuple[Path, int]] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        if rel.parts[0] == "migrations":
            continue  # landed migrations are history, not layers
        parts = tuple(p for p in rel.parts if p != "__init__") or ("__init__",)
        module = Module(path, parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, imported in imported_modules(tree):
            violations.extend(check_import(module, line, imported))
            target = target_module(imported)
            if module.domain and target and target[0] in DOMAINS and target[0] != module.domain:
                edges.setdefault(module.domain, set()).add(target[0])
                first_line.setdefault((module.domain, target[0]), (path, line))
        violations.extend(check_state(module, tree))
        violations.extend(check_service_request(module, tree))
    for cycle in domain_cycles(edges):
        path, line = first_line[(cycle[-2], cycle[-1])]
        violations.append(Violation(path, line, "domain-cycle", " → ".join(cycle)))
    unique = {(v.path, v.line, v.rule, v.message): v for v in violations}
    return [unique[key] for key in sorted(unique)]


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path("src") / PACKAGE
    violations = lint(root)
    for violation in violations:
        print(violation)
    if violations:
        print(f"layer lint: {len(violations)} violation(s)")
        return 1
    print("layer lint: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
