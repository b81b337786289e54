"""ad.viz: the tape view, the DOT graph and its rendering, the forward-mode trace."""
import re
import shutil

import numpy as np
import pytest

import tinyad as ad
from tinyad import modes


def layer(x, w):
    return (ad.tanh(x @ w) ** 2).sum() + x.sum()


X = np.array([[1.0, -0.5, 2.0], [0.3, 0.8, -1.2]])
W = np.array([[0.2, -0.1], [0.4, 0.3], [-0.3, 0.1]])


def test_tape_rows_name_primitives_shapes_in_recorded_order(capsys):
    rows = ad.viz.tape(layer, X, W)
    assert [r["op"] for r in rows] == ["matmul", "tanh", "power", "sum", "sum", "add"]
    assert rows[0]["inputs"] == ["x", "w"]
    assert rows[0]["input_shapes"] == [(2, 3), (3, 2)] and rows[0]["shape"] == (2, 2)
    assert rows[2]["inputs"] == [f"#{rows[1]['index']}", "const 2"]
    assert rows[-1]["shape"] == ()
    made = set()
    for r in rows:                 # every node after the nodes that made its inputs
        assert all(int(i[1:]) in made for i in r["inputs"] if i.startswith("#"))
        made.add(r["index"])
    assert [r["index"] for r in rows] == sorted(r["index"] for r in rows)
    assert "x=(2, 3) [1, -0.5, 2, ...]" in rows[0]["saved"]
    printed = capsys.readouterr().out
    assert "matmul" in printed and "saved for backward" in printed


def test_tape_of_a_tensor_labels_named_and_unnamed_leaves():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0], requires_grad=True)
    y = (x * x + x * c).sum()
    rows = ad.viz.tape(y, names={"x": x}, verbose=False)
    assert rows[0]["inputs"] == ["x", "x"] and rows[1]["inputs"] == ["x", "leaf0"]
    y.backward()
    with pytest.raises(ValueError, match="freed by backward"):
        ad.viz.tape(y)


def test_dot_has_the_nodes_and_edges():
    x = ad.tensor(X, requires_grad=True)
    w = ad.tensor(W, requires_grad=True)
    y = layer(x, w)
    text = ad.viz.to_dot(y, names={"x": x, "w": w})
    assert text.startswith("digraph") and text.count("{") == text.count("}")
    ops = re.findall(r'(n\d+) \[label="#\d+ (\w+)', text)
    assert [op for _, op in ops] == ["matmul", "tanh", "power", "sum", "sum", "add"]
    ids = {op: n for n, op in ops if op != "sum"}
    leaves = dict(re.findall(r'(n\d+) \[label="(\w+)\\ninput/parameter', text))
    edges = set(re.findall(r"(n\d+) -> (n\d+);", text))
    name = {v: k for k, v in leaves.items()}
    assert (name["x"], ids["matmul"]) in edges and (name["w"], ids["matmul"]) in edges
    assert (ids["matmul"], ids["tanh"]) in edges and (ids["tanh"], ids["power"]) in edges
    assert len(re.findall(r" -> ", text)) == 2 + 1 + 2 + 1 + 1 + 2
    assert "const 2" in text and "peripheries=2" in text      # a constant; the output marked


def test_render_without_graphviz_says_how_to_install(monkeypatch, tmp_path):
    y = (ad.tensor([1.0, 2.0], requires_grad=True) ** 2).sum()
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        ad.viz.render(y, tmp_path / "graph.png")
    with pytest.raises(ValueError, match="format"):
        ad.viz.render(y, tmp_path / "graph.jpeg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_writes_png_and_svg(tmp_path):
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x + x).sum()
    png = ad.viz.render(y, tmp_path / "graph.png", names={"x": x})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = ad.viz.render(ad.viz.to_dot(y), tmp_path / "graph.svg")
    assert "<svg" in svg.read_text() and "mul" in svg.read_text()


def test_forward_trace_rows_carry_primals_and_tangents_of_jvp(capsys):
    v = (np.ones_like(X), np.linspace(-1, 1, 6).reshape(3, 2))
    rows = ad.viz.forward_trace(layer, (X, W), v)
    out, tangent = ad.jvp(layer, (X, W), v)
    assert [r["op"] for r in rows] == ["matmul", "tanh", "power", "sum", "sum", "add"]
    assert rows[0]["inputs"] == ["x", "w"] and rows[1]["inputs"] == ["v0"]
    assert rows[2]["inputs"] == ["v1", "const 2"]
    np.testing.assert_allclose(rows[-1]["primal"], out.numpy())
    np.testing.assert_allclose(rows[-1]["tangent"], tangent.numpy())
    np.testing.assert_allclose(rows[0]["primal"], X @ W)
    np.testing.assert_allclose(rows[0]["tangent"], v[0] @ W + X @ v[1])
    np.testing.assert_allclose(rows[1]["tangent"], (1 - np.tanh(X @ W) ** 2) * rows[0]["tangent"])
    assert "tangent" in capsys.readouterr().out
    assert modes.current().observers == ()                   # the observer is removed again


def test_forward_trace_keeps_to_its_own_level():
    """Under an outer jvp, only the traced jvp's own primitives appear."""
    def f(x):
        rows = ad.viz.forward_trace(lambda y: ad.sin(y) * x, (x,), (1.0,), verbose=False)
        assert [r["op"] for r in rows] == ["sin", "mul"]
        return x
    ad.jvp(f, (ad.tensor(0.5),), (ad.tensor(1.0),))
