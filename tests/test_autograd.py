"""PyTorch's autograd vocabulary: ad.autograd.grad, Tensor.retain_grad, .is_leaf, and .grad of
a computed tensor (values worked out by hand, as PyTorch gives them)."""
import warnings

import numpy as np
import pytest

import tinyad as ad


def leaf(values):
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_grad_returns_one_gradient_per_input_and_leaves_grad_alone():
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    out = (a * a).sum() + (b * a).sum()
    ga, gb = ad.autograd.grad(out, [a, b])
    np.testing.assert_allclose(ga.numpy(), 2 * a.numpy() + 3)
    np.testing.assert_allclose(gb.numpy(), [3.0])
    assert a.grad is None and b.grad is None and not ga.requires_grad
    (g,) = ad.autograd.grad((a * 2).sum(), a)          # one tensor for one input
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0])


def test_several_outputs_and_grad_outputs():
    a = leaf([1.0, 2.0])
    (g,) = ad.autograd.grad([(a * a).sum(), (a * 3).sum()], [a])
    np.testing.assert_allclose(g.numpy(), [5.0, 7.0])
    (g,) = ad.autograd.grad([a * a, (a * 3).sum()], [a], grad_outputs=[ad.ones(2), None])
    np.testing.assert_allclose(g.numpy(), [5.0, 7.0])
    (g,) = ad.autograd.grad(a * a, a, grad_outputs=ad.tensor([1.0, 10.0]))
    np.testing.assert_allclose(g.numpy(), [2.0, 40.0])
    with pytest.raises(ad.GradError, match="single-element"):
        ad.autograd.grad(a * a, a)
    with pytest.raises(ad.GradError, match="1 grad_outputs for 2 outputs"):
        ad.autograd.grad([a.sum(), a.sum()], a, grad_outputs=[None])


def test_unused_inputs_and_inputs_without_gradient():
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    with pytest.raises(ad.GradError, match="input 1 .* not used.*allow_unused=True"):
        ad.autograd.grad((a * a).sum(), [a, b])
    ga, gb = ad.autograd.grad((a * a).sum(), [a, b], allow_unused=True)
    assert gb is None and ga is not None
    with pytest.raises(ad.GradError, match="input 0 .* does not require a gradient"):
        ad.autograd.grad((a * a).sum(), ad.tensor([1.0]))
    with pytest.raises(ad.GradError, match="output 0 .* does not require a gradient"):
        ad.autograd.grad(ad.tensor([1.0]).sum(), a)


def test_create_graph_gives_differentiable_gradients_and_keeps_the_graph():
    a = leaf([1.0, 2.0])
    out = (a ** 3).sum()
    (g,) = ad.autograd.grad(out, a, create_graph=True)
    assert g.requires_grad
    (gg,) = ad.autograd.grad(g.sum(), a)
    np.testing.assert_allclose(gg.numpy(), 6 * a.numpy())
    (again,) = ad.autograd.grad(out, a)                 # retain_graph defaulted to True
    np.testing.assert_allclose(again.numpy(), 3 * a.numpy() ** 2)
    with pytest.raises(ad.GradError, match="freed"):
        ad.autograd.grad(out, a)
    out = (a * a).sum()
    ad.autograd.grad(out, a, retain_graph=True)
    ad.autograd.grad(out, a)


def test_gradient_with_respect_to_a_computed_tensor():
    a = leaf([1.0, 2.0])
    h = a * 2
    (g,) = ad.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(g.numpy(), [4.0, 8.0])
    assert a.grad is None


def test_retain_grad_fills_a_computed_tensors_grad_and_adds_up():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [8.0, 16.0])
    np.testing.assert_allclose(x.grad.numpy(), [16.0, 32.0])
    assert not y.is_leaf and x.is_leaf and not y.grad.requires_grad
    z = x * 3
    z.retain_grad()
    z.sum().backward()                                  # the root itself
    np.testing.assert_allclose(z.grad.numpy(), [1.0, 1.0])
    x.retain_grad()                                     # a leaf: nothing to do
    with pytest.raises(ad.GradError, match="does not require a gradient"):
        ad.tensor([1.0]).retain_grad()


def test_grad_of_a_computed_tensor_that_did_not_ask_warns():
    x = leaf([1.0])
    z = x * 3
    z.sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert z.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None and ad.tensor([1.0]).grad is None
