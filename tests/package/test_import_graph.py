"""The package's import graph has no circle: every `import` of a hifigan module, at the top of a file, inside a
function or under `if TYPE_CHECKING:` (a deferred or type-only import closes a circle just the same)."""

from __future__ import annotations

import ast
from pathlib import Path

import hifigan

ROOT = Path(hifigan.__file__).parent


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its __init__.py)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The hifigan modules `name` imports: for `from a.b import c`, a.b.c when that is a module, else a.b."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names if alias.name in modules)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join([*package[: len(package) - child.level + 1], *([base] if base else [])])
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    if target in modules:
                        found.add(target)
                    elif base in modules:
                        found.add(base)
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (a -> b -> ... -> a) if there is any, by depth-first search."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once every path from it is explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path[path.index(target):], target]
            if target not in state and (circle := visit(target)):
                return circle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (circle := visit(start)):
            return circle
    return None


def test_the_walker_sees_deferred_relative_package_and_type_checking_imports(tmp_path):
    source = tmp_path / "example.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hifigan.config import X\n")
    assert imported("hifigan.example", source, module_files()) == {"hifigan.config"}
    graph = import_graph()
    assert "hifigan.checkpoints.contents" in graph["hifigan.inference.vocoder"]  # top of the file
    assert "hifigan.pretrained" in graph["hifigan.inference.vocoder"]  # inside a method
    assert "hifigan.models.generator" in graph["hifigan.models"]  # a package's __init__
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle():
    circle = find_circle(import_graph())
    assert circle is None, "import circle: " + " -> ".join(circle)


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_config_is_a_leaf():
    """hifigan.config imports nothing from training/ or models/, even indirectly: each part checks its own
    arguments when it is built (hifigan.training.registry), so the config needs no registry."""
    upward = {m for m in reachable(import_graph(), "hifigan.config")
              if m.startswith(("hifigan.training", "hifigan.models"))}
    assert upward == set()
    assert "hifigan.config" in import_graph()["hifigan.models.generator"]  # a plain import, no circle


def test_the_loading_layers():
    """official_keys is pure key mapping (no hifigan import); the file format knows nothing of official files;
    everything that asks "ours or official?" goes through hifigan.checkpoints.contents."""
    graph = import_graph()
    assert graph["hifigan.checkpoints.official"] == set()
    assert not {"hifigan.checkpoints.official", "hifigan.checkpoints.contents"} & graph["hifigan.checkpoints.format"]
    for user in ("hifigan.inference.vocoder", "hifigan.training.init_weights", "hifigan.checkpoints.export_official",
                 "hifigan.pretrained"):
        assert "hifigan.checkpoints.contents" in graph[user], user


def test_one_module_per_name_but_a_command_and_its_library():
    """No two modules share a name, unless one is a command (hifigan.cli.NAME) and the other its library, and each
    docstring names the other."""
    by_name: dict[str, list[str]] = {}
    for name, path in module_files().items():
        if path.name != "__init__.py":
            by_name.setdefault(name.rsplit(".", 1)[1], []).append(name)
    shared = {base: names for base, names in by_name.items() if len(names) > 1}
    assert shared, "the commands and their libraries share names (bench, demo, evaluate, export, pretrained)"
    for base, names in shared.items():
        commands = [n for n in names if n == f"hifigan.cli.{base}"]
        assert len(names) == 2 and commands, f"{base}: {names}"
        library = next(n for n in names if n not in commands)
        files = module_files()
        command_doc = ast.get_docstring(ast.parse(files[commands[0]].read_text())) or ""
        library_doc = ast.get_docstring(ast.parse(files[library].read_text())) or ""
        assert library in " ".join(command_doc.split()), f"{commands[0]} does not name its library {library}"
        assert f"cli/{base}.py" in library_doc, f"{library} does not name its command cli/{base}.py"
