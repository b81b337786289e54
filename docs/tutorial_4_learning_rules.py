"""Tutorial 4: backprop by hand, and two ways to learn without sending Wᵀ backwards.

For an MLP with pre-activations a_i = h_{i-1} W_iᵀ + b_i and outputs h_i = f(a_i), backprop is a
second network that runs backwards:

    delta_L = e = dL/dlogits = (softmax - onehot) / N
    delta_i = (delta_{i+1} W_{i+1}) * f'(a_i)           ->   dL/dW_i = delta_iᵀ h_{i-1}

Feedback alignment (FA) replaces W_{i+1} by a fixed random B_{i+1}; direct feedback alignment
(DFA) sends e to every layer through its own random B_i. Neither knows the forward weights, yet
both learn: the forward weights turn to agree with the feedback, and the update direction's angle
to the true gradient drops below 90°. We watch that angle, layer by layer, as training goes.

Run:  python docs/tutorial_4_learning_rules.py [--quick] [--out DIR]
"""
import argparse
from pathlib import Path

import numpy as np

import tinyad as ad
from tinyad import learning, nn, optim
from tinyad.nn import functional as F


def angles(rule, model, x, y):
    """Angle in degrees between the rule's update and the true gradient, per weight matrix."""
    cos = learning.alignment(rule, model, F.cross_entropy, x, y)
    return {k: float(np.degrees(np.arccos(np.clip(c, -1, 1))))
            for k, c in cos.items() if k.endswith("weight")}


def train(rule, initial, sizes, data, steps, every):
    model = nn.MLP(sizes)
    model.load_state_dict(initial)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = data
    probe = (ad.tensor(x[:256]), y[:256])
    history = []
    loader = ad.data.DataLoader(x, y, batch_size=64, shuffle=True, seed=0)
    step = 0
    while step < steps:
        for xb, yb in loader:
            if step % every == 0:
                history.append((step, angles(rule, model, *probe)))
            opt.zero_grad()
            rule.update_direction(model, F.cross_entropy, ad.tensor(xb), yb)
            opt.step()
            step += 1
            if step >= steps:
                break
    return model, history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="runs/tutorial_4")
    args = parser.parse_args(argv)
    steps, every, n = (60, 20, 1000) if args.quick else (1500, 50, 10000)

    x, y = ad.data.load_default(train=True)
    x, y = x[:n], y[:n]
    sizes = [784, 128, 128, 10]
    nn.init.seed(0)
    initial = nn.MLP(sizes).state_dict()

    print("1. The hand-written backward network against the tape, on one batch:")
    model = nn.MLP(sizes)
    model.load_state_dict(initial)
    xb, yb = ad.tensor(x[:64]), y[:64]
    exact = learning.direction(learning.Backprop(), model, F.cross_entropy, xb, yb)
    manual = learning.direction(learning.ManualBackprop(), model, F.cross_entropy, xb, yb)
    worst = max(np.abs(a - b).max() / np.abs(a).max() for a, b in zip(manual, exact))
    print(f"   largest relative difference over all parameters: {worst:.2e}")

    print("2. Training FA and DFA; angle (degrees) to the true gradient per layer:")
    xt, yt = ad.data.load_default(train=False)
    runs = {}
    for name, rule in (("fa", learning.FeedbackAlignment(seed=0)), ("dfa", learning.DFA(seed=0))):
        model, history = train(rule, initial, sizes, (x, y), steps, every)
        with ad.no_grad():
            acc = (model(ad.tensor(xt)).numpy().argmax(1) == yt).mean()
        runs[name] = history
        first, last = history[0][1], history[-1][1]
        print(f"   {name}: " + ", ".join(f"{k} {first[k]:.0f}° -> {last[k]:.0f}°" for k in first)
              + f"; test accuracy {acc:.1%}")
    print("   (the last layer gets the true gradient in both: 0°; hidden layers start near 90°, "
          "i.e. random, and align as training goes)")

    from tinyad.commands.plotting import pyplot
    plt = pyplot()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, (name, history) in zip(axes, runs.items()):
        steps_seen = [s for s, _ in history]
        for layer in history[0][1]:
            ax.plot(steps_seen, [h[layer] for _, h in history], label=layer)
        ax.set_title(name.upper())
        ax.set_xlabel("training step")
        ax.axhline(90, color="grey", lw=0.8, ls="--")
    axes[0].set_ylabel("angle to the true gradient (degrees)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "alignment_angles.png", dpi=110)
    print(f"wrote {out / 'alignment_angles.png'}")


if __name__ == "__main__":
    main()
