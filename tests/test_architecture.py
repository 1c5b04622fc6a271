"""The folder tree tells the architecture: models never import the server or the page, and no
module imports another that (directly or through others) imports it back."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("models", "server", "frontend")


def _module_name(path: Path) -> str:
    parts = ["auralens", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the project that ``name`` imports anywhere in its body (lazy imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            if t not in known or t == name:
                continue
            found.add(t)
            # importing a.b.c runs the package a.b first (unless the importer is inside it)
            parts = t.split(".")
            found |= {p for p in (".".join(parts[:i]) for i in range(2, len(parts)))
                      if p in known and not (name == p or name.startswith(p + "."))}
    return found


def _relative_targets(name: str, path: Path) -> set[str]:
    """The modules the relative imports of ``name`` point at (``from ..x import y`` -> ``pkg.x``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            up = package.split(".")[: len(package.split(".")) - node.level + 1]
            out.add(".".join(up + ([node.module] if node.module else [])))
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_every_relative_import_names_a_module_of_the_project():
    modules = _modules()
    missing = {(name, target) for name, path in modules.items() for target in _relative_targets(name, path)
               if target not in modules}
    assert not missing


def test_nothing_in_models_imports_the_server_or_the_page():
    wrong = {(m, t) for m, targets in _graph().items() if m.startswith("auralens.models")
             for t in targets if not t.startswith("auralens.models")}
    assert not wrong


def test_no_module_imports_itself_back_through_others():
    graph = _graph()
    edges = graph
    cycles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_a_model_kind_is_named_only_by_its_own_package():
    from auralens.models.kinds import KINDS

    homes = {name: ROOT / Path(*kind.model_class.__module__.split(".")[1:]).parent for name, kind in KINDS.items()}
    written = [p for pattern in ("*.py", "*.js", "*.html", "*.sh") for folder in (*FOLDERS, "tests", "bench", "docker")
               for p in (ROOT / folder).rglob(pattern)]
    strays = {(name, str(p.relative_to(ROOT))) for p in written for name in KINDS
              if f'"{name}"' in p.read_text() or f"'{name}'" in p.read_text()
              if homes[name] not in p.parents}
    assert not strays
