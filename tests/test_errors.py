"""Bad input gets a clear error naming the operation, the shapes and the rule that failed."""
import numpy as np
import pytest

import tinyad as ad
from tinyad.tensor import Tensor


def test_broadcast_mismatch_names_op_shapes_and_rule():
    with pytest.raises(ad.ShapeError, match=r"add.*\(2, 3\), \(4,\).*broadcasting"):
        ad.ones(2, 3) + ad.ones(4)


def test_matmul_mismatch():
    with pytest.raises(ad.ShapeError, match=r"matmul.*\(2, 3\), \(4, 5\).*shape\[-1\]"):
        ad.ones(2, 3) @ ad.ones(4, 5)
    with pytest.raises(ValueError):             # ShapeError is a ValueError
        ad.ones(2, 3) @ ad.ones(4, 5)


def test_reshape_mismatch():
    with pytest.raises(ad.ShapeError, match=r"reshape.*\(2, 3\).*as many elements"):
        ad.ones(2, 3).reshape(4, 2)


def test_backward_on_non_scalar_needs_a_gradient():
    x = ad.ones(3, requires_grad=True)
    with pytest.raises(ad.GradError, match=r"shape \(3,\).*gradient="):
        (x * 2).backward()
    with pytest.raises(ad.ShapeError, match=r"gradient shape \(2,\).*\(3,\)"):
        (x * 2).backward(ad.ones(2))


def test_second_backward_through_a_freed_graph():
    x = ad.ones(3, requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(ad.GradError, match=r"freed graph.*'sum'.*\(3,\).*retain_graph=True"):
        y.backward()


def test_backward_without_anything_to_differentiate():
    with pytest.raises(ad.GradError, match="does not require a gradient"):
        ad.ones(2).sum().backward()


def test_grad_of_non_scalar_or_integer_output():
    with pytest.raises(ad.GradError, match=r"scalar float.*shape \(3,\)"):
        ad.grad(lambda x: x * 2)(ad.ones(3))
    with pytest.raises(ad.GradError, match=r"scalar float.*int64"):
        ad.grad(lambda x: (x > 0).astype("int64").sum())(ad.ones(3))


def test_integer_input_to_grad():
    with pytest.raises(ad.DtypeError, match=r"grad: argument 0 has dtype int64.*\(3,\)"):
        ad.grad(lambda x: x.sum())(ad.tensor([1, 2, 3]))
    with pytest.raises(ad.DtypeError, match="only float32/float64"):
        ad.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float16, np.complex64, object])
def test_unknown_dtype(dtype):
    with pytest.raises(ad.DtypeError, match="unsupported dtype"):
        ad.tensor(np.zeros(2, dtype=dtype))


def test_float16_is_refused_naming_the_operation():
    """tinyad's decision on float16: refused, never computed (NumPy has no float16 arithmetic of
    its own, the kernels are float32/float64, gradients summed in float16 lose small updates)."""
    for make, name in ((lambda: ad.tensor(np.zeros(2, np.float16)), "tensor"),
                       (lambda: ad.zeros(2, dtype=np.float16), "zeros"),
                       (lambda: ad.ones(2).astype("float16"), "astype"),
                       (lambda: ad.ones(2) + np.ones(2, np.float16), "tensor"),
                       (lambda: ad.nn.Linear(2, 2).to(dtype=np.float16), "Module.to")):
        with pytest.raises(ad.DtypeError, match=rf"^{name}: unsupported dtype float16 \(float16 "
                                                r"is not computed: cast to float32\)"):
            make()
    with pytest.raises(ad.DtypeError, match="Module.to: dtype must be a float dtype"):
        ad.nn.Linear(2, 2).to(dtype=np.int64)


def test_gpu_tensor_meeting_cpu_tensor():
    class FakeGpuArray(np.ndarray):          # stands in for a CuPy array: its module says cupy
        pass
    FakeGpuArray.__module__ = "cupy._core.core"
    gpu = Tensor(np.ones(3).view(FakeGpuArray))
    with pytest.raises(ad.DeviceError, match=r"mul.*\['cpu', 'cuda'\].*\(3,\), \(3,\)"):
        ad.ones(3, dtype="float64", device="cpu") * gpu


def test_dual_tangent_shape():
    with pytest.raises(ad.ShapeError, match=r"dual: tangent shape \(2,\).*\(3,\)"):
        ad.dual(ad.ones(3), ad.ones(2))


def test_unknown_device():
    with pytest.raises(ad.DeviceError, match="unknown device 'tpu'"):
        ad.ones(2, device="tpu")


def test_out_of_range_axis_names_op_shape_and_axis():
    with pytest.raises(ad.AxisError, match=r"sum: axis 2 is out of range for shape \(2, 3\).*"
                                           r"\[-2, 2\)"):
        ad.ones(2, 3).sum(axis=2)
    with pytest.raises(ad.AxisError, match=r"transpose: axes \(0, 0\) are not a permutation"):
        ad.ones(2, 3).transpose(0, 0)
    with pytest.raises(ad.AxisError, match=r"mean: axis \(0, -2\) names an axis twice"):
        ad.ones(2, 3).mean(axis=(0, -2))


def test_squeezing_an_axis_longer_than_one():
    with pytest.raises(ad.ShapeError, match=r"squeeze: axis 1 of shape \(2, 3\) has length 3; "
                                            "only axes of length 1"):
        ad.squeeze(ad.ones(2, 3), 1)


def test_out_of_range_index_names_op_shape_and_rule():
    with pytest.raises(ad.IndexingError, match=r"getitem: input shapes \(2, 3\) with "
                                               r"index=\(slice.*, 7\).*lies in \[-n, n\)"):
        ad.ones(2, 3)[:, 7]
    with pytest.raises(IndexError, match=r"getitem.*array of shape \(2,\).*index 5 is out"):
        ad.ones(3)[np.array([0, 5])]


def test_ragged_nested_lists():
    with pytest.raises(ad.ShapeError, match=r"tensor: nested lists must be rectangular.*after "
                                            r"shape \(2,\), the lists at depth 1 have lengths 1, 2"):
        ad.tensor([[1, 2], [3]])
    with pytest.raises(ValueError, match="lists and numbers mix at depth 1"):
        ad.tensor([[1.0, 2.0], 3.0])
