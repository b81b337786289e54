"""What the tape keeps: each node only the values its VJP rules read (node.py), no reference
cycles, saved values that cannot silently change (the version counter), residuals that spare a
second kernel call, and rules that read what they did not declare stopped with an error."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinyad as ad
from tinyad import kernels, node, tape
from tinyad.interpreter import Primitive
from tinyad.node import OUT, Node, StandIn, Unsaved


def mlp(depth, width, batch, activation=ad.relu, seed=0):
    rng = np.random.default_rng(seed)
    params = [(ad.tensor(rng.standard_normal((width, width)).astype(np.float32) / 16,
                         requires_grad=True),
               ad.tensor(np.zeros(width, np.float32), requires_grad=True)) for _ in range(depth)]
    x = ad.tensor(rng.standard_normal((batch, width)).astype(np.float32))
    return params, x


def forward(params, x, activation=ad.relu):
    h = x
    for w, b in params:
        h = activation(h @ w + b)
    return h.sum()


def kept_after_forward(params, x, activation=ad.relu):
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        loss = forward(params, x, activation)
        return tracemalloc.get_traced_memory()[0] - start, loss
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("activation", [ad.relu, ad.tanh])
def test_the_taped_forward_pass_keeps_one_activation_per_layer(activation):
    """relu(h @ w + b): matmul keeps h and w, add nothing, the activation its output (the next
    layer's h). The pre-activations are freed as the forward pass moves on."""
    depth, width, batch = 6, 128, 256
    params, x = mlp(depth, width, batch)
    with kernels.using("numpy"):             # a fused tanh would keep its derivative too
        kept, loss = kept_after_forward(params, x, activation)
    activation_bytes = 4 * width * batch
    assert kept < (depth + 0.5) * activation_bytes, kept / activation_bytes
    loss.backward()
    assert all(w.grad is not None and b.grad is not None for w, b in params)


def test_a_fused_activation_keeps_its_derivative_for_the_backward_pass():
    depth, width, batch = 4, 128, 256
    params, x = mlp(depth, width, batch)
    with kernels.using("numba"):
        forward(params, x, ad.sigmoid)           # the kernel compiled (or loaded) first
        kept, loss = kept_after_forward(params, x, ad.sigmoid)
    per_layer = kept / (4 * width * batch * depth)
    assert 1.9 < per_layer < 2.5                 # its output and its derivative


def test_nodes_keep_only_what_their_rules_read():
    x = ad.tensor(np.ones((3, 4)), requires_grad=True)
    b = ad.tensor(np.ones(4), requires_grad=True)
    y = x + b                                    # add: g, nothing saved
    assert all(type(v) is Unsaved for v in y._node.inputs) and y._node.out is None
    assert y._node.inputs[1].shape == (4,)       # shapes stay, for fitting the cotangent
    assert y._node.output() is y._node and y._node.shape == (3, 4)   # standing in for y
    half = y * 0.5                               # mul keeps the other factor: 0.5, not y
    kept = half._node.inputs
    assert kept[0] is y._node and type(kept[1]) is ad.Tensor     # y's node stands in for y
    both = y * x                                 # both require a gradient: both kept
    assert not any(isinstance(v, StandIn) for v in both._node.inputs)
    t = ad.tanh(x)                               # tanh: its output, as an array
    assert type(t._node.inputs[0]) is Unsaved and isinstance(t._node.out, np.ndarray)
    assert isinstance(y._node, Node) and isinstance(y._node, StandIn)
    assert half._node.parents == (y._node, None) and y._node.parents == (x, b)
    (half.sum() + both.sum() + t.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.5 + 3 + (1 - np.tanh(1.0) ** 2))


def test_a_rule_that_reads_what_it_did_not_declare_is_an_error():
    sloppy = Primitive("sloppy_square", lambda x: x * x, jvp=(lambda t, out, x: 2 * x * t,),
                       vjp=(lambda g, out, x: 2 * x * g,), saves=(OUT,), register=False)
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ad.GradError, match="sloppy_square: a VJP rule read a float32 .* saves= \\(now \\('out',\\)"):
        ad.apply(sloppy, x).sum().backward()
    honest = Primitive("square", lambda x: x * x, jvp=(lambda t, out, x: 2 * x * t,),
                       vjp=(lambda g, out, x: 2 * x * g,), register=False)   # default: all
    ad.apply(honest, x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    with pytest.raises(ValueError, match="saves="):
        Primitive("bad", lambda x: x, jvp=(None,), vjp=(None,), saves=("x",), register=False)


def test_a_node_keeps_its_output_without_a_reference_cycle():
    """The node keeps the output's array; the output tensor is freed by reference counting."""
    x = ad.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    gc.disable()
    try:
        y = ad.tanh(x)
        alive = weakref.ref(y)
        loss = y.sum()                           # keeps nothing of y; tanh keeps its values
        del y
        assert alive() is None
    finally:
        gc.enable()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / np.cosh(x.numpy()) ** 2)


def test_backward_frees_what_the_tape_kept():
    params, x = mlp(4, 64, 128)
    loss = forward(params, x)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loss.backward()
        for w, b in params:
            w.grad = b.grad = None
        assert tracemalloc.get_traced_memory()[0] - before < 4 * 64 * 128 / 2
    finally:
        tracemalloc.stop()
    with pytest.raises(ad.GradError, match="freed"):
        loss.backward()


def test_new_values_between_forward_and_backward_are_an_error():
    """An optimizer step (or load_state_dict) after the forward pass gives a parameter that a
    node saved new values: backward raises, as PyTorch's version counter does, rather than mix
    old and new values."""
    rng = np.random.default_rng(0)
    w = ad.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    x = ad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    opt = ad.optim.SGD([w], lr=0.1)
    loss = ((x @ w) ** 2).sum()                       # matmul keeps w for x's rule
    w.grad = ad.ones(3, 2, dtype="float64")
    opt.step()
    with pytest.raises(ad.GradError, match="'matmul' saved its input 1 .* new values after the "
                                           "forward pass"):
        loss.backward()
    loss = ((x @ w) ** 2).sum()                       # a new forward pass reads the new values
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (x.numpy() @ w.numpy()) @ w.numpy().T)


def test_values_replaced_under_a_saved_view_stay_as_the_forward_pass_saw_them():
    """nn.Linear saves W.T, a view of W's array: an optimizer step gives W a new array, so the
    view keeps the values the forward pass used (never overwritten in place: below) and the
    gradient is that of the recorded computation."""
    model = ad.nn.Linear(3, 2)
    x = ad.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    want = ad.grad(lambda x: (model(x) ** 2).sum())(x).numpy()
    loss = (model(x) ** 2).sum()
    model.load_state_dict({k: v + 1 for k, v in model.state_dict().items()})
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), want)


@pytest.mark.parametrize("make", [lambda ps: ad.optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: ad.optim.Adam(ps, lr=0.1)])
def test_optimizers_give_new_arrays_and_never_write_into_old_ones(make):
    """What the tape may still hold (views of a parameter's array) is never written to."""
    w = ad.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    opt = make([w])
    old, version = w._data, w._version
    for _ in range(2):
        w.grad = ad.ones(2, 2)
        opt.step()
    assert w._version > version and w._data is not old
    np.testing.assert_array_equal(old, np.ones((2, 2), np.float32))


def test_assign_dates_versions_and_unsaved_values_may_change():
    """A version is the clock's time of the last ``_assign``, the clock that numbers nodes."""
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    assert w._version == 0
    before = (w * 1.0)._node.index
    w._assign(np.array([3.0, 4.0], np.float32))
    assert w._version > before and w.numpy().tolist() == [3.0, 4.0]
    assert (w * 1.0)._node.index > w._version
    y = (w + 1.0).sum()                                # add saved nothing: nothing to corrupt
    w._assign(np.zeros(2, np.float32))
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 1.0])


def test_cross_entropy_computes_its_gradient_once(monkeypatch):
    calls = []
    original = kernels.softmax_xent

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(kernels, "softmax_xent", counted)
    z = ad.tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    labels = np.array([0, 2, 1, 1, 0])
    ad.nn.functional.cross_entropy(z, labels).backward()
    assert len(calls) == 1
    zs = z.numpy()
    p = np.exp(zs) / np.exp(zs).sum(1, keepdims=True)
    np.testing.assert_allclose(z.grad.numpy(), (p - np.eye(3)[labels]) / 5, rtol=1e-12)
    hessian_row = ad.grad(lambda z: ad.grad(lambda z: ad.nn.functional.cross_entropy(
        z, labels))(z)[0, 0])(z)                        # recorded: the exact formula
    assert abs(hessian_row.numpy()[0, 0] - p[0, 0] * (1 - p[0, 0]) / 5) < 1e-12


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu"])
def test_a_fused_activation_runs_its_kernel_once_per_step(name, monkeypatch):
    """Forward and backward: one act_forward (the derivative is the node's residual); forward
    mode: one act_jvp (value and tangent), nothing else."""
    calls = []
    for entry in ("act_forward", "act_jvp"):
        original = getattr(kernels, entry)
        monkeypatch.setattr(kernels, entry, lambda *a, _e=entry, _f=original, **k:
                            calls.append(_e) or _f(*a, **k))
    x = ad.tensor(np.linspace(-3, 3, 7), requires_grad=True)
    f = getattr(ad, name)
    with kernels.using("numba"):
        f(x).backward(ad.ones(7, dtype="float64"))
        assert calls == ["act_forward"]
        calls.clear()
        _, tangent = ad.jvp(f, (x.detach(),), (ad.ones(7, dtype="float64"),))
        assert calls == ["act_jvp"]
    with kernels.using("numpy"):
        np.testing.assert_allclose(x.grad.numpy(), ad.grad(lambda x: f(x).sum())(x).numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose(tangent.numpy(), x.grad.numpy(), rtol=1e-12)


def test_saves_declarations_are_parsed():
    """plan(runs, n): which inputs to keep (bit k of runs: input k's rule will run), whether to
    keep the output, whether any input is kept."""
    assert node.Saves().plan(0b1, 1) == (None, True, True)
    assert node.Saves(()).plan(0b11, 2) == ((False, False), False, False)
    bilinear = node.Saves(((1,), (0, OUT)))
    assert bilinear.plan(0b01, 2) == ((False, True), False, True)
    assert bilinear.plan(0b10, 2) == ((True, False), True, True)
    assert bilinear.plan(0b11, 2) == ((True, True), True, True)
    assert tape.vertex(ad.tensor(1.0)) is not None


def test_a_primitive_that_declares_nothing_keeps_its_inputs_and_output():
    """The default declaration is safe: a primitive without ``saves=`` (tan, from the breadth
    of operations) keeps every input and its output, and its gradient is right."""
    x = ad.tensor([0.1, 0.2], requires_grad=True)
    y = ad.tan(x)
    assert y._node.inputs[0] is x and y._node.out is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / np.cos([0.1, 0.2]) ** 2, rtol=1e-6)


def test_a_node_inside_vmap_keeps_its_batched_output_as_a_new_batch():
    """tanh keeps its output; inside vmap that output is a batch, rebuilt from its parts for
    the node (Tracer._copy), so per-example gradients through it match a loop."""
    xs = ad.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2))
    per = ad.vmap(ad.grad(lambda x: ad.tanh(x * x).sum()))(xs)
    expected = [2 * x / np.cosh(x * x) ** 2 for x in xs.numpy()]
    np.testing.assert_allclose(per.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_batchnorm_running_statistics_are_assigned_with_a_version():
    """A module's buffers get new values through ``_assign`` too (running statistics): a node
    that saved one refuses to run after the update instead of reading the new values."""
    bn = ad.nn.BatchNorm1d(2).eval()
    x = ad.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    loss = (bn(x) * bn.running_var).sum()              # mul keeps running_var for x's rule
    before = bn.running_var._version
    bn.train()(x)                                      # updates the running statistics
    assert bn.running_var._version > before
    with pytest.raises(ad.GradError, match="given new values"):
        loss.backward()
