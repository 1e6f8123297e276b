"""The module import graph of dsc: every import, at module level or inside a function, is an edge.

No module imports itself back through others, the run-time packages never import the compile-time
checks nor the command line, and nothing outside the command line (`dsc.commands`) but the entry
point (`dsc.__main__`) imports it: the command line imports the wings, never the reverse.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "dsc"
RUN_TIME = ("dsc.locale", "dsc.io", "dsc.kernels", "dsc.engines", "dsc.ops", "dsc.augment", "dsc.annotation")
CLI = "dsc.commands"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _known(name: str, modules: dict[str, Path]) -> str:
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {_known(a.name, modules) for a in node.names if a.name.split(".")[0] == "dsc"}
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                    if node.level else node.module or ""
                if base.split(".")[0] != "dsc":
                    continue
                for alias in node.names:  # `from dsc import ast` imports the module dsc.ast
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else _known(base, modules))
        graph[name] = targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return found


def _under(name: str, packages) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_graph_sees_lazy_imports():
    graph = _graph()
    assert "dsc.api" in graph["dsc.commands.common"] and "dsc.finetune.compare" in graph["dsc.commands.finetune"]
    assert "dsc.commands.finetune" in graph["dsc.commands"]


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_run_time_modules_import_neither_the_checks_nor_the_cli():
    upward = {(m, t) for m, targets in _graph().items() if _under(m, RUN_TIME)
              for t in targets if _under(t, ("dsc.checks", CLI))}
    assert upward == set()


def test_only_the_entry_point_imports_the_cli():
    """The command line imports the wings (`dsc.finetune`, `dsc.profile`, …), never the reverse."""
    importers = sorted({m for m, targets in _graph().items() if not _under(m, (CLI,))
                        for t in targets if _under(t, (CLI,))})
    assert importers == ["dsc.__main__"]


def test_only_the_command_line_uses_typer():
    """Exit codes and messages are the commands' to print: no wing imports typer (or click) itself."""
    def uses(path: Path) -> bool:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(n.split(".")[0] in ("typer", "click") for n in names):
                return True
        return False

    assert sorted(m for m, path in _modules().items() if not _under(m, (CLI,)) and uses(path)) == []
