"""The import rules of ARCHITECTURE.md hold for every module of the project.

The rules are read from the page itself (its ``importrules`` blocks), so the page and the
code cannot drift apart. Imports under ``if TYPE_CHECKING:`` are annotations, not counted.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support import REPO

PAGE = REPO / "ARCHITECTURE.md"
LAYERS = ("formats", "spool", "store", "handlers", "daemon", "migrations")


def _blocks(kind: str) -> list[str]:
    text = PAGE.read_text()
    return re.findall(rf"^```importrules{kind}\n(.*?)^```", text, re.S | re.M)


def rules() -> dict[str, tuple[str, ...]]:
    (block,) = _blocks("")
    out: dict[str, tuple[str, ...]] = {}
    for line in block.splitlines():
        src, _, allowed = line.partition("->")
        out[src.strip()] = tuple(a.strip() for a in allowed.split(",") if a.strip())
    return out


def debts() -> set[tuple[str, str]]:
    blocks = _blocks(" debts")
    if not blocks:
        return set()
    (block,) = blocks
    return {(a.strip(), b.strip()) for a, _, b in (line.partition("->") for line in block.splitlines() if line)}


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str], *, annotations: bool = False) -> set[str]:
    """Modules one file imports (absolute imports; those in ``if TYPE_CHECKING:`` blocks only with
    ``annotations``)."""
    tree = ast.parse(path.read_text(), str(path))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if not annotations and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            found |= subs
            if len(subs) < len(node.names):
                found.add(node.module)
    return found


def project_modules() -> dict[str, Path]:
    out = {}
    for layer in LAYERS:
        for p in (REPO / layer).rglob("*.py"):
            if "versions" not in p.relative_to(REPO).parts:
                out[_module(p)] = p
    return out


def _allowed(target: str, allowed: tuple[str, ...]) -> bool:
    return any(target == a or target.startswith(a + ".") for a in allowed)


def violations() -> list[tuple[str, str]]:
    table, modules = rules(), project_modules()
    bad = []
    for mod, path in sorted(modules.items()):
        layer = mod.split(".")[0]
        for target in sorted(imports_of(path, set(modules))):
            top = target.split(".")[0]
            if top not in LAYERS or top == layer:
                continue
            if not _allowed(target, table[layer]):
                bad.append((mod, target))
    return bad


def test_the_page_names_every_layer() -> None:
    assert set(rules()) == set(LAYERS)


def test_no_import_breaks_the_rules_except_the_listed_debts() -> None:
    unexpected = [f"{a} -> {b}" for a, b in violations() if (a, b) not in debts()]
    assert unexpected == [], "imports ARCHITECTURE.md does not allow:\n" + "\n".join(unexpected)


def test_every_listed_debt_still_exists() -> None:
    """A debt paid off is struck from the page, so the list only shrinks."""
    gone = debts() - set(violations())
    assert gone == set(), f"remove from ARCHITECTURE.md's debts: {sorted(gone)}"


@pytest.mark.parametrize("source,target", [("formats.nacha.reader", "store.db"),
                                           ("handlers.ach.submit", "daemon.pipeline")])
def test_the_rules_refuse_an_upward_import(source: str, target: str) -> None:
    layer = source.split(".")[0]
    assert not _allowed(target, rules()[layer])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def test_no_import_circles() -> None:
    """Counted with the imports inside functions and for annotations too: a deferred import still
    ties two modules, and a type two modules need from each other belongs in a third."""
    modules = project_modules()
    graph = {m: {t for t in imports_of(p, set(modules), annotations=True) if t in modules and t != m}
             for m, p in modules.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


THREAD_STARTERS = re.compile(r"\b(threading\.Thread|Thread|ThreadPoolExecutor|ProcessPoolExecutor|_thread)\s*\(")
#: the lower layers' helpers that a call starts and joins (ARCHITECTURE.md, under the layers)
THREADS_ALLOWED = {"store/behind.py", "spool/pgp/home.py"}


def test_only_the_process_starts_threads() -> None:
    """Threads belong to ``daemon/``; below it only the listed modules start one (and join it)."""
    found = set()
    for layer in ("formats", "spool", "store", "handlers", "migrations"):
        for path in (REPO / layer).rglob("*.py"):
            if THREAD_STARTERS.search(path.read_text()):
                found.add(str(path.relative_to(REPO)))
    assert found == THREADS_ALLOWED


def test_the_thread_check_sees_a_thread() -> None:
    assert THREAD_STARTERS.search("t = threading.Thread(target=run)")
    assert THREAD_STARTERS.search("pool = ThreadPoolExecutor(max_workers=1)")
    assert not THREAD_STARTERS.search("lock = threading.Lock()")
