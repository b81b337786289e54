"""What the hand-written learning rules need from a model: its layers, a recorded forward pass,
activation derivatives and the output error -- all on raw arrays, with no tape, through the
shared kernels (``bias_act`` gives a dense layer's activation and derivative in one pass,
``softmax_xent`` the loss and its gradient) and the array maps behind the convolution and
pooling primitives (``conv2d``, ``conv2d_transpose``, ``conv2d_weight``, ``max_pool2d`` and its
``scatter``: tinyad/primitives/convolution.py and pooling.py).

A model is a chain of layers. Layer i reshapes h_{i-1} by its parameter-free *stages*
(``MaxPool2d`` with stride = kernel, ``Flatten``, and ``LayerNorm`` over the last axis, which has
a gain and a bias), then applies an affine map (``Linear`` or ``Conv2d``) and an activation:

    x_i = pre_i(h_{i-1})                     the affine map's input
    a_i = x_i W_iᵀ + b_i   or   conv2d(x_i, W_i) + b_i          pre-activation
    h_i = f_i(a_i)                           (the last layer has no f: h_L = a_L are the logits)

Every rule that trains it ends in the same two lines, for an error signal delta_i = dL/da_i:

    dW_i = delta_iᵀ x_i  (Linear)   or   conv2d_weight(x_i, delta_i)  (Conv2d)
    db_i = delta_i summed over every axis but the channel axis

and the chain rules (backprop, feedback alignment) send it back with a matrix B_i of W_i's shape:

    dL/dx_i = delta_i B_i   or   conv2d_transpose(delta_i, B_i)
    dL/dh_{i-1} = the stages' adjoints applied last to first (a LayerNorm's gain and bias get
                  their gradient on the way)
    delta_{i-1} = dL/dh_{i-1} * f'(a_{i-1})
"""
from dataclasses import dataclass, field

from .. import backend, kernels, nn, tape
from ..backend import xp_of
from ..ops.windows import _geometry, _two
from ..primitives import convolution as conv, pooling as pool
from ..tensor import Tensor

ACTIVATIONS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}


class MaxPool:
    """nn.MaxPool2d over non-overlapping windows: (N, C, H, W) -> (N, C, H // kh, W // kw)."""
    params = ()

    def __init__(self, module, rule):
        self.module, self.kernel = module, _two(module.kernel_size)
        if _two(module.stride) != self.kernel:
            raise TypeError(f"{rule}: MaxPool2d with a stride other than its kernel is not "
                            f"supported (kernel {self.kernel}, stride {module.stride})")
        if (_two(module.padding), _two(module.dilation)) != ((0, 0), (1, 1)) or \
                module.ceil_mode or module.return_indices:
            raise TypeError(f"{rule}: MaxPool2d with padding, dilation, ceil_mode or "
                            "return_indices is not supported")

    def forward(self, h):
        m = pool.max_pool2d.impl(h, self.kernel)
        return m, (h, m)

    def adjoint(self, g, saved):
        """dL/dh from dL/dm: each window's gradient to its maximum (ties share it)."""
        return pool.max_pool2d_scatter.impl(g, *saved, self.kernel)


class Flat:
    """nn.Flatten (start_dim 1): (N, ...) -> (N, everything else)."""
    params = ()

    def __init__(self, module, rule):
        if (module.start_dim, module.end_dim) != (1, -1):
            raise TypeError(f"{rule}: only Flatten(start_dim=1, end_dim=-1) is supported")
        self.module = module

    def forward(self, h):
        return h.reshape(h.shape[0], -1), h.shape

    def adjoint(self, g, shape):
        return g.reshape(shape)


class Norm:
    """nn.LayerNorm over the last axis: x̂ = (h - mean) / sqrt(var + eps), out = γ x̂ + β.
    Its adjoint, with g' = γ g and means over the last axis,

        dL/dh = (g' - mean(g') - x̂ mean(g' x̂)) / sqrt(var + eps)

    also accumulates dγ = Σ g x̂ and dβ = Σ g (sums over every axis but the last)."""

    def __init__(self, module, rule):
        shape = tuple(getattr(module, "normalized_shape", ()))
        if len(shape) != 1:
            raise TypeError(f"{rule}: LayerNorm is supported over the last axis only, got "
                            f"normalized_shape {shape}")
        self.module = module
        self.params = tuple(p for p in (module.weight, module.bias) if p is not None)

    def forward(self, h):
        mean = h.mean(axis=-1, keepdims=True)
        inv = 1 / xp_of(h).sqrt(((h - mean) ** 2).mean(axis=-1, keepdims=True)
                                + self.module.eps)
        xhat = (h - mean) * inv
        out = xhat if self.module.weight is None else xhat * self.module.weight.data
        out = out if self.module.bias is None else out + self.module.bias.data
        return out, (xhat, inv)

    def adjoint(self, g, saved):
        xhat, inv = saved
        leading = tuple(range(g.ndim - 1))
        weight, bias = self.module.weight, self.module.bias
        if bias is not None:
            accumulate(bias, g.sum(axis=leading))
        if weight is not None:
            accumulate(weight, (g * xhat).sum(axis=leading))
            g = g * weight.data
        return inv * (g - g.mean(axis=-1, keepdims=True)
                      - xhat * (g * xhat).mean(axis=-1, keepdims=True))


STAGES = {nn.MaxPool2d: MaxPool, nn.Flatten: Flat, nn.LayerNorm: Norm}


@dataclass
class Layer:
    """An affine map (``nn.Linear`` or ``nn.Conv2d``), the stages before it and the activation
    after it ('relu', 'tanh', 'sigmoid' or None)."""
    module: nn.Module
    activation: str = None
    pre: list = field(default_factory=list)

    @property
    def is_conv(self):
        return isinstance(self.module, nn.Conv2d)

    @property
    def geometry(self):
        """A Conv2d's stride, padding, dilation and groups as the conv primitives take them."""
        m = self.module
        return _geometry(m.stride, m.padding, m.dilation, m.groups)

    def affine(self, x):
        """(h, f'(a)) for input x: one kernels.bias_act pass for a dense layer, the conv2d map
        (bias added in cache) then kernels.act_forward for a convolution. No activation: f'
        is None (ones)."""
        w, b = self.module.weight.data, self.module.bias
        if self.is_conv:
            a = conv.conv2d.impl(x, w, *(() if b is None else (b.data,)), **self.geometry)
            return (a, None) if self.activation is None else kernels.act_forward(
                self.activation, a)
        a = x @ w.T
        if self.activation is None:
            return (a if b is None else a + b.data), None
        return kernels.bias_act(self.activation, a, xp_of(a).zeros(a.shape[-1], a.dtype)
                                if b is None else b.data)

    def input_error(self, delta, feedback, shape):
        """dL/dx from delta = dL/da, with `feedback` (W's shape) in place of W."""
        if self.is_conv:
            return conv.conv2d_transpose.impl(delta, feedback, tuple(shape), **self.geometry)
        return delta @ feedback

    def stages_back(self, g, saved):
        """dL/dh_{i-1} from g = dL/dx_i through the stages, last to first (`saved`: what their
        forward kept); a LayerNorm's gain and bias get their gradient on the way."""
        for stage, s in zip(reversed(self.pre), reversed(saved)):
            g = stage.adjoint(g, s)
        return g

    def update_stages(self, delta, saved, shape):
        """For rules that hand each layer its own error signal delta = dL/da_i (DFA,
        activity-perturbed FG): the stages' parameters (a LayerNorm's gain and bias) from delta
        sent back through this layer's own weights, within the layer only; `shape` is x_i's."""
        if any(stage.params for stage in self.pre):
            self.stages_back(self.input_error(delta, self.module.weight.data, shape), saved)

    def accumulate(self, delta, x):
        """The two lines every rule ends with: dW from delta and the input x, db = Σ delta."""
        weight, bias = self.module.weight, self.module.bias
        if self.is_conv:
            accumulate(weight, conv.conv2d_weight.impl(x, delta, self.module.kernel_size,
                                                       **self.geometry))
            channel_sums = (0, 2, 3)
        else:
            accumulate(weight, delta.reshape(-1, delta.shape[-1]).T
                       @ x.reshape(-1, x.shape[-1]))
            channel_sums = tuple(range(delta.ndim - 1))
        if bias is not None:
            accumulate(bias, delta.sum(axis=channel_sums))


def layers_of(model, rule):
    """The model as [Layer], in forward order: Linear and Conv2d layers, an activation right
    after each, and pooling, flattening and layer normalisation between them (Identity and
    containers are walked through). Any other module (Dropout, GELU, BatchNorm...) is refused:
    these rules would otherwise skip it silently and train a different network."""
    if hasattr(model, "local_models"):
        raise TypeError(f"{rule}: {type(model).__name__} learns block by block: wrap the rule "
                        "in LocalLosses")
    layers, pending = [], []
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            if isinstance(m, nn.Conv2d) and (isinstance(m.padding, str)
                                             or m.padding_mode != "zeros"):
                raise TypeError(f"{rule}: Conv2d needs numeric zero padding, got padding="
                                f"{m.padding!r}, padding_mode={m.padding_mode!r}")
            layers.append(Layer(m, pre=pending))
            pending = []
        elif type(m) in ACTIVATIONS:
            if not layers or pending or layers[-1].activation is not None:
                raise TypeError(f"{rule}: an activation must directly follow a Linear or "
                                "Conv2d layer")
            layers[-1].activation = ACTIVATIONS[type(m)]
        elif type(m) in STAGES:
            pending.append(STAGES[type(m)](m, rule))
        elif isinstance(m, nn.Identity):
            continue
        elif m._parameters or not m._modules:
            raise TypeError(f"{rule}: supports chains of Linear and Conv2d layers with ReLU, "
                            "Tanh or Sigmoid after them and MaxPool2d, Flatten or LayerNorm "
                            f"between them; found {type(m).__name__}. Use Backprop or "
                            "ForwardGradient(perturb='weights') for other models")
    if not layers:
        raise TypeError(f"{rule}: the model has no Linear or Conv2d layer")
    if pending:
        raise TypeError(f"{rule}: the model must end in a Linear or Conv2d layer (the logits)")
    return layers


def model_input(layers, x):
    """x as the first layer reads it: rows of features for a dense first layer."""
    first = layers[0]
    return x if first.is_conv or first.pre or x.ndim == 2 else x.reshape(x.shape[0], -1)


@dataclass
class Pass:
    """A recorded forward pass: per layer its affine input x_i, f'(a_i) (None: no activation),
    output h_i, and what each of its stages saved for the way back."""
    ins: list
    derivs: list
    outs: list
    saved: list


def forward(layers, x):
    """Run the chain on raw arrays, recording what the rules need (``Pass``)."""
    record = Pass([], [], [], [])
    h = model_input(layers, x)
    for layer in layers:
        saved = []
        for stage in layer.pre:
            h, s = stage.forward(h)
            saved.append(s)
        record.ins.append(h)
        record.saved.append(saved)
        h, d = layer.affine(h)
        record.derivs.append(d)
        record.outs.append(h)
    return record


def through_activation(g, d):
    """g · f'(a) for derivative d; g itself for a layer with no activation (d None: an MLP
    built with activation=None)."""
    return g if d is None else g * d


def derivative(name, a, h=None):
    """f'(a) from the pre-activation a (kernels.act_forward: the one definition; `h` = f(a) is
    accepted for callers that hold it and not needed). No activation: ones."""
    if name is None:
        return xp_of(a).ones_like(a)
    return kernels.act_forward(name, a)[1]


def output_error(loss_fn, logits, y):
    """(loss, e = dL/dlogits). Hand-written for the two standard losses,

        softmax cross-entropy (mean over N):  e = (softmax(z) - onehot(y)) / N
        mean squared error (mean over all):   e = 2 (z - y) / z.size

    and otherwise by differentiating the loss function alone (never the network), with
    recording on whatever the caller's ``no_grad`` says. `y` may live on either device."""
    from ..nn import functional as F
    if loss_fn is F.cross_entropy:
        y = F.class_labels(Tensor(logits), y)
        loss, e = kernels.softmax_xent(logits, y, labels_checked=True)
        return float(loss), e
    y_mse = backend.asarray(raw(y), backend.device_of(logits)) if loss_fn is F.mse_loss else None
    if y_mse is not None and y_mse.shape == logits.shape:      # else F.mse_loss broadcasts, below
        r = logits - y_mse
        return float((r * r).mean()), 2 * r / r.size
    with tape.enable_grad():
        z = Tensor(logits, requires_grad=True)
        loss = loss_fn(z, y)
        loss.backward()
    return float(loss.item()), z.grad.data


def raw(x):
    """The array behind a Tensor (or the array itself)."""
    return x.data if isinstance(x, Tensor) else x


def accumulate(param, g):
    """param.grad += g (a raw array), as ``backward`` would."""
    g = g.astype(param.dtype, copy=False)
    if param.grad is None:
        param.grad = Tensor(g)
    else:
        param.grad = Tensor(param.grad.data + g)


def backward_chain(layers, loss_fn, x, y, feedback):
    """Backprop's backward network with ``feedback[i]`` (W_i's shape) in place of W_i, each
    layer (and each LayerNorm on the way) updated as the error passes. The forward weights give
    backprop itself; fixed random matrices give feedback alignment."""
    record = forward(layers, raw(x))
    loss, delta = output_error(loss_fn, record.outs[-1], y)
    for i in reversed(range(len(layers))):
        layer = layers[i]
        layer.accumulate(delta, record.ins[i])
        if not i and not any(stage.params for stage in layer.pre):
            break
        g = layer.stages_back(layer.input_error(delta, feedback[i], record.ins[i].shape),
                              record.saved[i])
        if i:
            delta = through_activation(g, record.derivs[i - 1])
    return loss

