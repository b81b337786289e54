"""ad.save / ad.load: faithful round trips, no pickle, atomic writes, and a bit-identical resume."""
import os

import numpy as np
import pytest

import tinyad as ad
from tinyad import nn, optim
from tinyad.data import DataLoader
from tinyad.nn import functional as F
from tinyad.serialization import CheckpointError


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


# ---- files that are not checkpoints, permissions, interrupted saves ---------------------------
def _refused(path, *words):
    with pytest.raises(CheckpointError) as info:
        ad.load(path)
    message = str(info.value)
    assert str(path) in message and "allow_pickle" not in message
    for word in words:
        assert word in message
    return message


def test_load_says_what_a_file_is_and_why_it_is_not_a_checkpoint(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"hello, not a checkpoint" * 10)
    _refused(garbage, "not a zip file", "b'hello, n'")
    (tmp_path / "empty.npz").write_bytes(b"")
    _refused(tmp_path / "empty.npz", "empty")
    np.save(tmp_path / "array.npy", np.arange(3))
    _refused(tmp_path / "array.npy", "single NumPy array (.npy)")
    whole = tmp_path / "whole.npz"
    ad.save({"w": np.ones(10_000)}, whole)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    _refused(cut, "truncated or corrupt zip")
    data = bytearray(whole.read_bytes())
    data[200:260] = bytes(60)                                     # inside the array's bytes
    (tmp_path / "flipped.npz").write_bytes(bytes(data))
    _refused(tmp_path / "flipped.npz", "damaged")
    np.savez(tmp_path / "objects.npz", __tree__=np.array('{"array": "x"}'),
             x=np.array([object()], dtype=object))
    _refused(tmp_path / "objects.npz", "object array", "never runs pickle")
    assert issubclass(CheckpointError, ValueError)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_checkpoint_gets_the_permissions_open_would_give(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        ad.save({"x": 1}, tmp_path / "ckpt.npz")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "ckpt.npz").stat().st_mode & 0o777 == mode
    assert (tmp_path / "plain").stat().st_mode & 0o777 == mode


KILLED_MID_SAVE = """
import sys, time
import numpy as np
import tinyad as ad
real = np.lib.format.write_array
def slow(f, array, **kw):          # write the first array, then hang: the save is mid-way
    real(f, array, **kw)
    print("writing", flush=True)
    time.sleep(60)
np.lib.format.write_array = slow
ad.save({"w": np.ones(1_000_000), "v": np.ones(3)}, sys.argv[1])
"""


def test_a_save_killed_mid_write_leaves_nothing_after_the_next_save(tmp_path):
    import signal
    import subprocess
    import sys
    path = tmp_path / "ckpt.npz"
    ad.save({"epoch": 1}, path)
    writer = subprocess.Popen([sys.executable, "-c", KILLED_MID_SAVE, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        leftovers = list(tmp_path.glob(".ckpt.npz.*.tmp"))
        assert len(leftovers) == 1 and leftovers[0].stat().st_size > 1_000_000
        ad.save({"epoch": 2}, path)           # the writer still runs: its file is not touched
        assert leftovers[0].exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert leftovers[0].exists() and ad.load(path)["epoch"] == 2
    ad.save({"epoch": 3}, path)               # the writer is dead: its leftover goes
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"] and ad.load(path)["epoch"] == 3


# ---- state dicts from elsewhere ---------------------------------------------------------------
def test_float64_values_load_into_a_float32_model_cast_as_pytorch_does():
    model = nn.MLP([3, 4, 2])
    doubles = {k: v.astype(np.float64) + 0.1 for k, v in model.state_dict().items()}
    weight = model.layers[0].weight
    model.load_state_dict(doubles)
    assert model.layers[0].weight is weight and weight.dtype == np.float32
    for name, value in model.state_dict().items():
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, doubles[name].astype(np.float32))
    before = model.state_dict()
    bad = dict(doubles, **{"layers.2.bias": np.zeros(3)})          # a shape error: nothing written
    with pytest.raises(ValueError, match="'layers.2.bias' has shape"):
        model.load_state_dict(bad)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def pytorch_adam_state(params, step=3, **options):
    """What ``torch.optim.Adam(...).state_dict()`` holds, its tensors converted with .numpy()."""
    rng = np.random.default_rng(0)
    state = {i: {"step": np.array(float(step), np.float32),
                 "exp_avg": rng.standard_normal(p.shape).astype(np.float32),
                 "exp_avg_sq": rng.random(p.shape).astype(np.float32)}
             for i, p in enumerate(params)}
    group = {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
             "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
             "fused": None, "params": list(range(len(params)))}
    group.update(options)
    return {"state": state, "param_groups": [group]}


def test_a_pytorch_adam_state_dict_loads_and_steps_as_its_state_says():
    model = nn.MLP([3, 2])
    params = list(model.parameters())
    opt = optim.Adam(params)
    torch_state = pytorch_adam_state(params)
    opt.load_state_dict(torch_state)
    assert opt.state[0]["step"] == 3 and opt.param_groups[0]["lr"] == 1e-2
    p0, s0 = params[0].numpy().astype(np.float64), torch_state["state"][0]
    g = np.ones(p0.shape)
    for p in params:
        p.grad = ad.tensor(np.ones(p.shape, np.float32))
    opt.step()
    m = 0.9 * s0["exp_avg"] + 0.1 * g
    v = 0.999 * s0["exp_avg_sq"] + 0.001 * g * g
    expected = p0 - 1e-2 / (1 - 0.9 ** 4) * m / (np.sqrt(v) / np.sqrt(1 - 0.999 ** 4) + 1e-8)
    np.testing.assert_allclose(params[0].numpy(), expected, rtol=1e-5)
    assert opt.state[0]["step"] == 4


def test_a_pytorch_amsgrad_maximize_state_dict_loads_and_steps_with_its_maximum():
    params = list(nn.MLP([3, 2]).parameters())
    opt = optim.Adam(params)
    torch_state = pytorch_adam_state(params, amsgrad=True, maximize=True)
    for i, p in enumerate(params):                         # larger than any v after one step
        torch_state["state"][i]["max_exp_avg_sq"] = np.full(p.shape, 4.0, np.float32)
    opt.load_state_dict(torch_state)
    assert opt.param_groups[0]["amsgrad"] and opt.param_groups[0]["maximize"]
    p0, s0 = params[0].numpy().astype(np.float64), torch_state["state"][0]
    for p in params:
        p.grad = ad.tensor(np.ones(p.shape, np.float32))
    opt.step()
    m = 0.9 * s0["exp_avg"] - 0.1                          # maximize: the gradient is -1
    expected = p0 - 1e-2 / (1 - 0.9 ** 4) * m / (2.0 / np.sqrt(1 - 0.999 ** 4) + 1e-8)
    np.testing.assert_allclose(params[0].numpy(), expected, rtol=1e-5)
    np.testing.assert_array_equal(opt.state[0]["max_exp_avg_sq"], 4.0)


def test_a_pytorch_option_tinyad_lacks_is_refused_and_changes_nothing():
    model = nn.MLP([3, 2])
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = opt.state_dict()
    with pytest.raises(ValueError, match="sets {'amsgrad': True}, which SGD does not implement"):
        opt.load_state_dict(pytorch_adam_state(list(model.parameters()), amsgrad=True))
    assert opt.state_dict()["param_groups"] == before["param_groups"] and opt.state == {}
