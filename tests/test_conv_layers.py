"""Convolution layers against their definitions: groups are the per-group convolutions side by
side, dilation a kernel spread with zeros, uneven padding the input padded first, "same" keeps
the shape, conv1d a conv2d on a row, conv_transpose2d each input pixel scattering the kernel
(and the adjoint of conv2d); gradients of both modes to second order; PyTorch's values and
gradients where torch is installed. (The primitives themselves: tests/window_specs.py.)"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyad as ad
from tinyad import nn
from tinyad.nn import functional as F

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def conv(x, w, *args, **kwargs):
    return F.conv2d(ad.tensor(x), ad.tensor(w), *args, **kwargs).numpy()


@given(groups=st.sampled_from([1, 2, 3]), per_in=st.integers(1, 2), per_out=st.integers(1, 2),
       stride=st.integers(1, 2), dilation=st.integers(1, 2))
@settings(max_examples=15, deadline=None)
def test_groups_are_the_per_group_convolutions_side_by_side(groups, per_in, per_out, stride,
                                                            dilation):
    x, w = randn(2, groups * per_in, 7, 6), randn(groups * per_out, per_in, 3, 2)
    b = randn(groups * per_out)
    got = conv(x, w, ad.tensor(b), stride, 1, dilation, groups)
    parts = [conv(x[:, g * per_in:(g + 1) * per_in], w[g * per_out:(g + 1) * per_out],
                  ad.tensor(b[g * per_out:(g + 1) * per_out]), stride, 1, dilation)
             for g in range(groups)]
    np.testing.assert_allclose(got, np.concatenate(parts, axis=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dilation", [(1, 1), (2, 1), (3, 2)])
def test_dilation_is_the_kernel_spread_with_zeros(dilation):
    x, w = randn(2, 3, 11, 10), randn(4, 3, 3, 2)
    (dh, dw), (kh, kw) = dilation, w.shape[2:]
    spread = np.zeros((4, 3, dh * (kh - 1) + 1, dw * (kw - 1) + 1))
    spread[:, :, ::dh, ::dw] = w
    np.testing.assert_allclose(conv(x, w, None, (2, 1), 1, dilation), conv(x, spread, None,
                               (2, 1), 1), rtol=1e-12, atol=1e-12)


def test_uneven_padding_is_the_input_padded_first():
    x, w = randn(2, 3, 6, 5), randn(4, 3, 3, 3)
    padding = ((0, 2), (3, 1))
    padded = np.pad(x, ((0, 0), (0, 0)) + padding)
    np.testing.assert_allclose(conv(x, w, None, 1, padding), conv(padded, w), rtol=1e-12)
    np.testing.assert_allclose(conv(x, w, None, 2, (1, (0, 2))),
                               conv(np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 2))), w, None, 2),
                               rtol=1e-12)


@pytest.mark.parametrize("kernel, dilation", [(1, 1), (2, 1), (3, 1), (4, 1), (4, 3), (3, 2)])
def test_same_padding_keeps_the_shape_and_puts_the_odd_pad_after(kernel, dilation):
    x, w = randn(2, 3, 7, 8), randn(5, 3, kernel, kernel)
    out = conv(x, w, None, 1, "same", dilation)
    assert out.shape == (2, 5, 7, 8)
    total = dilation * (kernel - 1)
    pads = (total // 2, total - total // 2)
    np.testing.assert_allclose(out, conv(x, w, None, 1, (pads, pads), dilation), rtol=1e-12)
    if total < 7:
        assert conv(x, w, None, 1, "valid", dilation).shape == (2, 5, 7 - total, 8 - total)


def test_conv1d_is_conv2d_on_a_row_and_takes_unbatched_input():
    x, w, b = randn(2, 4, 13), randn(6, 2, 3), randn(6)
    got = F.conv1d(ad.tensor(x), ad.tensor(w), ad.tensor(b), 2, ((2, 1),), 2, 2).numpy()
    want = conv(x[:, :, None], w[:, :, None], ad.tensor(b), (1, 2), (0, (2, 1)), (1, 2), 2)
    np.testing.assert_allclose(got, want[:, :, 0], rtol=1e-12)
    one = F.conv1d(ad.tensor(x[0]), ad.tensor(w), ad.tensor(b), 2, ((2, 1),), 2, 2).numpy()
    np.testing.assert_allclose(one, got[0], rtol=1e-12)
    assert F.conv1d(ad.tensor(x), ad.tensor(w), None, padding="same", groups=2).shape == (2, 6, 13)


def transpose_reference(x, w, b, stride, padding, output_padding, groups, dilation):
    """Each input pixel x[n, c, y, x] adds x · w[c, o] at rows y·s - p + i·d, cols alike."""
    n, cin, h, wd = x.shape
    cout_g, kh, kw = w.shape[1:]
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    hout = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wout = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = np.zeros((n, cout_g * groups, hout, wout)) + b[:, None, None]
    for b_, c, y, z, o, i, j in np.ndindex(n, cin, h, wd, cout_g, kh, kw):
        r, q = y * sh - ph + i * dh, z * sw - pw + j * dw
        if 0 <= r < hout and 0 <= q < wout:
            out[b_, c // (cin // groups) * cout_g + o, r, q] += x[b_, c, y, z] * w[c, o, i, j]
    return out


TRANSPOSED = [  # stride, padding, output_padding, groups, dilation
    ((1, 1), (0, 0), (0, 0), 1, (1, 1)),
    ((2, 2), (1, 1), (1, 1), 1, (1, 1)),
    ((3, 2), (2, 0), (2, 1), 2, (1, 1)),
    ((1, 1), (0, 1), (2, 1), 1, (3, 2)),     # output_padding >= stride: rows no window reaches
    ((2, 1), (1, 0), (0, 0), 2, (2, 2)),
]


@pytest.mark.parametrize("stride, padding, output_padding, groups, dilation", TRANSPOSED)
def test_conv_transpose2d_matches_its_definition(stride, padding, output_padding, groups,
                                                 dilation):
    x, w, b = randn(2, 4, 4, 3), randn(4, 3, 3, 2), randn(3 * groups)
    got = F.conv_transpose2d(ad.tensor(x), ad.tensor(w), ad.tensor(b), stride, padding,
                             output_padding, groups, dilation).numpy()
    want = transpose_reference(x, w, b, stride, padding, output_padding, groups, dilation)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv_transpose2d(y, w), x> = <y, conv2d(x, w)> for the same stride, padding, dilation
    and groups: the weight read as conv2d's (O, C/G, kh, kw) with O = y's channels."""
    w, y = randn(4, 3, 3, 2), randn(2, 4, 4, 5)
    t = F.conv_transpose2d(ad.tensor(y), ad.tensor(w), None, 2, 1, 0, 2, (1, 2)).numpy()
    x = randn(*t.shape)
    assert np.isclose(np.sum(t * x), np.sum(y * conv(x, w, None, 2, 1, (1, 2), 2)))


@pytest.mark.parametrize("name, f, shapes", [
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, 2, "valid", 2, 2), [(2, 4, 9), (4, 2, 2), (4,)]),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, 1, "same", (2, 1), 3),
     [(1, 3, 5, 4), (3, 1, 2, 3), (3,)]),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, 1, 0, 2, 1, 3),
     [(1, 2, 3, 3), (2, 2, 2, 2), (2,)]),
])
def test_gradients_of_both_modes_to_second_order(name, f, shapes):
    args = [ad.tensor(randn(*s)) for s in shapes]
    assert ad.gradcheck(f, *args, order=2), name


def test_layers_hold_pytorch_shapes_and_initialisation():
    conv2 = nn.Conv2d(6, 4, (3, 2), padding="same", dilation=2, groups=2, bias=True)
    assert conv2.weight.shape == (4, 3, 3, 2) and conv2.padding == "same"
    assert np.abs(conv2.weight.numpy()).max() <= 1 / np.sqrt(3 * 3 * 2)
    assert conv2(ad.randn(2, 6, 7, 5, seed=0)).shape == (2, 4, 7, 5)
    tconv = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert tconv.weight.shape == (4, 3, 3, 3)
    assert np.abs(tconv.bias.numpy()).max() <= 1 / np.sqrt(3 * 3 * 3)
    assert tconv(ad.randn(2, 4, 5, 5, seed=0)).shape == (2, 6, 10, 10)
    conv1 = nn.Conv1d(3, 5, 4, stride=2, padding=((1, 2),))
    assert conv1.weight.shape == (5, 3, 4) and conv1(ad.randn(3, 11, seed=0)).shape == (5, 6)
    assert nn.Conv2d(2, 2, 3, padding=((1, 0), 2)).padding == ((1, 0), 2)
    assert "groups=2" in repr(conv2) and "output_padding=(1, 1)" in repr(tconv)


def test_bad_arguments_name_the_operation_and_the_rule():
    x = ad.randn(1, 4, 6, 6, seed=0)
    with pytest.raises(ValueError, match="Conv2d.*divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode 'reflect'"):
        nn.Conv2d(4, 4, 3, padding_mode="reflect")
    with pytest.raises(ad.ShapeError, match="conv2d.*agree on C with groups=2"):
        F.conv2d(x, ad.randn(4, 3, 3, 3, seed=0), groups=2)
    with pytest.raises(ad.ShapeError, match="conv2d.*does not fit"):
        F.conv2d(x, ad.randn(2, 4, 3, 3, seed=0), dilation=3)
    with pytest.raises(ValueError, match="conv_transpose2d: output_padding"):
        F.conv_transpose2d(x, ad.randn(4, 2, 3, 3, seed=0), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="conv1d: padding"):
        F.conv1d(ad.randn(1, 2, 5, seed=0), ad.randn(2, 2, 3, seed=0), padding="full")
    with pytest.raises(ad.ShapeError, match="conv1d: input must be"):
        F.conv1d(x, ad.randn(2, 4, 3, seed=0))


@pytest.mark.gpu
def test_grouped_dilated_and_transposed_layers_on_the_device_match_the_cpu():
    x = randn(2, 4, 7, 6).astype(np.float32)
    results = {}
    for device in ("cpu", "cuda"):
        nn.init.seed(0)
        model = nn.Sequential(nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2),
                              nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1,
                                                 groups=2)).to(device)
        out = model(ad.tensor(x, device=device))
        out.sum().backward()
        results[device] = [out] + [p.grad for p in model.parameters()]
    for a, b in zip(results["cpu"], results["cuda"]):
        assert b.device == "cuda"
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-5)


# --- PyTorch, where it is installed -------------------------------------------------------------
@given(data=st.data())
@settings(max_examples=25, deadline=None)
def test_values_and_gradients_match_pytorch(data):
    torch = pytest.importorskip("torch")
    groups = data.draw(st.sampled_from([1, 2]))
    k = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    padding = (data.draw(st.integers(0, 1)), data.draw(st.integers(0, 2)))
    x, w, b = randn(2, 2 * groups, 8, 7), randn(2 * groups, 2, *k), randn(2 * groups)
    transposed = data.draw(st.booleans())
    if transposed:
        extra = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        ours = lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, extra, groups,  # noqa
                                                  dilation)
        theirs = lambda x, w, b: torch.nn.functional.conv_transpose2d(  # noqa: E731
            x, w, b, stride, padding, extra, groups, dilation)
    else:
        ours = lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups)  # noqa
        theirs = lambda x, w, b: torch.nn.functional.conv2d(  # noqa: E731
            x, w, b, stride, padding, dilation, groups)
    args = [ad.tensor(a, requires_grad=True) for a in (x, w, b)]
    targs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out, tout = ours(*args), theirs(*targs)
    g = randn(*out.shape)
    out.backward(ad.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    for a, t in zip(args, targs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)
