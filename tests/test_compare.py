"""``tinyad compare`` end to end on small settings, and its argument checking."""
import json

import numpy as np
import pytest

from tinyad import cli
from tinyad.data import write_idx


def test_compare_runs_every_method_and_writes_results(tmp_path, capsys):
    code = cli.main(["compare", "--epochs", "2", "--train-size", "640", "--test-size", "300",
                     "--hidden", "32", "--methods", "bp,manual,fg,fg-activity,dfa,fa",
                     "--align-draws", "5", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "test acc" in out and "peak MiB" in out
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert set(results) == {"bp", "manual", "fg", "fg-activity", "dfa", "fa"}
    for name, r in results.items():
        assert r["ms_per_step"] > 0 and r["peak_mib"] > 0 and len(r["losses"]) == 20
        assert set(r["alignment"]) == {f"layers.{i}.{p}" for i in (0, 2) for p in
                                       ("weight", "bias")}
    assert results["bp"]["alignment"]["layers.0.weight"] == pytest.approx(1.0)
    assert results["manual"]["alignment"]["layers.0.weight"] == pytest.approx(1.0, abs=1e-5)
    assert results["bp"]["test_acc"] > 0.25                # above chance (0.1) in 20 steps
    for png in ("loss_vs_steps.png", "loss_vs_seconds.png", "alignment.png"):
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
])
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["compare", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
