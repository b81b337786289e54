"""ad.save / ad.load: faithful round trips, no pickle, atomic writes, and a bit-identical resume."""
import os

import numpy as np
import pytest

import tinyad as ad
from tinyad import nn, optim
from tinyad.data import DataLoader
from tinyad.nn import functional as F


def test_round_trip_keeps_structure_types_and_dtypes(tmp_path):
    obj = {
        "model": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(3, np.float64)},
        "optim": {"state": {0: {"step": 3, "buf": np.ones(2)}}, "groups": [{"betas": (0.9, 0.99)}]},
        "epoch": 3, "name": "run-1", "lr": 1e-3, "done": False, "none": None,
        "big": 2 ** 100, "labels": np.array([1, 2], dtype=np.int64), "scalar": np.float32(2.5),
        "tensor": ad.tensor([1.0, 2.0]),
    }
    path = tmp_path / "ckpt.npz"
    ad.save(obj, path)
    back = ad.load(path)
    assert back.keys() == obj.keys()
    assert back["optim"]["state"][0]["step"] == 3                # int keys stay ints
    assert back["optim"]["groups"][0]["betas"] == (0.9, 0.99)    # tuples stay tuples
    assert back["big"] == 2 ** 100 and back["done"] is False and back["none"] is None
    assert back["name"] == "run-1" and back["lr"] == 1e-3
    assert back["model"]["w"].dtype == np.float32 and back["labels"].dtype == np.int64
    np.testing.assert_array_equal(back["model"]["w"], obj["model"]["w"])
    assert type(back["scalar"]) is np.float32 and back["scalar"] == 2.5
    np.testing.assert_array_equal(back["tensor"], [1.0, 2.0])
    assert "model/w" in np.load(path).files                       # readable with plain NumPy


def test_no_pickle_either_way(tmp_path):
    with pytest.raises(TypeError, match="object arrays"):
        ad.save({"x": np.array([{"a": 1}], dtype=object)}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="cannot store a set"):
        ad.save({"x": {1, 2}}, tmp_path / "a.npz")
    np.savez(tmp_path / "plain.npz", x=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        ad.load(tmp_path / "plain.npz")          # allow_pickle=False: object arrays refused
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a tinyad checkpoint"):
        ad.load(tmp_path / "other.npz")
    assert sorted(os.listdir(tmp_path)) == ["other.npz", "plain.npz"]


def test_a_crash_mid_write_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    ad.save({"epoch": 1, "w": np.ones(1000)}, path)
    original = path.read_bytes()
    real = np.lib.format.write_array
    calls = []

    def crash_on_second(f, array, **kwargs):       # the first array is written, then "power cut"
        calls.append(1)
        if len(calls) == 2:
            raise OSError("simulated crash mid-write")
        return real(f, array, **kwargs)
    monkeypatch.setattr(np.lib.format, "write_array", crash_on_second)
    with pytest.raises(OSError, match="simulated"):
        ad.save({"epoch": 2, "w": np.zeros(1000), "v": np.zeros(5)}, path)
    assert path.read_bytes() == original and ad.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]    # no temporary file left behind


def make_run(seed=0):
    """The same data every time; `seed` sets the initial weights and the shuffling."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    nn.init.seed(seed)
    model = nn.MLP([5, 8, 3])
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.StepLR(opt, step_size=3, gamma=0.5)
    loader = DataLoader(x, y, batch_size=8, shuffle=True, seed=seed)
    return model, opt, sched, loader


def train_epochs(model, opt, sched, loader, epochs):
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(ad.tensor(xb)), yb)
            loss.backward()
            opt.step()
        sched.step()


def checkpoint(model, opt, sched, loader, epoch):
    return {"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict(),
            "loader": loader.state_dict(), "rng": nn.init.get_rng_state(), "epoch": epoch}


def test_resume_is_bit_identical(tmp_path):
    straight = make_run()
    train_epochs(*straight, epochs=4)

    first = make_run()
    train_epochs(*first, epochs=2)
    ad.save(checkpoint(*first, epoch=2), tmp_path / "ckpt.npz")

    model, opt, sched, loader = make_run(seed=99)       # as a fresh process would: other state
    ckpt = ad.load(tmp_path / "ckpt.npz")
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optim"])
    sched.load_state_dict(ckpt["sched"])
    loader.load_state_dict(ckpt["loader"])
    nn.init.set_rng_state(ckpt["rng"])
    train_epochs(model, opt, sched, loader, epochs=4 - ckpt["epoch"])

    for (name, a), (_, b) in zip(straight[0].named_parameters(), model.named_parameters()):
        assert np.array_equal(a.numpy(), b.numpy()), name
    assert sched.get_last_lr() == straight[2].get_last_lr()
    for i, s in straight[1].state.items():
        assert all(np.array_equal(opt.state[i][k], v) for k, v in s.items())
