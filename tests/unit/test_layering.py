"""The package's import structure: no import cycles, no import from a higher layer, Airflow in two modules only.

Read from the source with `ast` (nothing is imported), every import counted: module level, inside functions and
under `if TYPE_CHECKING:` (a type a module names is a dependency too). Only the cycle check leaves the
TYPE_CHECKING imports out: naming a type without importing the module at run time is how a cycle is avoided.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "include.monitoring"


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]  # names under include.monitoring; "pkg.*" is every module of pkg; the most specific wins
    may_import: tuple[str, ...]  # the layers its modules may import, besides their own


LAYERS = (
    # "" is the package itself: empty, since importing it must stay cheap (the DAG files do).
    Layer("base", ("", "types", "errors", "catalogue", "drift.base"), ()),
    # The values that travel between steps, the store and XCom: profiles, validation results, the observation of a
    # window, alert keys. Standard library only.
    Layer("shapes", ("profile_types", "validation.records", "observation", "alerting.keys"), ("base",)),
    Layer("config", ("config", "config.*"), ("base",)),
    # Scores -> severities: read by the steps that judge (drift, checks, performance) and by the alert lifecycle.
    Layer("policy", ("alerting.policy",), ("base", "config")),
    Layer("warehouse", ("warehouse",), ("base", "config")),
    # warehouse_profiles counts a window in the warehouse: SQL over the warehouse layer's time filter, results in the
    # shapes and constants of profiles, so it sits with window_profiles, whose counts it reproduces.
    Layer("computing", ("drift", "drift.*", "profiles", "window_profiles", "warehouse_profiles", "performance",
                        "performance.*", "validation", "validation.*"),
          ("base", "shapes", "config", "policy", "warehouse")),
    Layer("store", ("store", "staging", "findings"), ("base", "shapes", "config")),
    Layer("alerting", ("alerting", "alerting.*"), ("base", "shapes", "config", "policy", "store")),
    # Re-scoring writes the store: it runs a window's step like the pipeline does.
    Layer("orchestration", ("pipeline", "reference", "operational", "performance.rescoring"),
          ("base", "shapes", "config", "policy", "warehouse", "computing", "store", "alerting")),
    Layer("adapters", ("airflow_adapters", "run_note"), ("base", "shapes", "config", "store", "alerting")),
    Layer("tasks", ("tasks", "cli"),
          ("base", "shapes", "config", "policy", "warehouse", "computing", "store", "alerting", "orchestration",
           "adapters")),
    Layer("ui", ("ui", "ui.*"), ("base", "shapes", "config", "store", "alerting", "adapters")),
    Layer("demo", ("demo", "demo.*"), ("base",)),  # the demo's data stands alone from the code it exercises
)

# The only modules that may import Airflow: the connection/variable adapters and the Model health app's plugin side.
AIRFLOW_IMPORTERS = frozenset({"airflow_adapters", "ui.app"})


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # a module of the package, or the top-level name of another package
    path: str
    line: int
    statement: str
    type_only: bool

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.statement}"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "include" / "monitoring").rglob("*.py")):
        parts = path.relative_to(ROOT / "include" / "monitoring").with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _internal(name: str) -> str | None:
    """`name` as a module of the package ("" for the package itself), or None for another package."""
    if name == PACKAGE:
        return ""
    return name.removeprefix(PACKAGE + ".") if name.startswith(PACKAGE + ".") else None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def add(node: ast.stmt, name: str, type_only: bool) -> None:
        internal = _internal(name)
        imported = internal if internal is not None else name.split(".")[0]
        if any(i.line == node.lineno and i.imported == imported for i in found):
            return  # `from x import a, b` imports x once
        statement = " ".join(line.strip() for line in lines[node.lineno - 1:node.end_lineno])
        found.append(Import(module, imported, str(path.relative_to(ROOT)), node.lineno, statement, type_only))

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name, type_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                package = f"{PACKAGE}.{module}".rstrip(".").split(".")
                anchor = package if is_package else package[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = _internal(f"{base}.{alias.name}")
                # `from pkg import name` imports the module pkg.name when there is one, else pkg itself
                add(node, f"{base}.{alias.name}" if submodule in MODULES else base, type_only)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(ast.parse(source, str(path)), False)
    return found


IMPORTS = [i for module, path in MODULES.items() for i in _imports(module, path)]
INTERNAL = [i for i in IMPORTS if i.imported in MODULES and i.imported != i.importer]


def layer_of(module: str) -> Layer | None:
    """The layer whose pattern matches `module` most specifically (an exact name before any "pkg.*")."""
    best: tuple[int, Layer] | None = None
    for layer in LAYERS:
        for pattern in layer.modules:
            if pattern == module:
                rank = 1_000
            elif pattern.endswith(".*") and module.startswith(pattern[:-1]):
                rank = len(pattern)
            else:
                continue
            if best is None or rank > best[0]:
                best = (rank, layer)
    return best[1] if best else None


def test_the_layer_table_names_real_layers():
    names = [layer.name for layer in LAYERS]
    assert len(names) == len(set(names))
    assert {allowed for layer in LAYERS for allowed in layer.may_import} <= set(names)


def test_every_module_has_a_layer():
    unplaced = sorted(m or "(the package)" for m in MODULES if layer_of(m) is None)
    assert not unplaced, f"modules in no layer of LAYERS (tests/unit/test_layering.py), add them: {unplaced}"


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for i in INTERNAL:
        source, target = layer_of(i.importer), layer_of(i.imported)
        if source is None or target is None:
            continue
        if target.name != source.name and target.name not in source.may_import:
            upward.append(f"{i}\n    {i.importer} (layer {source.name}) imports {i.imported} (layer {target.name}); "
                          f"layer {source.name} may import: {', '.join(source.may_import) or 'nothing'}")
    assert not upward, "imports against the layer table:\n" + "\n".join(upward)


def _cycle(graph: dict[str, dict[str, Import]]) -> list[Import] | None:
    """One import cycle of `graph` (importer -> imported -> the import statement), as its imports in order."""
    done: set[str] = set()
    path: list[str] = []  # the modules being walked; edges[k] imports path[k + 1] from path[k]
    edges: list[Import] = []

    def walk(module: str) -> list[Import] | None:
        path.append(module)
        for target, edge in sorted(graph.get(module, {}).items()):
            if target in path:
                return [*edges[path.index(target):], edge]
            if target not in done:
                edges.append(edge)
                found = walk(target)
                if found:
                    return found
                edges.pop()
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            found = walk(module)
            if found:
                return found
    return None


def test_no_import_cycles():
    graph: dict[str, dict[str, Import]] = {}
    for i in INTERNAL:
        if not i.type_only:
            graph.setdefault(i.importer, {}).setdefault(i.imported, i)
    cycle = _cycle(graph)
    assert cycle is None, "import cycle " + " -> ".join([cycle[0].importer, *(i.imported for i in cycle)]) + ":\n" + \
        "\n".join(f"  {i}" for i in cycle)


def test_only_the_adapters_and_the_ui_import_airflow():
    offending = [f"  {i}" for i in IMPORTS if i.imported == "airflow" and i.importer not in AIRFLOW_IMPORTERS]
    assert not offending, (f"Airflow imported outside {sorted(AIRFLOW_IMPORTERS)} (include/ stays Airflow-free: "
                           "go through airflow_adapters):\n" + "\n".join(offending))
