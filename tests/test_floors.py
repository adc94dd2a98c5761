"""The floors of the code (docs/architecture.md, "Floors"), checked on every module's imports.

A module may import only from its own floor or a lower one; no stage imports another stage
(transforms/embeds, the print layout and the writers talk through the Book and the print
edition, except that writers read the layout's edition); no writer imports another writer.
Imports are read with ``ast`` (at module level and inside functions alike); a name imported
under ``if TYPE_CHECKING:`` only types an annotation and is not a dependency at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pubpipe"

# top to bottom; a module belongs to the floor of its longest matching prefix
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("cli", ("pubpipe.cli", "pubpipe.__main__", "pubpipe.commands")),
    ("pipeline", ("pubpipe.pipeline", "pubpipe.buildcache")),
    ("writers", ("pubpipe.write",)),
    ("layout", ("pubpipe.layout",)),
    ("transforms", ("pubpipe.transforms", "pubpipe.embeds")),
    ("context", ("pubpipe.context", "pubpipe.layout.settings")),
    ("assets", ("pubpipe.assets",)),
    ("config", ("pubpipe.config",)),
    ("readers", ("pubpipe.readers",)),
    ("document", ("pubpipe", "pubpipe.document", "pubpipe.util", "pubpipe.htmlmodel",
                  "pubpipe.i18n", "pubpipe.errors", "pubpipe.resources", "pubpipe.progress",
                  "pubpipe.budget", "pubpipe.prepare", "pubpipe.qr")),
]
RANK = {name: len(FLOORS) - i for i, (name, _) in enumerate(FLOORS)}
STAGES = {"transforms", "layout", "writers"}
READS = {("writers", "layout")}  # the writers read the print edition the layout stage made
WRITER_SHARED = {"common", "output"}  # write/ modules every writer may use: not writers


def floor_of(module: str) -> str:
    best, floor = -1, ""
    for name, prefixes in FLOORS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, floor = len(prefix), name
    if not floor:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS and to the docs")
    return floor


def writer_of(module: str) -> str | None:
    """The writer a module of write/ belongs to (epub, pdf, html), None for shared modules."""
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "write" or parts[2] in WRITER_SHARED:
        return None
    return parts[2]


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def import_target(node: ast.ImportFrom, package: list[str]) -> str:
    """The dotted module a ``from ... import`` names, relative levels resolved against package."""
    if node.level:
        base = package[: len(package) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def imports_of(module: str, source: str, is_package: bool) -> set[str]:
    """The pubpipe modules (or names in them) that a module's source imports at run time."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "pubpipe")
        elif isinstance(node, ast.ImportFrom):
            target = import_target(node, package)
            if target.split(".")[0] != "pubpipe":
                continue
            if node.module:
                found.add(target)
            else:  # from . import x: x is a module of that package
                found.update(f"{target}.{a.name}" for a in node.names)
    return found


def violations(modules: dict[str, tuple[str, bool]]) -> list[str]:
    """module -> (source, is_package): every import that breaks a rule, as a sentence."""
    bad = []
    for module, (source, is_package) in sorted(modules.items()):
        mine = floor_of(module)
        for target in sorted(imports_of(module, source, is_package)):
            theirs = floor_of(target)
            if RANK[theirs] > RANK[mine]:
                bad.append(f"{module} ({mine}) imports {target}, a higher floor ({theirs})")
            elif (mine != theirs and mine in STAGES and theirs in STAGES
                  and (mine, theirs) not in READS):
                bad.append(f"{module} ({mine}) imports {target}: a stage importing another"
                           f" stage ({theirs})")
            elif writer_of(module) and writer_of(target) and writer_of(module) != writer_of(target):
                bad.append(f"{module} imports {target}: a writer importing another writer")
    return bad


def _package_modules() -> dict[str, tuple[str, bool]]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path.read_text(encoding="utf-8"), is_package)
    return out


def test_every_module_keeps_to_its_floor():
    modules = _package_modules()
    assert len(modules) > 50  # the whole package was read
    assert violations(modules) == []


def test_every_import_names_a_module_that_exists():
    """Imports inside functions run late: one naming a module that moved fails only then."""
    modules = _package_modules()
    missing = []
    for module, (source, is_package) in sorted(modules.items()):
        package = module.split(".") if is_package else module.split(".")[:-1]
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pubpipe"):
                target = node.module
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.split(".")[0] == "pubpipe"]
                missing += [f"{module} imports {n}" for n in names if n not in modules]
                continue
            else:
                continue
            if target not in modules:  # from X import y: X is a module or package
                missing.append(f"{module} imports from {target}, which does not exist")
    assert missing == []


@pytest.mark.parametrize("module,source,why", [
    ("pubpipe.layout.markup", "from ..write.common import prepare_body\n", "higher floor"),
    ("pubpipe.layout.markup", "def f():\n    from ..write.qr import qr_element\n", "higher floor"),
    ("pubpipe.transforms.assets", "from pubpipe.write import html\n", "higher floor"),
    ("pubpipe.write.epub.builder", "from ...transforms import ids\n", "another stage"),
    ("pubpipe.write.epub.builder", "from ..pdf import merge\n", "another writer"),
    ("pubpipe.write.html", "from . import epub\n", "another writer"),
    ("pubpipe.config", "import pubpipe.assets.store\n", "higher floor"),
    ("pubpipe.document", "from .readers import read_book\n", "higher floor"),
])
def test_the_checker_finds_each_kind_of_violation(module, source, why):
    found = violations({module: (source, False)})
    assert len(found) == 1 and why in found[0], found


def test_the_checker_allows_what_the_floors_allow():
    allowed = {
        "pubpipe.write.pdf.merge": ("from ...layout.edition import PrintEdition\n"
                                    "from ..common import to_xhtml\nfrom ...prepare import x\n",
                                    False),
        "pubpipe.readers": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                            "    from ..config import Config\n", True),
        "pubpipe.layout.stage": "from ..context import BuildContext\n",
    }
    allowed["pubpipe.layout.stage"] = (allowed["pubpipe.layout.stage"], False)
    assert violations(allowed) == []


def private_uses(module: str, source: str, is_package: bool) -> list[str]:
    """Private names (one leading underscore) of another pubpipe module that a module uses:
    imported by name (``from .x import _helper``) or reached through an imported module
    (``x._helper``). What two modules share is a public name of the one that owns it."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[str] = []
    ours: set[str] = set()  # names bound to pubpipe modules (or names in them)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = import_target(node, package)
            if target.split(".")[0] != "pubpipe":
                continue
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"{module} imports {a.name} from {target}")
                ours.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "pubpipe":
                    ours.add(a.asname or a.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in ours and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            found.append(f"{module} uses {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = []
    for module, (source, is_package) in sorted(_package_modules().items()):
        found += private_uses(module, source, is_package)
    assert found == []


@pytest.mark.parametrize("source,hits", [
    ("from .postprocess import _recolor, padded_page_count\n", 1),
    ("def f():\n    from . import postprocess\n    postprocess._recolor(w, 'cmyk')\n", 1),
    ("from pubpipe.layout.stage import _key as key\n", 1),
    ("from .postprocess import convert_colors\nimport os\nos._exit(0)\n", 0),
    ("from ._private_module import thing\n", 0),  # a module's own name is not a private name
])
def test_the_private_name_checker(source, hits):
    assert len(private_uses("pubpipe.write.pdf.cover", source, False)) == hits
