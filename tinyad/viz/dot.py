"""The computation graph as a picture, through Graphviz's DOT language.

``to_dot(y)`` walks the tape behind y (see tape.py in this folder) and writes one box per
recorded primitive, labelled with its Wengert number, name and output shape, and one oval per
leaf: blue for inputs and parameters (leaves that require a gradient: backward fills their
``.grad``), grey for constants. Arrows run from inputs to the operations that read them, so
reverse mode walks them against the arrows. ``render`` turns the text into PNG, SVG or PDF with
the ``dot`` program.
"""
import shutil
import subprocess
from pathlib import Path

from ..tensor import Tensor
from .tape import constant_label, leaf_labels, walk

FORMATS = ("png", "svg", "pdf")


def to_dot(tensor, names=None):
    """Graphviz DOT text of the graph behind `tensor`; `names` maps labels to leaf tensors."""
    nodes, leaves = walk(tensor)
    labels = leaf_labels(leaves, dict(names or {}))
    ids = {id(v): f"n{k}" for k, v in enumerate(leaves + nodes)}
    lines = ["digraph tape {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];']
    for x in leaves:
        label, color = _quote(labels[id(x)]), "#eeeeee"
        if x.requires_grad:
            label, color = f"{label}\\ninput/parameter {x.shape}", "#cfe3ff"
        lines.append(f'  {ids[id(x)]} [label="{label}", shape=ellipse, style=filled, '
                     f'fillcolor="{color}"];')
    for node in nodes:
        look = 'peripheries=2, fillcolor="#fff2b3"' if node is tensor._node else \
            'fillcolor="#ffffff"'
        lines.append(f'  {ids[id(node)]} [label="#{node.index} {node.prim.name}\\n'
                     f'{node.shape}", shape=box, style="rounded,filled", {look}];')
        for k, (x, parent) in enumerate(zip(node.inputs, node.parents)):
            if parent is None:                  # a constant: its own oval, beside this node
                source = f"{ids[id(node)]}c{k}"
                lines.append(f'  {source} [label="{_quote(constant_label(x))}", shape=ellipse, '
                             'style=filled, fillcolor="#eeeeee"];')
            else:
                source = ids[id(parent)]
            lines.append(f"  {source} -> {ids[id(node)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(graph, path, names=None):
    """Write `graph` (a Tensor, or DOT text) to `path` as PNG, SVG or PDF (from the suffix) with
    Graphviz's ``dot`` program; returns the path."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"render: cannot tell the format from '{path.name}'; end the path in "
                         f"one of {', '.join('.' + f for f in FORMATS)}")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("render: the Graphviz 'dot' program was not found on PATH; install "
                           "graphviz (apt-get install graphviz, brew install graphviz or conda "
                           "install graphviz), or save ad.viz.to_dot(y) to a .dot file and view "
                           "it elsewhere")
    text = to_dot(graph, names) if isinstance(graph, Tensor) else graph
    done = subprocess.run([dot, f"-T{fmt}", "-o", str(path)], input=text.encode(),
                          capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed on the graph: {done.stderr.decode().strip()}")
    return path


def _quote(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')
