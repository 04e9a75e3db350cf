"""The package reads one way: no import circles inside kerasish/, counting imports made inside functions too
(a lazy import hides a circle; it does not remove it)."""
import ast
import graphlib
import pathlib
import subprocess
import sys

import kerasish

PACKAGE = pathlib.Path(kerasish.__file__).parent


def module_names() -> dict[str, pathlib.Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        dotted = ".".join(("kerasish",) + path.relative_to(PACKAGE).with_suffix("").parts)
        modules[dotted[:-len(".__init__")] if dotted.endswith(".__init__") else dotted] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """``{module: modules it imports}``, inside kerasish; a package's own submodules and its parents excluded
    (importing ``a.b`` runs ``a/__init__``, which is not a dependency of ``a.b``'s design)."""
    modules = module_names()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else base)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name and not name.startswith(t + ".")}
    return graph


def test_no_import_circles_inside_kerasish():
    sorter = graphlib.TopologicalSorter(import_graph())
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError as err:
        raise AssertionError(f"import circle: {' -> '.join(err.args[1])}") from None
    assert "kerasish.layers.base" in order


def test_every_module_imports_in_a_fresh_interpreter_in_dependency_order():
    order = list(graphlib.TopologicalSorter(import_graph()).static_order())
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run([sys.executable, "-c", code, *order], capture_output=True, text=True,
                            cwd=PACKAGE.parent, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
