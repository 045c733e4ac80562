"""The layering rules of bot/ and handlers/, read from the source (an AST walk, so an import
written inside a function counts as much as one at the top of a module).

Imports under ``if TYPE_CHECKING:`` are left out: they never run, and they are how the core
names a feature's type (``Runtime.knowledge: KnowledgeBase``) without depending on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers")
MAX_LINES = 600

# Modules that may import python-telegram-bot inside bot/: the wiring and the webhook package.
TELEGRAM_ALLOWED = ("bot.app", "bot.webhook")
# Modules that may import the Bot API emulator: itself, the offline runner and the command line.
EMULATOR_ALLOWED = ("bot.emulator", "bot.offline", "bot.cli")
# The core: everything may import it, it imports no feature.
CORE = "bot.core"
# What the core may import besides itself: Telegram's rules (plain functions and limits).
CORE_MAY_IMPORT = (CORE, "bot.telegram_rules")



def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic's scripts are loaded by Alembic, not imported
            found[_module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_running(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node`` except the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _walk_running(other)
            continue
        yield child
        yield from _walk_running(child)


def _imported(module: str, path: Path) -> set[str]:
    """The absolute names of every module this one imports, wherever the import stands."""
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in _walk_running(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            # ``from bot.surveys import ikm`` imports the module bot.surveys.ikm
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


@cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imported(module, path):
            # An import of a.b.c also runs a and a.b: the edge goes to the deepest module we own.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def _raw_imports() -> dict[str, set[str]]:
    return {m: _imported(m, p) for m, p in _modules().items()}


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package_parent(module: str, other: str) -> bool:
    # A package's __init__ importing its own submodules (or being run by them) is not a cycle
    # of two concerns; Python runs the parent before the child anyway.
    return other.startswith(module + ".") or module.startswith(other + ".")


def test_no_import_cycle_counting_imports_inside_functions():
    graph = {
        module: {t for t in targets if not _is_package_parent(module, t)}
        for module, targets in _graph().items()
    }
    assert _cycles(graph) == []


def test_no_module_is_longer_than_600_lines_except_the_emulator():
    too_long = set()
    for module, path in _modules().items():
        if _within(module, ("bot.emulator",)):
            continue
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES:
            too_long.add(str(path.relative_to(ROOT)))
    assert too_long == set()


def test_only_the_wiring_and_the_webhook_package_import_telegram_in_bot():
    offenders = {
        module
        for module, names in _raw_imports().items()
        if module.startswith("bot")
        and not _within(module, TELEGRAM_ALLOWED + ("bot.emulator",))
        and any(_within(name, ("telegram",)) for name in names)
    }
    assert offenders == set()


def test_only_the_emulator_the_offline_runner_and_the_cli_import_the_emulator():
    offenders = {
        module
        for module, targets in _graph().items()
        if not _within(module, EMULATOR_ALLOWED)
        and any(_within(t, ("bot.emulator",)) for t in targets)
    }
    assert offenders == set()


def test_only_the_wiring_in_bot_imports_the_telegram_layer():
    offenders = {
        module
        for module, targets in _graph().items()
        if _within(module, ("bot",))
        and module != "bot.app"
        and any(_within(t, ("handlers",)) for t in targets)
    }
    assert offenders == set()


def test_the_core_imports_no_feature():
    offenders = {
        (module, target)
        for module, targets in _graph().items()
        if _within(module, (CORE,))
        for target in targets
        if not _within(target, CORE_MAY_IMPORT)
    }
    assert offenders == set()


def test_the_walk_sees_imports_inside_functions_and_skips_type_checking_blocks(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bot.hidden import Thing\n"
        "def late():\n"
        "    from bot.late import thing\n"
        "    import bot.later\n"
    )
    names = _imported("bot.probe", source)
    assert {"bot.late", "bot.later"} <= names
    assert "bot.hidden" not in names


def _awaits_inside_a_unit_of_work(tree: ast.AST) -> list[int]:
    """Lines of ``with ....session() as s:`` blocks whose body awaits (not counting functions
    defined inside the block, which run later)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.With):
            continue
        if not any(isinstance(item.context_expr, ast.Call)
                   and isinstance(item.context_expr.func, ast.Attribute)
                   and item.context_expr.func.attr == "session" for item in node.items):
            continue
        pending = list(node.body)
        while pending:
            current = pending.pop()
            if isinstance(current, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
                found.append(node.lineno)
                break
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            pending.extend(ast.iter_child_nodes(current))
    return found


def test_no_unit_of_work_is_held_across_an_await():
    """On SQLite every unit of work takes the write lock at BEGIN (bot/core/db.py): one held
    across an await would make the next one on the event loop wait on it for the whole busy
    timeout. Decide inside the block, send after it."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _modules().values()
        for line in _awaits_inside_a_unit_of_work(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []


def test_the_unit_of_work_rule_sees_an_await_and_skips_inner_functions():
    held = ast.parse(
        "async def f(db):\n    with db.session() as s:\n        await g()\n")
    later = ast.parse(
        "async def f(db):\n    with db.session() as s:\n        async def h():\n"
        "            await g()\n    await h()\n")
    assert _awaits_inside_a_unit_of_work(held) == [2]
    assert _awaits_inside_a_unit_of_work(later) == []
