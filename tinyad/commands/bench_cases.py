"""What ``tinyad bench`` times: the paper's three models on one batch, and each engine's steps.

Models (float32, MNIST-shaped input): ``logreg`` 784 -> 10; ``mlp`` 784-1024-1024-10 with ReLU;
``cnn`` the paper's: four 3x3 convolutions of 64 channels (padding 1, ReLU), a 2x2 max-pool after
the second and the fourth, Linear 64·7·7 -> 1024, ReLU, Linear 1024 -> 10. Loss: softmax
cross-entropy. Data: the first images of the MNIST test set where the library's data search finds
it (``--data``, ``$TINYAD_DATA``, the cache, system folders), else the embedded default digits.

tinyad's steps are the library's own learning rules, timed as a user runs them:

    f     forward + loss under ``no_grad``
    fg    ``ForwardGradient`` (weights), drawing v with its default generator
    fg*   the same rule handed v drawn in advance (``update_direction(..., tangents=v)``)
    fgN   v from the Numba generator, normal;  fgR  the same, Rademacher (when Numba loads;
          on the CPU only: it draws host arrays)
    bp    ``Backprop`` (the tape)

On a GPU (``device="cuda"``) the model and the batch live there, and fg and fg* draw v there
with the rule's CuPy generator (``ForwardGradient.rng_for``).
"""
import numpy as np

from .. import backend, nn, no_grad, tensor
from ..data import DatasetNotFoundError, load_default, load_mnist
from ..learning import Backprop, ForwardGradient, fast_tangents
from ..nn import functional as F
from .checks import UsageError
from .reference_engines import numpy_cases, torch_cases

MODELS = ("logreg", "mlp", "cnn")


def load_batch(batch, data=None):
    """(x float32 (batch, 784), y int64 (batch,), where they came from): the first `batch` MNIST
    test images (searched in `data` first), or the embedded default digits when none are found.
    A `data` folder given but without MNIST test files is a UsageError."""
    try:
        x, y = load_mnist(root=data, train=False, download=False)
        source = f"MNIST test set (first {batch} images)"
    except (DatasetNotFoundError, ValueError) as e:
        reason = str(e).splitlines()[0]
        if data:
            raise UsageError(f"--data {data}: no readable MNIST test files there ({reason})")
        x, y = load_default(train=False)
        source = f"embedded default digits (first {batch}); MNIST: {reason}"
    if batch > len(x):
        x, y = np.resize(x, (batch, x.shape[1])), np.resize(y, batch)
    return np.ascontiguousarray(x[:batch], np.float32), y[:batch].astype(np.int64), source


def build_model(name, library=nn):
    """The model `name` (logreg, mlp or cnn) from `library`: tinyad.nn (with PyTorch's default
    initialisation) or torch.nn, whose layers have the same names and arguments and whose
    parameters come in the same order."""
    L = library
    if name == "logreg":
        return L.Sequential(L.Linear(784, 10))
    if name == "mlp":
        return L.Sequential(L.Linear(784, 1024), L.ReLU(), L.Linear(1024, 1024), L.ReLU(),
                            L.Linear(1024, 10))
    if name == "cnn":
        return L.Sequential(
            L.Conv2d(1, 64, 3, padding=1), L.ReLU(), L.Conv2d(64, 64, 3, padding=1), L.ReLU(),
            L.MaxPool2d(2),
            L.Conv2d(64, 64, 3, padding=1), L.ReLU(), L.Conv2d(64, 64, 3, padding=1), L.ReLU(),
            L.MaxPool2d(2),
            L.Flatten(), L.Linear(64 * 7 * 7, 1024), L.ReLU(), L.Linear(1024, 10))
    raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODELS)}")


def model_input(name, x):
    """The batch as model `name` takes it: images (N, 1, 28, 28) for the CNN, else (N, 784)."""
    return x.reshape(len(x), 1, 28, 28) if name == "cnn" else x


def build_cases(name, x, y, engines, torch=None, seed=0, device="cpu"):
    """({'engine:case': a zero-argument step} for model `name` in every engine, a description);
    tinyad's model on `device`, the other engines on the CPU."""
    nn.init.seed(seed)
    model = build_model(name).to(device)
    xin = model_input(name, x)
    cases = tinyad_cases(model, xin, y, seed)
    info = {"parameters": int(sum(p.size for p in model.parameters()))}
    weights = [p.numpy() for p in model.parameters()]
    if "numpy" in engines and name in ("logreg", "mlp"):
        cases.update(numpy_cases(weights, x, y, seed))
    if torch is not None:
        cases.update(torch_cases(torch, build_model(name, torch.nn), weights, xin, y, seed))
    return cases, info


def tinyad_cases(model, x, y, seed=0):
    """tinyad's steps (see the module docstring), each the library's rule on `model`, with the
    batch on the model's device."""
    params = list(model.parameters())
    device = params[0].device
    xt, y = tensor(x, device=device), backend.asarray(y, device)
    fg, bp = ForwardGradient(seed=seed), Backprop()
    predrawn = fg.draw([p.shape for p in params], params[0].data)

    def step(rule, **kwargs):
        def run():
            model.zero_grad()
            return rule.update_direction(model, F.cross_entropy, xt, y, **kwargs)
        return run

    def forward():
        with no_grad():
            return F.cross_entropy(model(xt), y).item()

    cases = {"tinyad:f": forward, "tinyad:fg": step(fg), "tinyad:fg*": step(fg, tangents=predrawn),
             "tinyad:bp": step(bp)}
    if fast_tangents.available() and device == "cpu":
        for case, distribution in (("fgN", "normal"), ("fgR", "rademacher")):
            rule = ForwardGradient(distribution=distribution, seed=seed + 1,
                                   draw_flat=fast_tangents.draw_flat)
            cases[f"tinyad:{case}"] = step(rule)
    return cases
