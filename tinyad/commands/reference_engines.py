"""The reference engines ``tinyad bench`` times beside tinyad, on the same weights and batch.

``numpy_cases``: a hand-written NumPy MLP (forward, backward and forward-mode pass), the floor: the
same arithmetic as an engine's step with no engine at all. ``torch_cases``: PyTorch on the CPU, when
it is importable (never a dependency): ``no_grad`` forward, ``loss.backward()``, and
``torch.func.jvp`` for the forward gradient.
"""
import numpy as np


def numpy_cases(weights, x, y, seed=0):
    """A hand-written NumPy MLP (Linear layers, ReLU between them, softmax cross-entropy): the
    same arithmetic as the engines' steps with no engine at all."""
    layers = list(zip(weights[0::2], weights[1::2]))
    n = len(x)
    rows = np.arange(n)
    rng = np.random.default_rng(seed)
    sizes = [w.size for w in weights]

    def loss_and_error(z):
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1
        return loss, p / n                                   # dL/dz

    def f():
        h = x
        for i, (w, b) in enumerate(layers):
            h = h @ w.T + b
            if i < len(layers) - 1:
                h = np.maximum(h, 0)
        z = h - h.max(axis=1, keepdims=True)
        return float((np.log(np.exp(z).sum(axis=1)) - z[rows, y]).mean())

    def bp():
        hs, h = [], x
        for i, (w, b) in enumerate(layers):
            hs.append(h)
            h = h @ w.T + b
            if i < len(layers) - 1:
                h = np.maximum(h, 0)
        loss, e = loss_and_error(h)
        grads = []
        for i in reversed(range(len(layers))):
            grads.append((e.T @ hs[i], e.sum(axis=0)))
            if i:
                e = (e @ layers[i][0]) * (hs[i] > 0)
        return loss, grads

    def fg_with(vs):
        h, t = x, None
        for i, (w, b) in enumerate(layers):
            vw, vb = vs[2 * i], vs[2 * i + 1]
            a = h @ w.T + b
            ta = h @ vw.T + vb if t is None else t @ w.T + h @ vw.T + vb
            if i < len(layers) - 1:
                live = a > 0
                h, t = a * live, ta * live
            else:
                h, t = a, ta
        loss, e = loss_and_error(h)
        d = float((e * t).sum())                              # ∇f·v
        return loss, [d * v for v in vs]

    def split(flat):
        out, start = [], 0
        for w, size in zip(weights, sizes):
            out.append(flat[start:start + size].reshape(w.shape))
            start += size
        return out

    predrawn = split(rng.standard_normal(sum(sizes), dtype=np.float32))
    return {"numpy:f": f, "numpy:bp": bp, "numpy:fg*": lambda: fg_with(predrawn),
            "numpy:fg": lambda: fg_with(split(rng.standard_normal(sum(sizes),
                                                                  dtype=np.float32)))}


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_cases(torch, model, weights, x, y, seed=0):
    """The same steps in PyTorch on the CPU, `model` (torch.nn) set to `weights`, the same batch:
    f under ``no_grad``, bp by ``loss.backward()``, fg by ``torch.func.jvp`` (forward-mode AD)
    with ``randn`` tangents."""
    from torch.func import functional_call, jvp
    F = torch.nn.functional
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    params = dict(model.named_parameters())
    names = list(params)
    primals = tuple(p.detach() for p in params.values())
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)

    def f():
        with torch.no_grad():
            return F.cross_entropy(model(xt), yt).item()

    def bp():
        for p in params.values():
            p.grad = None
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        return loss.item()

    def loss_of(*ps):
        return F.cross_entropy(functional_call(model, dict(zip(names, ps)), (xt,)), yt)

    def fg_with(vs):
        loss, d = jvp(loss_of, primals, vs)
        scale = d.item()
        for p, v in zip(params.values(), vs):
            p.grad = scale * v
        return loss.item()

    predrawn = tuple(torch.randn(p.shape, generator=gen) for p in primals)
    return {"torch:f": f, "torch:bp": bp, "torch:fg*": lambda: fg_with(predrawn),
            "torch:fg": lambda: fg_with(tuple(torch.randn(p.shape, generator=gen)
                                              for p in primals))}
