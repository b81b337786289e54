"""CuPy kernels: the fused activations as ElementwiseKernels, softmax cross-entropy as a RawKernel.

Same signatures and return conventions as ``reference.py``, for CuPy arrays. Each kernel is
created (and compiled by CuPy through NVRTC, then cached on disk by CuPy) the first time it is
used. CuPy itself is imported inside the functions that need it, so the CUDA C sources below can
be read (and compiled offline with NVRTC in the tests) on a machine without CuPy.

An ElementwiseKernel writes the loop, the indexing and the broadcasting; we write one element's
work in CUDA C++ with ``T`` the dtype (float or double). Each rule reads ``v`` and sets
``fx = f(v)`` and ``dfx = f'(v)`` (the formulas of ``activations.py``); the three kernels differ only
in what ``v`` is and what they write::

    forward   v = x         y = fx, d = dfx
    jvp       v = x         y = fx, ty = dfx * t
    bias      v = x + b     y = fx, d = dfx          (b broadcasts over the rows of x)

Softmax cross-entropy runs one thread block per row: a shared-memory tree reduction finds the
row max, a second sums ``exp(z - max)`` (stored as the unnormalized gradient), and each thread
then scales its own elements to ``(softmax - onehot) / N``. The per-row losses are averaged by
CuPy.
"""
import functools

from .activations import GELU_A, GELU_K

RULES = {  # activations.py's definitions in CUDA C++ (tests hold each to its definition)
    "relu": "fx = v <= (T)0 ? (T)0 : v;  dfx = v > (T)0 ? (T)1 : (T)0;",
    "tanh": """const T e = exp((T)-2 * fabs(v));
               fx = tanh(v);  dfx = (T)4 * e / (((T)1 + e) * ((T)1 + e));""",
    "sigmoid": """const T e = exp(-fabs(v)), r = (T)1 / ((T)1 + e);
                  fx = v >= (T)0 ? r : e * r;  dfx = e * r * r;""",
    "gelu": f"""const T k2 = (T){2 * GELU_K!r}, a = (T){GELU_A!r}, v2 = v * v;
                const T u = k2 * (v + a * v * v2), e = exp(-fabs(u)), r = (T)1 / ((T)1 + e);
                const T s = u >= (T)0 ? r : e * r;
                fx = v * s;  dfx = s + v * (e * r * r) * k2 * ((T)1 + (T)3 * a * v2);""",
}

FORMS = {  # name: (inputs, outputs, v, what to write)
    "forward": ("T x", "T y, T d", "x", "y = fx; d = dfx;"),
    "jvp": ("T x, T t", "T y, T ty", "x", "y = fx; ty = dfx * t;"),
    "bias": ("T x, T b", "T y, T d", "x + b", "y = fx; d = dfx;"),
}

SOFTMAX_XENT = r"""
template <typename T>
__global__ void softmax_xent(const T* z, const long long* labels, T* grad, T* row_loss,
                             int n, int c) {
    extern __shared__ __align__(8) unsigned char shared[];
    T* red = reinterpret_cast<T*>(shared);           // blockDim.x partial results
    const int tid = threadIdx.x, r = blockIdx.x;
    const T* zr = z + (long long)r * c;
    T* gr = grad + (long long)r * c;

    T m = zr[0];                                      // 1. the row max
    for (int j = tid; j < c; j += blockDim.x) m = zr[j] > m ? zr[j] : m;
    red[tid] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s && red[tid + s] > red[tid]) red[tid] = red[tid + s];
        __syncthreads();
    }
    m = red[0];
    __syncthreads();

    T sum = 0;                                        // 2. sum of exp(z - max)
    for (int j = tid; j < c; j += blockDim.x) {
        const T e = exp(zr[j] - m);
        gr[j] = e;
        sum += e;
    }
    red[tid] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) red[tid] += red[tid + s];
        __syncthreads();
    }
    sum = red[0];

    const long long label = labels[r];                // 3. (softmax - onehot) / N
    const T inv_n = (T)1 / (T)n, scale = inv_n / sum;
    for (int j = tid; j < c; j += blockDim.x) gr[j] = gr[j] * scale - (j == label ? inv_n : (T)0);
    if (tid == 0) row_loss[r] = m + log(sum) - zr[label];
}
"""


def operation(form, name):
    """One element's CUDA C++ for kernel `form` and activation `name`."""
    _, _, v, write = FORMS[form]
    return f"const T v = {v}; T fx, dfx; {RULES[name]} {write}"


@functools.cache
def elementwise(form, name):
    import cupy
    inputs, outputs, _, _ = FORMS[form]
    return cupy.ElementwiseKernel(inputs, outputs, operation(form, name), f"tinyad_{name}_{form}")


@functools.cache
def softmax_xent_module():
    import cupy
    return cupy.RawModule(code=SOFTMAX_XENT,
                          name_expressions=["softmax_xent<float>", "softmax_xent<double>"])


def act_forward(name, x):
    return elementwise("forward", name)(x)


def act_jvp(name, x, t):
    return elementwise("jvp", name)(x, t)


def bias_act(name, x, b):
    return elementwise("bias", name)(x, b)


def softmax_xent(logits, labels):
    import cupy
    z = cupy.ascontiguousarray(logits)
    n, c = z.shape
    threads = min(1024, max(32, 1 << (c - 1).bit_length()))   # a power of two, for the tree
    grad, row_loss = cupy.empty_like(z), cupy.empty(n, z.dtype)
    ctype = {"float32": "float", "float64": "double"}[z.dtype.name]
    kernel = softmax_xent_module().get_function(f"softmax_xent<{ctype}>")
    kernel((n,), (threads,),
           (z, cupy.ascontiguousarray(labels, dtype=cupy.int64), grad, row_loss,
            cupy.int32(n), cupy.int32(c)),
           shared_mem=threads * z.itemsize)
    return row_loss.mean(), grad


def matmul(a, b):
    """``a @ b`` through cuBLAS."""
    return a @ b
