"""The package's shape, checked: the teaching core apart from ingestion and the speed machinery, modules
layered without import cycles (imports inside functions count), no function over 80 lines, no benchmark
inside the teaching package."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wikiart_utils"
MODULES = {".".join(p.relative_to(PACKAGE).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")
           if p.stem not in ("__init__", "__main__")}  # "train", "ingest.index", "speed.gpu_input", ...
ROOMS = ("ingest", "speed")  # the rest is the teaching core
# The only places the core reaches into the speed machinery or ingestion, and why:
HOOKS = {
    ("train", "speed.gpu_input"): "--decode: where a run's JPEGs are decoded and augmented",
    ("train", "speed.features"): "--cached-features: the frozen backbone's token cache",
    ("train", "speed.distributed"): "torchrun: DDP around the same loop",
    ("evaluate", "speed.gpu_input"): "evaluate --decode: the same input path as training",
    ("lesson.training", "speed.features"): "fit_on_cache: the notebooks train heads on a run's cache",
    ("lesson.reading", "speed.features"): "notebook 04: every reader trains on one shared token cache",
    ("data", "ingest.sample"): "dataset_dir('synthetic'): the notebooks' synthetic sample, made on first use",
}


def room(module: str) -> str:
    return module.split(".")[0] if "." in module else "core"


def sibling_imports(path: Path) -> set[str]:
    """Package modules `path` imports anywhere (top level or inside a function), as MODULES names."""
    here = path.relative_to(PACKAGE).parent.parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(here[:len(here) - (node.level - 1)]) + (node.module.split(".") if node.module else [])
            found.add(".".join(base))
            found.update(".".join(base + [alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wikiart_utils"):
            base = node.module.split(".")[1:]
            found.add(".".join(base))
            found.update(".".join(base + [alias.name]) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("wikiart_utils."))
    return found & set(MODULES)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_rooms_exist():
    assert {"train", "engine", "models", "losses", "data", "evaluate", "config"} <= set(MODULES)
    assert {"ingest.index", "ingest.sample", "ingest.artgan", "speed.gpu_input", "speed.features",
            "speed.distributed"} <= set(MODULES)


def test_the_core_reaches_the_other_rooms_only_through_its_hooks():
    """The teaching core imports no speed or ingestion module except where a hook above needs it (cli,
    the front door, runs every command); ingestion and the speed machinery never import each other."""
    crossings = {(name, other) for name, path in MODULES.items() for other in sibling_imports(path)
                 if room(other) != room(name) and room(other) != "core"}
    unexplained = {c for c in crossings if c not in HOOKS and not (c[0] == "cli" and room(c[1]) == "ingest")}
    assert not unexplained, sorted(unexplained)
    assert not {c for c in HOOKS if c not in crossings}, "a hook listed here is no longer used: drop it"


def test_engine_needs_no_speed_machinery():
    assert not {m for m in sibling_imports(MODULES["engine"]) if room(m) != "core"}


def test_no_import_cycles():
    graph = {name: sibling_imports(path) - {name} for name, path in MODULES.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))
    assert "config" in graph["cli"] and "speed.gpu_input" in graph["train"]  # the resolver sees both kinds


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_function_over_80_lines(name):
    tree = ast.parse(MODULES[name].read_text("utf-8"))
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80]
    assert not long, f"{name}.py: {', '.join(long)}"


def test_no_benchmark_in_the_package():
    assert not [name for name in MODULES if name.split(".")[-1].startswith("bench")]
