"""``tinyad compare`` for research: seeds with mean ± sd, the validation split for every choice,
optimizers, every rule on a CNN, sweeps in parallel processes or on Ray, resumable."""
import json
import os

import numpy as np
import pytest

from tinyad import cli, nn, optim
from tinyad.commands import summary, trial

TINY = ["--train-size", "256", "--val-size", "64", "--test-size", "100", "--align-draws", "2",
        "--epochs", "2", "--batch-size", "32"]


def results(folder):
    return json.loads((folder / "results.json").read_text())


def test_seeds_cnn_sgd_every_rule_with_bands(tmp_path):
    """The issue's bar: ``tinyad compare --seeds 3 --model cnn --optimizer sgd`` runs every rule
    and writes mean ± sd tables and band plots."""
    methods = ",".join(trial.METHODS)
    assert cli.main(["compare", "--seeds", "3", "--model", "cnn", "--optimizer", "sgd",
                     "--channels", "4", "--methods", methods, *TINY, "--epochs", "1",
                     "--train-size", "128", "--val-size", "32", "--out", str(tmp_path)]) == 0
    payload = results(tmp_path)
    assert set(payload["summary"]) == set(trial.METHODS)
    for name, s in payload["summary"].items():
        assert s["seeds"] == [0, 1, 2] and len(s["test_acc"]["values"]) == 3
        assert s["test_acc"]["sd"] >= 0 and 0 <= s["test_acc"]["mean"] <= 1
        assert payload["lrs"][name] == trial.OPTIMIZERS["sgd"][1]
    table = (tmp_path / "results.md").read_text()
    assert " ± " in table and "CNN conv [4]" in table
    seeds = [results(tmp_path)["summary"]["bp"]["test_acc"]["values"]]
    assert len(set(seeds[0])) > 1                       # the seeds differ
    for png in ("loss_vs_steps.png", "val_accuracy.png", "alignment.png"):
        assert (tmp_path / png).stat().st_size > 1000


def test_a_rerun_resumes_and_workers_give_the_same_numbers(tmp_path, capsys):
    args = ["compare", "--methods", "bp,dfa", "--seeds", "2", "--hidden", "16", *TINY,
            "--no-plots"]
    assert cli.main([*args, "--out", str(tmp_path / "one")]) == 0
    first = results(tmp_path / "one")["summary"]
    (tmp_path / "one" / "trials" / "dfa_lr0.001_seed1.json").unlink()      # "killed" here
    capsys.readouterr()
    assert cli.main([*args, "--out", str(tmp_path / "one")]) == 0
    assert "3 of 4 runs already in" in capsys.readouterr().out
    again = results(tmp_path / "one")["summary"]
    assert again["dfa"]["test_acc"]["values"] == first["dfa"]["test_acc"]["values"]
    workers = str(min(2, os.cpu_count() or 1))
    assert cli.main([*args, "--workers", workers, "--out", str(tmp_path / "two")]) == 0
    two = results(tmp_path / "two")["summary"]
    for m in ("bp", "dfa"):
        assert two[m]["test_acc"]["values"] == first[m]["test_acc"]["values"]
        assert two[m]["best_val_acc"]["values"] == first[m]["best_val_acc"]["values"]


def test_a_changed_setting_reruns_instead_of_reusing(tmp_path, capsys):
    args = ["compare", "--methods", "bp", "--hidden", "8", *TINY, "--no-plots", "--out",
            str(tmp_path)]
    assert cli.main(args) == 0
    assert cli.main([*args, "--batch-size", "16"]) == 0
    assert "0 of 1 runs already in" in capsys.readouterr().out


def test_lr_grid_picks_on_validation_and_reports_the_pick(tmp_path):
    assert cli.main(["compare", "--methods", "bp", "--lr-grid", "1e-6,1e-2", "--hidden", "16",
                     *TINY, "--optimizer", "momentum", "--no-plots", "--out",
                     str(tmp_path)]) == 0
    payload = results(tmp_path)
    grid = payload["grid"]["bp"]
    best = max(grid, key=lambda lr: grid[lr]["best_val_acc"]["mean"])
    assert payload["lrs"]["bp"] == float(best) == 1e-2
    assert payload["summary"]["bp"] == grid["0.01"]
    assert "Learning rates tried" in (tmp_path / "results.md").read_text()


def test_rmsprop_trains_with_its_default_rate(tmp_path, monkeypatch):
    made = []
    real = optim.RMSprop
    monkeypatch.setattr(optim, "RMSprop", lambda *a, **k: made.append(k) or real(*a, **k))
    assert cli.main(["compare", "--optimizer", "rmsprop", "--methods", "bp,fa", "--hidden", "8",
                     *TINY, "--no-plots", "--out", str(tmp_path)]) == 0
    payload = results(tmp_path)
    assert payload["lrs"] == {"bp": 1e-3, "fa": 1e-3} and made == [{"lr": 1e-3}] * 2
    bp = json.loads((tmp_path / "trials" / "bp_lr0.001_seed0.json").read_text())
    first, second = (epoch["train_loss"] for epoch in bp["history"])
    assert second < first                                            # it learns
    assert ", rmsprop, batch" in (tmp_path / "results.md").read_text()


def test_linear_network_without_bias_on_resized_images(tmp_path):
    """Seed 002's network: 1024-40-10, no bias, no nonlinearity, images resized to 32x32."""
    assert cli.main(["compare", "--model", "linear", "--no-bias", "--resize", "32", "--methods",
                     "bp,dfa,fg-activity", *TINY, "--no-plots", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "trials" / "bp_lr0.001_seed0.json").read_text())
    assert r["layers"] == ["layers.0.weight", "layers.1.weight"]
    assert "linear network [40] (no activation), no bias" in (tmp_path / "results.md").read_text()


def test_local_losses_model(tmp_path):
    assert cli.main(["compare", "--model", "local", "--hidden", "16,16", "--methods",
                     "bp,fg-readout,fg-activity", *TINY, "--no-plots", "--out",
                     str(tmp_path)]) == 0
    r = json.loads((tmp_path / "trials" / "fg-activity_lr0.001_seed0.json").read_text())
    assert [name.split(".")[0] for name in r["layers"]] == ["blocks", "blocks", "heads", "heads"]
    bp = json.loads((tmp_path / "trials" / "bp_lr0.001_seed0.json").read_text())
    for name in bp["layers"]:       # measured against each block's own loss: exact for bp
        assert bp["history"][-1]["alignment"][name] == pytest.approx(1.0, abs=1e-5)
    assert summary.readouts(r["layers"]) == ["heads.0.weight", "heads.1.weight"]
    fg = summary.per_trial(json.loads((tmp_path / "trials" / "fg-readout_lr0.001_seed0.json")
                                      .read_text()))
    assert fg["align_output"] == pytest.approx(1.0, abs=1e-5) and fg["align_hidden"] < 0.5
    assert "LocalNet [16, 16] (local losses, LayerNorm)" in (tmp_path / "results.md").read_text()
    model = trial.build_model(r["spec"]["model"], 64)
    assert all(isinstance(block[0], nn.LayerNorm) for block in model.blocks)


def test_ray_local_mode(tmp_path):
    pytest.importorskip("ray")
    assert cli.main(["compare", "--methods", "bp", "--seeds", "2", "--hidden", "8", *TINY,
                     "--no-plots", "--ray", "local", "--out", str(tmp_path)]) == 0
    assert results(tmp_path)["summary"]["bp"]["seeds"] == [0, 1]
    assert len(list((tmp_path / "trials").glob("*.json"))) == 2


def test_timing_and_time_to_target():
    clock = list(np.cumsum([0.5, 0.01, 0.01, 0.01, 0.01]))
    t = trial.timing(clock, warmup=1)
    assert t["ms_per_step"] == pytest.approx(10) and t["compile_ms"] == pytest.approx(490)
    losses = [2.0] * 20 + [0.1] * 40
    hit = trial.time_to(losses, list(range(1, 61)), target=1.0)
    assert hit["steps_to_target"] == 31     # 11 of the last 20 at 0.1: (11·0.1 + 9·2) / 20 <= 1
    assert trial.time_to(losses, list(range(60)), target=0.01)["steps_to_target"] is None


def test_mean_sd_keeps_the_per_seed_values():
    s = summary.mean_sd([0.9, 0.8, None])
    assert s["mean"] == pytest.approx(0.85) and s["sd"] == pytest.approx(np.std([.9, .8], ddof=1))
    assert s["values"] == [0.9, 0.8, None] and s["n"] == 2
    assert summary.fmt(summary.mean_sd([0.5]), "pct") == "50.00 ± 0.00"


def test_a_diverging_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    assert cli.main(["compare", "--methods", "bp,fg", "--optimizer", "sgd", "--lr",
                     "fg=1e6", "--hidden", "16", *TINY, "--out", str(tmp_path)]) == 0
    payload = results(tmp_path)
    assert payload["summary"]["fg"]["diverged"] == [0]
    assert payload["summary"]["fg"]["test_acc"]["mean"] is None
    assert payload["summary"]["bp"]["diverged"] == [] and payload["summary"]["bp"]["test_acc"][
        "mean"] > 0
    assert "fg (1 of 1 diverged)" in (tmp_path / "results.md").read_text()
