"""Tutorial 1: the training loop, and what breaks when its four lines are misused.

    opt.zero_grad()                  # forget the last step's gradients
    loss = loss_fn(model(x), y)      # forward pass: records the tape
    loss.backward()                  # reverse pass: ADDS dloss/dp into p.grad
    opt.step()                       # p <- p - lr * p.grad

We fit y' = a x + b to six points (the data of ``tinyad walkthrough``) and run the loop four ways.
Run:  python docs/tutorial_1_training_loop.py [--quick] [--out DIR]
"""
import argparse
from pathlib import Path

import numpy as np

import tinyad as ad

X = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2], dtype=np.float32)
Y = np.array([0.18, 0.32, 0.42, 0.48, 0.58, 0.72], dtype=np.float32)


def make():
    """Parameters a = b = 1 and plain SGD with learning rate 0.1."""
    a = ad.nn.Parameter(ad.tensor([1.0]))
    b = ad.nn.Parameter(ad.tensor([1.0]))
    return a, b, ad.optim.SGD([a, b], lr=0.1)


def loss_of(a, b, xb, yb):
    return ad.nn.functional.mse_loss(a * ad.tensor(xb) + b, ad.tensor(yb))


def batches(epochs, size=2):
    for _ in range(epochs):
        for i in range(0, len(X), size):
            yield X[i:i + size], Y[i:i + size]


def correct(epochs):
    a, b, opt = make()
    losses = []
    for xb, yb in batches(epochs):
        opt.zero_grad()
        loss = loss_of(a, b, xb, yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, a, b


def forgot_zero_grad(epochs):
    """Without zero_grad, p.grad is the SUM of all past gradients: the steps grow and overshoot."""
    a, b, opt = make()
    losses, grads = [], []
    for xb, yb in batches(epochs):
        loss = loss_of(a, b, xb, yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        grads.append(a.grad.item())
    return losses, grads


def step_before_backward(epochs):
    """step(), zero_grad(), forward, backward(): every update uses the gradient left by the
    PREVIOUS batch, computed at the parameters before the previous update (the first step does
    nothing: there is no gradient yet). It still learns, one batch late."""
    a, b, opt = make()
    losses = []
    for xb, yb in batches(epochs):
        opt.step()
        opt.zero_grad()
        loss = loss_of(a, b, xb, yb)
        loss.backward()
        losses.append(loss.item())
    return losses


def zero_grad_between(epochs):
    """backward(), zero_grad(), step(): the gradient is wiped before it is used; nothing learns."""
    a, b, opt = make()
    losses = []
    for xb, yb in batches(epochs):
        loss = loss_of(a, b, xb, yb)
        loss.backward()
        opt.zero_grad()
        opt.step()
        losses.append(loss.item())
    return losses, a, b


def accumulation_on_purpose():
    """Accumulating on purpose: two half-batches, each loss halved, then one step, equals one
    step on the full batch (the mean over 4 points = the mean of two means over 2)."""
    a1, b1, opt1 = make()
    opt1.zero_grad()
    for xb, yb in ((X[:2], Y[:2]), (X[2:4], Y[2:4])):
        (loss_of(a1, b1, xb, yb) * 0.5).backward()        # grads add up in .grad
    opt1.step()
    a2, b2, opt2 = make()
    opt2.zero_grad()
    loss_of(a2, b2, X[:4], Y[:4]).backward()
    opt2.step()
    return (a1.item(), b1.item()), (a2.item(), b2.item())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="runs/tutorial_1")
    args = parser.parse_args(argv)
    epochs = 10 if args.quick else 40

    good, a, b = correct(epochs)
    print(f"1. The right order: after {epochs} epochs a = {a.item():.4f}, b = {b.item():.4f}, "
          f"last batch loss {good[-1]:.5f}")

    forgot, grads = forgot_zero_grad(epochs)
    print("2. Forgetting zero_grad(): dL/da as stored in a.grad over the first steps:")
    print("   " + "  ".join(f"{g:+.3f}" for g in grads[:8]))
    print(f"   the gradients pile up; the last batch loss is {forgot[-1]:.4g} instead of "
          f"{good[-1]:.4g}")

    late = step_before_backward(epochs)
    print(f"3. step() before backward(): updates lag one batch behind; last loss {late[-1]:.5f}")

    wiped, a3, b3 = zero_grad_between(epochs)
    print(f"4. zero_grad() between backward() and step(): a = {a3.item()}, b = {b3.item()} "
          "(never moved)")

    (acc_a, acc_b), (full_a, full_b) = accumulation_on_purpose()
    print(f"5. Accumulation on purpose: two half-batches -> a = {acc_a:.6f}, b = {acc_b:.6f}; "
          f"one full batch -> a = {full_a:.6f}, b = {full_b:.6f}")
    assert np.allclose([acc_a, acc_b], [full_a, full_b], atol=1e-6)

    from tinyad.commands.plotting import pyplot
    plt = pyplot()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, losses in (("zero_grad, forward, backward, step", good),
                          ("zero_grad forgotten", forgot), ("step before backward", late),
                          ("zero_grad between backward and step", wiped)):
        ax.plot(losses, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step (batch of 2)")
    ax.set_ylabel("batch loss (MSE)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "training_loop_orders.png", dpi=110)
    print(f"wrote {out / 'training_loop_orders.png'}")


if __name__ == "__main__":
    main()
