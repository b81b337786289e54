"""``tinyad walkthrough``: the first step checked by hand, the plots, and argument errors."""
import sys

import pytest

from tinyad.commands import walkthrough
from tinyad.cli import main


def test_first_step_by_hand():
    """Batch (0.2, 0.18), (0.4, 0.32) with a = b = 1, lr 0.1:
    y' = 1.2, 1.4;  r = y' - y = 1.02, 1.08;  L = (1.02² + 1.08²) / 2 = 1.1034;
    dL/da = mean(2 r x) = (0.408 + 0.864) / 2 = 0.636;  dL/db = mean(2 r) = (2.04 + 2.16) / 2 = 2.1;
    a = 1 - 0.1·0.636 = 0.9364;  b = 1 - 0.1·2.1 = 0.79."""
    s = walkthrough.train(epochs=1, lr=0.1, batch_size=2)[0]
    assert s["x"].tolist() == [0.2, 0.4] and s["y"].tolist() == [0.18, 0.32]
    assert s["pred"] == pytest.approx([1.2, 1.4])
    assert s["residual"] == pytest.approx([1.02, 1.08])
    assert s["loss"] == pytest.approx(1.1034)
    assert s["dL/da"] == pytest.approx(0.636)
    assert s["dL/db"] == pytest.approx(2.1)
    assert (s["a"], s["b"]) == pytest.approx((0.9364, 0.79))


def test_batches_in_order_and_a_partial_last_batch():
    steps = walkthrough.train(epochs=2, lr=0.05, batch_size=4)
    assert [s["rows"] for s in steps] == [(0, 3), (4, 5), (0, 3), (4, 5)]
    assert steps[1]["before"] == (steps[0]["a"], steps[0]["b"])


def test_command_prints_the_trace_and_writes_the_plots(tmp_path, capsys):
    out = tmp_path / "plots"
    assert main(["walkthrough", "--out", str(out), "--epochs", "2"]) == 0
    text = capsys.readouterr().out
    assert "dL/da = mean(2 r x) = 0.636000" in text and "= 0.936400" in text and "= 0.790000" in text
    assert (out / "loss.png").stat().st_size > 0
    assert len(list((out / "frames").glob("step_*.png"))) == 6
    pytest.importorskip("PIL")
    assert (out / "fit.gif").read_bytes()[:3] == b"GIF"


def test_no_plots_writes_nothing(tmp_path, capsys):
    assert main(["walkthrough", "--out", str(tmp_path / "x"), "--no-plots", "--epochs", "1"]) == 0
    assert not (tmp_path / "x").exists() and "step 3" in capsys.readouterr().out


def test_missing_matplotlib_is_a_clear_message(tmp_path, capsys, monkeypatch):
    """Exit code 2 (was 1): a missing matplotlib is found before the run, as #11 asks of every
    command, and reported like every other problem found there."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as exit_:
        main(["walkthrough", "--out", str(tmp_path / "plots")])
    assert exit_.value.code == 2
    assert "need matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "plots").exists()


@pytest.mark.parametrize("args, reason", [
    (["--batch-size", "0"], "--batch-size: must be > 0"),
    (["--lr", "-0.1"], "--lr: must be > 0"),
    (["--lr", "nan"], "--lr: must be > 0"),
    (["--epochs", "two"], "--epochs: expected an integer"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, args, reason):
    with pytest.raises(SystemExit) as exit_:
        main(["walkthrough", *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1
