"""What the hand-written learning rules need from a model: its layers, a recorded forward pass,
activation derivatives and the output error -- all on raw arrays, with no tape, through the
shared kernels (``bias_act`` gives each layer's activation and derivative in one pass,
``softmax_xent`` the loss and its gradient).

An MLP is a chain of affine maps and activations. With h_0 = x:

    a_i = h_{i-1} W_iᵀ + b_i        pre-activation, (N, out_i)
    h_i = f(a_i)                    (the last layer has no f: h_L = a_L are the logits)

and every rule that trains it ends in the same two lines, for some error signal delta_i (N, out_i):

    dL/dW_i = delta_iᵀ h_{i-1}      (out_i, in_i)       dL/db_i = sum_n delta_i     (out_i,)
"""
from dataclasses import dataclass

from .. import backend, kernels, nn, tape
from ..backend import xp_of
from ..tensor import Tensor

ACTIVATIONS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}


@dataclass
class Layer:
    linear: "nn.Linear"
    activation: str = None       # 'relu', 'tanh', 'sigmoid' or None (the output layer)


def layers_of(model, rule):
    """The model as [Layer(Linear, activation)], in forward order; Flatten and Identity are
    allowed (and containers, walked into). Any other module (Dropout, GELU, a norm layer...) is
    refused: these rules would otherwise skip it silently and train a different network."""
    layers = []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            layers.append(Layer(m))
        elif type(m) in ACTIVATIONS:
            if not layers or layers[-1].activation is not None:
                raise TypeError(f"{rule}: an activation must follow a Linear layer")
            layers[-1].activation = ACTIVATIONS[type(m)]
        elif not (isinstance(m, (nn.Flatten, nn.Identity)) or (m._modules and not m._parameters)):
            raise TypeError(f"{rule}: supports MLPs (Linear layers with ReLU, Tanh or Sigmoid "
                            f"between them); found {type(m).__name__}. Use Backprop or "
                            "ForwardGradient(perturb='weights') for other models")
    if not layers:
        raise TypeError(f"{rule}: the model has no Linear layer")
    return layers


def derivative(name, a, h=None):
    """f'(a) from the pre-activation a (kernels.act_forward: the one definition; `h` = f(a) is
    accepted for callers that hold it and not needed). No activation: ones."""
    if name is None:
        return xp_of(a).ones_like(a)
    return kernels.act_forward(name, a)[1]


def forward(layers, x):
    """Run the MLP on raw arrays; returns (inputs h_{i-1}, derivatives f'(a_i), outputs h_i),
    each activation and its derivative from one ``kernels.bias_act`` pass (the output layer,
    with no activation, has derivative None)."""
    h = x.reshape(x.shape[0], -1)
    ins, derivs, outs = [], [], []
    for layer in layers:
        a = h @ layer.linear.weight.data.T
        ins.append(h)
        bias = layer.linear.bias
        if layer.activation is None:
            h, d = (a if bias is None else a + bias.data), None
        else:
            h, d = kernels.bias_act(layer.activation, a,
                                    xp_of(a).zeros(a.shape[-1], a.dtype) if bias is None
                                    else bias.data)
        derivs.append(d)
        outs.append(h)
    return ins, derivs, outs


def output_error(loss_fn, logits, y):
    """(loss, e = dL/dlogits). Hand-written for the two standard losses,

        softmax cross-entropy (mean over N):  e = (softmax(z) - onehot(y)) / N
        mean squared error (mean over all):   e = 2 (z - y) / z.size

    and otherwise by differentiating the loss function alone (never the network), with
    recording on whatever the caller's ``no_grad`` says. `y` may live on either device."""
    from ..nn import functional as F
    xp = xp_of(logits)
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


def accumulate_layer(layer, delta, h_in):
    """The two lines every rule ends with: dW = deltaᵀ h_in, db = sum over the batch."""
    accumulate(layer.linear.weight, delta.T @ h_in)
    if layer.linear.bias is not None:
        accumulate(layer.linear.bias, delta.sum(axis=0))


def backward_chain(layers, loss_fn, x, y, feedback):
    """Backprop's backward network with ``feedback[i]`` (out_i, in_i) in place of W_i:
    delta_L = e, delta_i = (delta_{i+1} feedback[i+1]) * f'(a_i), each layer updated on the way.
    The forward weights give backprop itself; fixed random matrices give feedback alignment."""
    ins, derivs, outs = forward(layers, raw(x))
    loss, delta = output_error(loss_fn, outs[-1], y)
    for i in reversed(range(len(layers))):
        accumulate_layer(layers[i], delta, ins[i])
        if i:
            delta = through_activation(delta @ feedback[i], derivs[i - 1])
    return loss


def through_activation(delta, d):
    """delta · f'(a) for derivative d; delta itself for a layer with no activation (d None: an
    MLP built with activation=None)."""
    return delta if d is None else delta * d
