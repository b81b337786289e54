"""The fake device array: a NumPy array inside, CuPy 14's rules outside.

What CuPy refuses, this refuses, with CuPy's error types:

- implicit conversion to NumPy: ``np.asarray(x)`` and ``np.array(x)`` call ``__array__``, which
  raises TypeError; so does any NumPy function CuPy does not implement (``__array_function__``);
- host data in device arithmetic: a NumPy array (even 0-d) or a list as an operand of a ufunc or
  an operator, or as the value of ``x[i] = v``, raises ``TypeError: Unsupported type``. Python and
  NumPy scalars are fine (they are passed to the kernel as arguments);
- ``__index__``: a device integer is not a Python int (``range(x)`` fails).

What CuPy allows but costs, this allows and counts (see fake.py): reading values back
(``float``, ``int``, ``bool``, ``item``, ``tolist``, ``get``, ``repr``, boolean masks) is a sync;
NumPy arrays and lists used as indices are copied to the device (h2d).

One deliberate difference: an out-of-range integer index array raises IndexError (NumPy's rule)
where CuPy silently wraps around; a test should fail there rather than compute garbage.
"""
import copy
import warnings

import numpy as np

from . import fake

PYTHON_SCALARS = (int, float, bool, complex)
COMPARISONS = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")
_MISSING = object()


def is_scalar(x):
    """A Python or NumPy number: what CuPy passes to a kernel by value."""
    return type(x) in PYTHON_SCALARS or (isinstance(x, np.generic) and x.dtype.kind in "biufc")


def operand(x):
    """A device argument as NumPy sees it: device arrays unwrapped, scalars kept; anything else
    (a NumPy array, a list...) refused as CuPy refuses it."""
    if isinstance(x, ndarray):
        return x._a
    if is_scalar(x):
        return x
    raise TypeError(f"Unsupported type {type(x)}")


def wrap(r):
    """NumPy results back as device arrays (a NumPy scalar becomes a 0-d array, as in CuPy)."""
    if isinstance(r, np.ndarray):
        return ndarray._of(r)
    if isinstance(r, np.generic):
        return ndarray._of(np.asarray(r))
    if isinstance(r, (tuple, list)):
        return type(r)(wrap(x) for x in r)
    return r


def ufunc_call(uf, method, args, kwargs):
    """``uf`` (a NumPy ufunc) run on the device: every operand must be a device array or a
    scalar; ``out=`` must be device arrays and is returned itself."""
    kwargs = dict(kwargs)
    out = kwargs.pop("out", None)
    if out is not None:
        out = out if isinstance(out, tuple) else (out,)
        for o in out:
            if not isinstance(o, ndarray):
                raise TypeError(f"Output must be a cupy.ndarray, got {type(o)}")
        kwargs["out"] = tuple(o._a for o in out)
    if method == "at":
        target, index, *rest = args
        raw = [operand(target), host_index(index)] + [operand(a) for a in rest]
    else:
        raw = [operand(a) for a in args]
    r = getattr(uf, method)(*raw, **kwargs) if method != "__call__" else uf(*raw, **kwargs)
    if out is not None:
        return out[0] if len(out) == 1 else out
    return wrap(r)


def host_index(key):
    """A CuPy index as NumPy's, at CuPy's cost: a list or NumPy array is copied to the device
    (h2d), a boolean mask makes the host wait for the result's size (a sync)."""
    items = key if isinstance(key, tuple) else (key,)
    out = []
    for s in items:
        if s is None or s is Ellipsis or isinstance(s, slice) or \
                (np.isscalar(s) and not isinstance(s, (bool, np.bool_, str))):
            out.append(s)
            continue
        if isinstance(s, ndarray):
            a = s._a
        elif isinstance(s, (list, tuple, np.ndarray, bool, np.bool_)):
            a = np.array(s)
            if isinstance(s, (list, tuple)) and a.size == 0:
                a = a.astype(np.int32)          # an empty list means no indices, not a mask
            fake.record("h2d", a.nbytes)
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis "
                             "(`None`) and integer or boolean arrays are valid indices")
        if a.dtype.kind == "b":
            fake.record("sync")                 # the result's size is read back
        elif a.dtype.kind not in "iu":
            raise IndexError(f"arrays used as indices must be of integer or boolean type "
                             f"(actual: {a.dtype.type})")
        out.append(a)
    return tuple(out) if isinstance(key, tuple) else out[0]


def _defers_to(x, y):
    """CuPy's ``_should_use_rop``: let `y` handle ``x op y`` (a Tensor says so by setting
    ``__array_ufunc__ = None``), else compute here."""
    y_ufunc = getattr(y, "__array_ufunc__", _MISSING)
    if y_ufunc is not _MISSING:
        return y_ufunc is None
    return getattr(x, "__array_priority__", 0) < getattr(y, "__array_priority__", 0)


def _binary(name, reflected=False):
    uf = getattr(np, name)

    def op(self, other):
        if isinstance(other, ndarray) or not _defers_to(self, other):
            return ufunc_call(uf, "__call__", (other, self) if reflected else (self, other), {})
        return NotImplemented
    return op


def _inplace(name):
    uf = getattr(np, name)

    def op(self, other):
        return ufunc_call(uf, "__call__", (self, other), {"out": self})
    return op


def _compare(name):
    uf = getattr(np, name)

    def op(self, other):
        if not isinstance(other, ndarray):
            if _defers_to(self, other):
                return NotImplemented
            if isinstance(other, np.ndarray) and other.ndim == 0:
                other = other.item()
            if name in ("equal", "not_equal") and (other is None
                                                   or type(other).__eq__ is object.__eq__):
                return ndarray._of(np.full(self.shape, name == "not_equal"))
        return ufunc_call(uf, "__call__", (self, other), {})
    return op


def _method(name):
    def method(self, *args, **kwargs):
        out = kwargs.get("out")
        args = [operand(a) if isinstance(a, (ndarray, np.ndarray)) else a for a in args]
        kwargs = {k: operand(v) if isinstance(v, (ndarray, np.ndarray)) else v
                  for k, v in kwargs.items()}
        r = getattr(self._a, name)(*args, **kwargs)
        if out is not None:
            return out
        return self if r is self._a else wrap(r)
    method.__name__ = name
    return method


class ndarray:
    """``cupy.ndarray``: shape, dtype and methods as NumPy's; values stay on the (fake) device."""
    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = np.empty(shape, dtype, order=order)

    @classmethod
    def _of(cls, a):
        obj = cls.__new__(cls)
        obj._a = a
        return obj

    # ---- what it is ------------------------------------------------------------------------
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray._of(self._a.T))
    real = property(lambda self: ndarray._of(self._a.real))
    imag = property(lambda self: ndarray._of(self._a.imag))

    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    @property
    def device(self):
        from .cuda import Device
        return Device(0)

    @property
    def data(self):
        """The memory pointer (``.ptr``): here the NumPy buffer's address."""
        from .cuda import MemoryPointer
        return MemoryPointer(self._a.ctypes.data if self._a.size else 0)

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "descr": [("", self.dtype.str)],
                "stream": 1, "version": 3, "data": (self.data.ptr, False),
                "strides": None if self._a.flags.c_contiguous else self.strides}

    # ---- refused: implicit conversion to the host ---------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` "
                        "to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method not in ("__call__", "outer", "at", "reduce", "accumulate", "reduceat"):
            return NotImplemented
        for x in inputs + tuple(kwargs.get("out", ())):
            if not (is_scalar(x) or isinstance(x, (ndarray, np.ndarray))):
                return NotImplemented
        if ufunc.__name__ in COMPARISONS:
            inputs = tuple(x.item() if isinstance(x, np.ndarray) and x.ndim == 0 else x
                           for x in inputs)
        return ufunc_call(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        import cupy
        module = cupy
        for part in func.__module__.split(".")[1:]:
            module = getattr(module, part, None)
        fn = getattr(module, func.__name__, None)
        if fn is None or fn is func:
            return NotImplemented
        return fn(*args, **kwargs)

    # ---- allowed, counted: values back to the host ---------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        fake.record("d2h", self.nbytes)
        if out is not None:
            np.copyto(out, self._a)
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError(f"set: shape {arr.shape} and dtype {arr.dtype} must be "
                             f"{self.shape} and {self.dtype}")
        fake.record("h2d", arr.nbytes)
        np.copyto(self._a, arr)

    def item(self):
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self.get().item()

    def tolist(self):
        return self.get().tolist()

    def tobytes(self, order="C"):
        return self.get().tobytes(order)

    def __bool__(self):
        if self.size == 0:
            warnings.warn("The truth value of an empty array is ambiguous. Returning False",
                          DeprecationWarning, stacklevel=2)
            return False
        if self.size > 1:
            raise ValueError("The truth value of an array with more than one element is "
                             "ambiguous. Use a.any() or a.all()")
        return bool(self.get())

    def __int__(self):
        return int(self.get())

    def __float__(self):
        return float(self.get())

    def __complex__(self):
        return complex(self.get())

    def __repr__(self):
        return repr(self.get())

    def __str__(self):
        return str(self.get())

    def __format__(self, spec):
        return format(self.get(), spec)

    def __reduce__(self):
        import cupy
        return cupy.array, (self.get(),)

    def __copy__(self):
        return ndarray._of(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray._of(copy.deepcopy(self._a, memo))

    # ---- containers ----------------------------------------------------------------------------
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    def __getitem__(self, key):
        return wrap(self._a[host_index(key)])

    def __setitem__(self, key, value):
        self._a[host_index(key)] = operand(value)

    # ---- arithmetic --------------------------------------------------------------------------
    def __neg__(self):
        return ufunc_call(np.negative, "__call__", (self,), {})

    def __pos__(self):
        return ufunc_call(np.positive, "__call__", (self,), {})

    def __abs__(self):
        return ufunc_call(np.absolute, "__call__", (self,), {})

    def __invert__(self):
        return ufunc_call(np.invert, "__call__", (self,), {})

    def copy(self, order="C"):
        return ndarray._of(self._a.copy(order=order))

    def fill(self, value):
        self._a.fill(operand(value))

    def nonzero(self):
        fake.record("sync")                      # the number of nonzeros is read back
        return wrap(self._a.nonzero())


for _op, _uf in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("matmul", "matmul"),
                 ("truediv", "true_divide"), ("floordiv", "floor_divide"), ("mod", "remainder"),
                 ("pow", "power"), ("and", "bitwise_and"), ("or", "bitwise_or"),
                 ("xor", "bitwise_xor"), ("lshift", "left_shift"), ("rshift", "right_shift")]:
    setattr(ndarray, f"__{_op}__", _binary(_uf))
    setattr(ndarray, f"__r{_op}__", _binary(_uf, reflected=True))
    setattr(ndarray, f"__i{_op}__", _inplace(_uf))
for _op, _uf in [("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
                 ("gt", "greater"), ("ge", "greater_equal")]:
    setattr(ndarray, f"__{_op}__", _compare(_uf))
for _name in ("all any argmax argmin argsort astype clip conj cumprod cumsum diagonal dot flatten "
              "max mean min prod ravel repeat reshape round sort squeeze std sum "
              "swapaxes take trace transpose var view").split():
    setattr(ndarray, _name, _method(_name))
ndarray.__module__ = "cupy"
