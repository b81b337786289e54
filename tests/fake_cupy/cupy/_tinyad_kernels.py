"""NumPy stand-ins for the CUDA kernels tinyad compiles (tinyad/kernels/cupy_kernels.py), built
from tinyad's own references: on the fake, a kernel call checks how it is called (devices,
dtypes, shapes, contiguity), not its CUDA C, which NVRTC compiles in tests/test_cudasim.py and
the GPU runs in bench/gpu_check.sh."""
import numpy as np

from tinyad.kernels import cupy_kernels, reference
from tinyad.kernels.activations import ACTIVATIONS

from .fake import kernel

FORMS = {"forward": reference.act_forward, "jvp": reference.act_jvp, "bias": reference.bias_act}
assert set(FORMS) == set(cupy_kernels.FORMS), "tinyad's kernel forms changed: update FORMS"

for _act in ACTIVATIONS:
    for _form, _ref in FORMS.items():
        kernel(f"tinyad_{_act}_{_form}")(lambda *arrays, act=_act, ref=_ref: ref(act, *arrays))


def _softmax_xent(ctype):
    def run(grid, block, args, shared_mem):
        z, labels, grad, row_loss, n, c = args
        assert z.dtype == {"float": np.float32, "double": np.float64}[ctype], (ctype, z.dtype)
        assert labels.dtype == np.int64 and type(n) is type(c) is np.int32, (labels.dtype, n, c)
        assert grid == (n,) and z.shape == grad.shape == (n, c) and shared_mem > 0
        _, grad[...] = reference.softmax_xent(z, labels)
        for r in range(n):
            row_loss[r] = reference.softmax_xent(z[r:r + 1], labels[r:r + 1])[0]
    return run


for _ctype in ("float", "double"):
    kernel(f"softmax_xent<{_ctype}>")(_softmax_xent(_ctype))
