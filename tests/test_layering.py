"""The engine's layers, read from its import statements (every one, deferred ones included).

The interpreter core (tensor, modes, interpreter, dual, tape) never imports the op layer or the table
built on it, the only import circle is the inherent one (rules are written in ops; ops call the
table), and tinyad/__init__.py imports rung by rung, each module after everything it needs."""
import ast
import pathlib

import tinyad

PACKAGE = pathlib.Path(tinyad.__file__).parent
APART = {"tinyad.kernels"}   # installed from kernels/; it imports nothing of tinyad
CORE = ("tinyad.tensor", "tinyad.modes", "tinyad.interpreter", "tinyad.dual", "tinyad.tape")
OP_LAYER = ("tinyad.ops", "tinyad.primitives")


def modules():
    """{dotted name: path} for every module of the tinyad package (tinyad.kernels lives apart)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("tinyad",) + path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph():
    """{module: the tinyad modules its import statements name}."""
    mods = modules()
    graph = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in mods)
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                target = ".".join(p for p in (base, node.module) if p)
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    deps.add(sub if sub in mods or sub in APART else target)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def reachable(graph, start):
    seen, stack = set(), [start]
    while stack:
        for dep in graph[stack.pop()]:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def circles(graph):
    """The import circles: groups of two or more modules that each reach all the others."""
    reach = {m: reachable(graph, m) for m in graph}
    groups = {frozenset(m2 for m2 in reach[m] if m in reach[m2]) | {m} for m in graph}
    return [g for g in groups if len(g) > 1]


def in_op_layer(name):
    return name.startswith(OP_LAYER)


def test_the_interpreter_core_never_imports_the_op_layer():
    graph = import_graph()
    for module in CORE:
        assert not [m for m in reachable(graph, module) | {module} if in_op_layer(m)], module


def test_the_only_import_circle_is_the_table_with_the_ops():
    groups = circles(import_graph())
    assert groups, "the table and the ops use each other: one circle is expected"
    for group in groups:
        assert all(in_op_layer(m) for m in group), sorted(group)


def test_init_imports_each_module_after_the_modules_it_needs():
    """Read at the level __init__ imports: a package (ops, primitives) with its submodules."""
    graph = {}
    for module, deps in import_graph().items():
        graph.setdefault(top(module), set()).update(top(d) for d in deps if top(d) != top(module))
    circle = {m for group in circles(graph) for m in group}
    done = set()
    for node in ast.parse((PACKAGE / "__init__.py").read_text()).body:
        if not isinstance(node, ast.ImportFrom) or node.level != 1:
            continue
        names = [f"tinyad.{node.module}"] if node.module else \
            [f"tinyad.{a.name}" for a in node.names if f"tinyad.{a.name}" in graph]
        for name in names:
            needed = reachable(graph, name) - {name, "tinyad"}
            missing = {m for m in needed - done if not (m in circle and name in circle)}
            assert not missing, f"tinyad/__init__.py imports {name} before {sorted(missing)}"
            done |= needed | {name}


def top(module):
    """tinyad.ops.shape -> tinyad.ops: a module as part of what __init__ imports."""
    return ".".join(module.split(".")[:2])
