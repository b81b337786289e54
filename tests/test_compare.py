"""``tinyad compare`` end to end on small settings, and its argument checking."""
import json

import numpy as np
import pytest

from tinyad import cli
from tinyad.data import write_idx


def test_compare_runs_every_method_and_writes_results(tmp_path, capsys):
    code = cli.main(["compare", "--epochs", "2", "--train-size", "700", "--val-size", "60",
                     "--test-size", "300", "--hidden", "32", "--methods",
                     "bp,manual,fg,fg-readout,fg-activity,dfa,fa", "--align-draws", "5",
                     "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "val acc" in out and "peak MiB" in out
    payload = json.loads((tmp_path / "results.json").read_text())
    summary = payload["summary"]
    assert set(summary) == {"bp", "manual", "fg", "fg-readout", "fg-activity", "dfa", "fa"}
    assert payload["lrs"] == {m: 1e-3 for m in summary} and payload["data"] == {
        "train": 640, "val": 60, "test": 300}
    for name in summary:
        r = json.loads((tmp_path / "trials" / f"{name}_lr0.001_seed0.json").read_text())
        assert r["ms_per_step"] > 0 and r["peak_mib"] > 0 and len(r["losses"]) == 20
        assert r["layers"] == ["layers.0.weight", "layers.2.weight"]
        assert set(r["history"][-1]["alignment"]) == {f"layers.{i}.{p}" for i in (0, 2)
                                                      for p in ("weight", "bias")}
        assert summary[name]["test_acc"]["values"] == [r["test_acc"]]
    bp = json.loads((tmp_path / "trials" / "bp_lr0.001_seed0.json").read_text())
    manual = json.loads((tmp_path / "trials" / "manual_lr0.001_seed0.json").read_text())
    assert bp["history"][-1]["alignment"]["layers.0.weight"] == pytest.approx(1.0)
    assert manual["history"][-1]["alignment"]["layers.0.weight"] == pytest.approx(1.0, abs=1e-5)
    assert bp["test_acc"] > 0.25                # above chance (0.1) in 20 steps
    for name in ("fg-readout", "fg-activity", "dfa", "fa"):      # the readout is exact
        assert summary[name]["align_output"]["mean"] == pytest.approx(1.0, abs=1e-5)
    for png in ("loss_vs_steps.png", "loss_vs_seconds.png", "alignment.png", "val_accuracy.png"):
        assert (tmp_path / png).stat().st_size > 1000


def test_compare_on_a_folder_with_one_split(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 255, (120, 28, 28),
                                                                 dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 120, dtype=np.uint8))
    out = tmp_path / "out"
    assert cli.main(["compare", "--dataset", str(tmp_path), "--epochs", "1", "--methods", "bp",
                     "--hidden", "8", "--train-size", "100", "--test-size", "20", "--no-plots",
                     "--out", str(out)]) == 0
    assert (out / "results.json").exists()


@pytest.mark.parametrize("args, message", [
    (["--methods", "bp,sgd"], "unknown method"),
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--lr", "fg"], "--lr expects name=value"),
    (["--hidden", "a,b"], "--hidden expects"),
    (["--activation", "gelu"], "invalid choice"),
    (["--model", "rnn"], "invalid choice"),
    (["--lr-grid", "1e-3,x"], "--lr-grid expects comma-separated numbers"),
    (["--lr-grid", "1e-3", "--lr", "bp=1"], "--lr and --lr-grid exclude each other"),
    (["--workers", "64"], "threads, more than the"),
    (["--val-size", "640", "--train-size", "640"], "--val-size 640: the training split has 640"),
])
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["compare", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_load_splits_takes_the_first_training_and_the_last_test_examples(tmp_path):
    """``tinyad.data.load_splits`` (compare's data, which was ``compare.load_dataset``)."""
    from tinyad.data import DatasetNotFoundError, load_default, load_splits
    (xtr, ytr), (xte, yte) = load_splits("default", train_size=100, test_size=30)
    full_train, full_test = load_default(train=True), load_default(train=False)
    np.testing.assert_array_equal(xtr, full_train[0][:100])
    np.testing.assert_array_equal(yte, full_test[1][-30:])
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 255, (50, 4, 4), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(50, dtype=np.uint8))
    (_, ytr), (_, yte) = load_splits(tmp_path)                       # one split: 40 / 10
    assert ytr.tolist() == list(range(40)) and yte.tolist() == list(range(40, 50))
    with pytest.raises(ValueError, match="45 to train and 10 to test"):
        load_splits(tmp_path, train_size=45)
    with pytest.raises(ValueError, match="20000 training examples asked for, the data has 10000"):
        load_splits("default", train_size=20000)
    with pytest.raises(ValueError, match="train_size must be a positive integer, got -5"):
        load_splits("default", train_size=-5)
    with pytest.raises(DatasetNotFoundError, match="did you mean 'fashion-mnist'"):
        load_splits("fashion-mnst")


def test_fit_runs_any_rule_and_reports_per_step_and_per_epoch(capsys):
    from tinyad import learning, nn, optim
    from tinyad.data import DataLoader
    from tinyad.learning.training import accuracy, fit, step_memory
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    nn.init.seed(0)
    model = nn.MLP([5, 8, 2])
    opt = optim.Adam(model.parameters(), lr=1e-2)
    seen = []
    run = fit(learning.DFA(seed=0), model, opt, DataLoader(x, y, batch_size=16), epochs=3,
              evaluate=lambda m: {"acc": accuracy(m, x, y)}, on_epoch=seen.append)
    assert len(run["losses"]) == len(run["seconds"]) == 9 and run["history"] == seen
    assert [r["epoch"] for r in seen] == [1, 2, 3] and all(0 <= r["acc"] <= 1 for r in seen)
    assert run["seconds"] == sorted(run["seconds"]) and seen[-1]["ms_per_step"] > 0
    assert seen[0]["train_loss"] == pytest.approx(np.mean(run["losses"][:3]))
    assert step_memory(learning.Backprop(), model, x, y) > 0
