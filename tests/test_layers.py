"""The package's layers: every import of every module under src/imdb_rnn (at module level, in a function,
under `TYPE_CHECKING` alike) points to its own part or to a lower layer, and no modules import each other
in a circle. The order is `LAYERS`, drawn the same in docs/ARCHITECTURE.md ("Layers").

A part is a subpackage (`runs`) or a top-level module (`models`); parts in one layer are siblings that
never import each other. `from imdb_rnn import name` points to where `name` lives: a submodule, the module
that `imdb_rnn.__init__` hands the name on from, or nowhere for what `__init__.py` defines itself
(`__version__`: the package's own `__init__` runs before any of its modules).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import imdb_rnn

PACKAGE = Path(imdb_rnn.__file__).parent
ARCHITECTURE = PACKAGE.parents[1] / "docs" / "ARCHITECTURE.md"
LAYERS = [  # lowest first: a part may import its own modules and the parts of the layers below it
    ("environment", "errors", "progress"),
    ("files", "schema"),
    ("models",),
    ("config",),
    ("data",),
    ("evaluation",),
    ("runs",),
    ("pretraining",),
    ("training",),
    ("api", "comparison", "reports", "serving"),
    ("imdb_rnn",),  # the package's face, __init__.py: hands the API on, imports it on first use
    ("cli",),
    ("__main__",),
]
LAYER = {part: number for number, parts in enumerate(LAYERS, 1) for part in parts}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def part(module: str) -> str:
    """`imdb_rnn.runs.lifecycle` → `runs`; `imdb_rnn.models` → `models`; `imdb_rnn` → `imdb_rnn`."""
    return module.split(".")[1] if "." in module else module


def face() -> tuple[dict[str, str], set[str]]:
    """What `imdb_rnn/__init__.py` hands on (`_EXPORTS`: name → module) and what it defines itself."""
    tree = ast.parse(MODULES["imdb_rnn"].read_text(encoding="utf-8"))
    exports: dict[str, str] = {}
    defined: set[str] = set()
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        for target in targets:
            if isinstance(target, ast.Name):
                defined.add(target.id)
                if target.id == "_EXPORTS":
                    exports = ast.literal_eval(node.value)
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
    return exports, defined


def owner(name: str) -> str:
    """The module of `imdb_rnn` that `name` (a module or a module's attribute) is: the longest prefix
    that is one."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports(module: str) -> list[tuple[str, int]]:
    """`(module imported, line)` for every import of `module` that points into the package."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    exports, defined = face()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, `level - 1` packages up
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = []
            for alias in node.names:
                if base == "imdb_rnn" and alias.name in exports:
                    names.append(exports[alias.name])
                elif base == "imdb_rnn" and alias.name in defined:
                    continue  # the package's own __init__ runs first anyway: no arrow
                else:
                    names.append(f"{base}.{alias.name}")
        else:
            continue
        for name in names:
            if name.split(".")[0] == "imdb_rnn" and owner(name) != module:
                found.append((owner(name), node.lineno))
    return list(dict.fromkeys(found))


GRAPH = {module: imports(module) for module in MODULES}


def test_every_part_of_the_package_has_a_layer() -> None:
    missing = sorted({part(module) for module in MODULES} - set(LAYER))
    assert not missing, f"parts without a layer in LAYERS (and docs/ARCHITECTURE.md): {missing}"


def test_no_import_runs_upward_or_sideways() -> None:
    wrong = [
        f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {part(module)} (layer {LAYER[part(module)]}) imports "
        f"{target} ({part(target)}, layer {LAYER[part(target)]})"
        for module, targets in GRAPH.items()
        for target, line in targets
        if part(target) != part(module) and LAYER[part(target)] >= LAYER[part(module)]
    ]
    assert not wrong, "imports that run upward or between siblings:\n" + "\n".join(wrong)


def test_no_modules_import_each_other_in_a_circle() -> None:
    state: dict[str, str] = {}  # module → "open" (on the path being walked) or "done"
    circles = []

    def walk(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target, _ in GRAPH[module]:
            if state.get(target) == "open":
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                walk(target, [*path, target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            walk(module, [module])
    assert not circles, "import circles:\n" + "\n".join(circles)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from imdb_rnn.runs import status\n", ["imdb_rnn.runs.status"]),
        ("from imdb_rnn.config import Config\n", ["imdb_rnn.config"]),
        ("def f():\n    from imdb_rnn import load_run\n", ["imdb_rnn.runs.run"]),
        ("from imdb_rnn import __version__\n", []),
        ("from . import lifecycle\n", ["imdb_rnn.runs.lifecycle"]),
        ("import imdb_rnn.models as models\n", ["imdb_rnn.models"]),
    ],
)
def test_imports_are_read_where_the_names_live(source: str, expected: list[str], tmp_path: Path, monkeypatch) -> None:
    """The reader itself: a module of `runs` importing `source` points to `expected`."""
    probe = tmp_path / "probe.py"
    probe.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, "imdb_rnn.runs.probe", probe)
    assert [target for target, _ in imports("imdb_rnn.runs.probe")] == expected


def test_the_architecture_document_draws_the_same_layers() -> None:
    drawn = "\n".join(f"{number:>2}  {' · '.join(parts)}" for number, parts in reversed(list(enumerate(LAYERS, 1))))
    assert drawn in ARCHITECTURE.read_text(encoding="utf-8"), f"docs/ARCHITECTURE.md should draw:\n{drawn}"
