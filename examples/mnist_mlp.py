"""Train an MLP 784-128-10 on MNIST digits with Adam, the PyTorch way.

    python examples/mnist_mlp.py [--data FOLDER] [--epochs 2] [--batch-size 64] [--lr 1e-3]

Uses the 10,000-image MNIST test split only (the one shipped with this repository's checks): the
first 8,000 images train, the last 2,000 evaluate. The loop is PyTorch's, word for word:

    opt.zero_grad(); loss = loss_fn(model(xb), yb); loss.backward(); opt.step()
"""
import argparse
import time
from pathlib import Path

import numpy as np

import tinyad as ad
from tinyad import nn, optim
from tinyad.data import DataLoader, load_mnist
from tinyad.nn import functional as F

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def accuracy(model, x, y, batch=1000):
    model.eval()
    with ad.no_grad():
        hits = sum(int((model(ad.tensor(x[i:i + batch])).numpy().argmax(1) == y[i:i + batch]).sum())
                   for i in range(0, len(x), batch))
    model.train()
    return hits / len(x)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder with the MNIST IDX files")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    images, labels = load_mnist(root=args.data, train=False, download=False)
    x_train, y_train = images[:8000], labels[:8000]
    x_test, y_test = images[-2000:], labels[-2000:]

    nn.init.seed(args.seed)
    model = nn.MLP([784, 128, 10])
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = F.cross_entropy
    loader = DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    print(f"MNIST: {len(x_train)} train, {len(x_test)} test images; MLP [784, 128, 10], Adam lr "
          f"{args.lr}, batch {args.batch_size}")

    for epoch in range(1, args.epochs + 1):
        start, losses = time.perf_counter(), []
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(ad.tensor(xb)), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}/{args.epochs}  train loss {np.mean(losses):.4f}  "
              f"train acc {accuracy(model, x_train, y_train):.2%}  "
              f"test acc {accuracy(model, x_test, y_test):.2%}  {seconds:.2f} s", flush=True)
    return accuracy(model, x_test, y_test)


if __name__ == "__main__":
    main()
