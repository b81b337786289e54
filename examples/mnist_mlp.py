"""Train an MLP 784-128-10 on MNIST digits with Adam, the PyTorch way.

    python examples/mnist_mlp.py [--data FOLDER] [--epochs 2] [--batch-size 64] [--lr 1e-3]

Uses the 10,000-image MNIST test split only: the first 8,000 images train, the last 2,000
evaluate. The files are looked for as ``tinyad.data.load_mnist`` does (``--data``, then
$TINYAD_DATA, the user cache, system folders; no download); without them the embedded default
digits stand in (10,000 to train, 2,000 to test). The loop is PyTorch's, word for word:

    opt.zero_grad(); loss = loss_fn(model(xb), yb); loss.backward(); opt.step()
"""
import argparse
import time

import numpy as np

import tinyad as ad
from tinyad import nn, optim
from tinyad.data import DataLoader, DatasetNotFoundError, load_mnist, load_splits
from tinyad.nn import functional as F


def load(data=None):
    """((x_train, y_train), (x_test, y_test)): the MNIST test split cut 8,000 / 2,000, or the
    embedded digits when no MNIST files are found (and no folder was named)."""
    try:
        images, labels = load_mnist(root=data, train=False, download=False)
    except DatasetNotFoundError:
        if data:
            raise
        print("MNIST files not found (set TINYAD_DATA or pass --data): the embedded digits")
        return load_splits("default")
    return (images[:8000], labels[:8000]), (images[-2000:], labels[-2000:])


def accuracy(model, x, y, batch=1000):
    model.eval()
    with ad.no_grad():
        hits = sum(int((model(ad.tensor(x[i:i + batch])).numpy().argmax(1) == y[i:i + batch]).sum())
                   for i in range(0, len(x), batch))
    model.train()
    return hits / len(x)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None,
                   help="folder with the MNIST IDX files (default: the library's data search)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = load(args.data)

    nn.init.seed(args.seed)
    model = nn.MLP([784, 128, 10])
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = F.cross_entropy
    loader = DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    print(f"data: {len(x_train)} train, {len(x_test)} test images; MLP [784, 128, 10], Adam lr "
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
