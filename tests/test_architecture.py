"""The layering DESIGN.md asks for, checked on the source: no import cycles between packages,
no domain importing the web or the command line, and a pure core that does no I/O."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vulnops"
# The shells that put the domains together; nothing below may import them.
COMPOSITION = {"web", "cli", "jobs", "models", "demo", "casefile", "workqueue", "wiring"}
# Pure decisions: plain data in, plain data out.
PURE = [
    "auth/roles.py",
    "cases/states.py",
    "cases/ssvc.py",
    "cases/severity.py",
    "cases/sla.py",
    "cases/assessment.py",
    "intake/states.py",
    "intake/sarif.py",
    "durations.py",
    "workqueue/sections.py",
    "audit/narrate.py",
    "audit/kinds.py",
    "audit/advisory_kinds.py",
    "audit/telling.py",
    "review/measures.py",
    "review/plots.py",
    "review/dashboard.py",
    "casefile/next_step.py",
    "rollout/explain.py",
    "rollout/chart.py",
    "rollout/policy.py",
    "rollout/plan.py",
    "rollout/gates.py",
    "rollout/evidence.py",
    "rollout/samples.py",
    "sim/virtual.py",
    "sim/runner.py",
    "sim/judging.py",
    "sim/scenarios.py",
    "sim/baselines/kayenta.py",
    "sim/baselines/argo.py",
    "sim/baselines/fixed_bake.py",
    "sim/baselines/oracle.py",
    "sim/baselines/mann_whitney.py",
    "sim/baselines/own_history.py",
    "sim/intervals.py",
    "sim/targets.py",
    "bounty/tables.py",
    "bounty/awards.py",
    "rollout/decide.py",
    "remediation/junit.py",
    "sim/model.py",
    "notify/retry.py",
    "notify/rendering.py",
    "notify/sandbox.py",
    "disclosure/decision.py",
    "disclosure/cve_record.py",
    "disclosure/csaf.py",
    "disclosure/rules.py",
]
IO_PACKAGES = (
    "vulnops.db",
    "vulnops.web",
    "vulnops.cli",
    "vulnops.jobs",
    "sqlalchemy",
    "fastapi",
    "httpx",
    "psycopg",
    "procrastinate",
)


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports at run time (not under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _unit(module: str) -> str | None:
    """The top-level package (or top-level module) of a vulnops module name."""
    parts = module.split(".")
    if parts[0] != "vulnops" or len(parts) < 2:
        return None
    return parts[1]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        source_unit = relative.parts[0].removesuffix(".py")
        if source_unit in {"__init__", "__main__"} or relative.parts[:2] == ("db", "migrations"):
            continue  # Alembic's environment is a shell of its own: it loads every model
        for module in _imports(path):
            target = _unit(module)
            if (
                target
                and target != source_unit
                and (SRC / target).exists() | (SRC / f"{target}.py").exists()
            ):
                graph[source_unit].add(target)
    return graph


def test_no_import_cycles_between_packages() -> None:
    graph = _graph()
    cycles = []

    def walk(node: str, trail: list[str]) -> None:
        for nxt in graph.get(node, ()):
            if nxt in trail:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif len(trail) < 12:
                walk(nxt, [*trail, nxt])

    for start in list(graph):
        walk(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles)))


def test_domains_never_import_the_shells() -> None:
    graph = _graph()
    offenders = {
        f"{unit} -> {target}"
        for unit, targets in graph.items()
        if unit not in COMPOSITION
        for target in targets & COMPOSITION
    }
    assert not offenders, offenders


@pytest.mark.parametrize("relative", PURE)
def test_the_pure_core_does_no_io(relative: str) -> None:
    imported = _imports(SRC / relative)
    bad = sorted(m for m in imported if m.startswith(IO_PACKAGES))
    assert not bad, f"{relative} imports {bad}"
