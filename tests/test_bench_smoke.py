"""Smoke runs of the benchmarks: each bench/ script and ``tinyad bench`` with ``--quick``, in a
subprocess, writing into a temporary folder. They check that the scripts run and write their
files, not the numbers (benchmarks are not tests). Together well under a minute on 2 cores."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"

SCRIPTS = {                       # script: the result files it must write
    "bench_conv.py": ["conv.json", "conv.md"],
    "bench_overhead.py": ["overhead.json", "overhead.md"],
    "bench_jacobians.py": ["jacobians.json", "jacobians.md"],
    "bench_fg_tangents.py": ["fg_tangents.json", "fg_tangents.md"],
    "bench_paper.py": ["paper_ratios.json", "paper_ratios.md"],
    "bench_scaling.py": ["scaling.json", "scaling.md", "scaling_depth.png", "scaling_width.png"],
    "bench_tangents.py": ["tangents.json", "tangents.md"],
    "bench_trajectories.py": ["trajectories.json", "trajectories.md", "trajectories_beale.png",
                              "trajectories_rosenbrock.png"],
    "bench_curves.py": ["curves.json", "curves.md", "curves_smoke/results.json",
                        "curves_smoke/loss_vs_steps.png", "curves_smoke/loss_vs_seconds.png"],
}


def _run(args, tmp_path, timeout=120):
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_bench_script_quick(script, tmp_path):
    out = tmp_path / "results"
    _run([str(BENCH / script), "--quick", "--out", str(out)], tmp_path)
    for name in SCRIPTS[script]:
        assert (out / name).is_file(), f"{script} did not write {name}"
    payload = json.loads((out / SCRIPTS[script][0]).read_text())
    assert payload["machine"]["cpu_count"] >= 1          # the machine record is there


def test_tinyad_bench_cli_quick(tmp_path):
    out = tmp_path / "bench"
    proc = _run(["-m", "tinyad", "bench", "--quick", "--model", "logreg", "--out", str(out)],
                tmp_path)
    result = json.loads((out / "paper_ratios.json").read_text())
    engines = {(r["model"], r["engine"]) for r in result["rows"]}
    assert {("logreg", "tinyad"), ("logreg", "numpy")} <= engines
    row = next(r for r in result["rows"] if r["engine"] == "tinyad")
    for key in ("t_f ms", "t_fg ms", "t_fg* ms", "t_bp ms", "R_f", "R_f*", "R_b"):
        assert row[key] > 0
    assert result["blas"]["threads"] is None or result["blas"]["threads"] >= 1
    assert "R_b" in proc.stdout


def test_tinyad_bench_rejects_bad_arguments(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "tinyad", "bench", "--model", "resnet"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "resnet" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "tinyad", "bench", "--engines", "jax"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--engines" in proc.stderr


def test_fast_tangents_distributions():
    """The Numba generator (ForwardGradient's default): reproducible from the caller's generator,
    mean 0 and variance 1, normal tails, signs exactly ±1."""
    fast = pytest.importorskip("tinyad.learning.fast_tangents")
    if not fast.available():
        pytest.skip("numba is not installed")
    a = fast.draw_flat(1_000_001, "normal", np.random.default_rng(3))
    b = fast.draw_flat(1_000_001, "normal", np.random.default_rng(3))
    assert a.dtype == np.float32 and np.array_equal(a, b)
    assert abs(a.mean()) < 5e-3 and abs(a.var() - 1) < 5e-3
    assert abs(np.mean(np.abs(a) > 2) - 0.0455) < 2e-3              # P(|z| > 2)
    assert abs(np.mean(a.astype(np.float64) ** 4) - 3) < 0.05        # normal kurtosis
    r = fast.draw_flat(1001, "rademacher", np.random.default_rng(0), dtype=np.float64)
    assert r.dtype == np.float64 and set(np.unique(r)) == {-1.0, 1.0}
    from tinyad.learning import tangents
    vs = tangents.draw([(3, 4), (5,)], "normal", np.random.default_rng(0), np.zeros(1, np.float32))
    assert [v.shape for v in vs] == [(3, 4), (5,)] and vs[0].dtype == np.float32
    with pytest.raises(ValueError, match="distribution"):
        fast.draw_flat(3, "uniform", np.random.default_rng(0))


def test_primitive_times_counts_and_restores():
    """``--profile``'s per-primitive timer sees each primitive call and puts the table back."""
    import tinyad as ad
    from tinyad.commands.timing import primitive_times
    from tinyad.interpreter import PRIMITIVES
    before = {name: prim.impl for name, prim in PRIMITIVES.items()}
    a = ad.tensor(np.ones((3, 4)))
    with primitive_times() as times:
        ad.exp(a @ a.T).sum()
    assert times["matmul"][1] == 1 and times["exp"][1] == 1 and times["sum"][1] == 1
    assert all(secs >= 0 for secs, _ in times.values())
    assert {name: prim.impl for name, prim in PRIMITIVES.items()} == before


def test_bench_scripts_write_to_runs_unless_asked(tmp_path):
    """Without --out a benchmark writes runs/bench under the current folder, never over the
    committed bench/results."""
    committed = BENCH / "results" / "overhead.json"
    before = committed.read_bytes()
    proc = subprocess.run([sys.executable, str(BENCH / "bench_overhead.py"), "--quick"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "runs" / "bench" / "overhead.json").is_file()
    assert committed.read_bytes() == before


def test_overhead_against_another_tree(tmp_path):
    """bench_overhead.py --against TREE times both trees' engines in subprocesses (here this
    tree twice) and writes each one's time per op and the ratio."""
    _run([str(BENCH / "bench_overhead.py"), "--quick", "--links", "2", "--against", str(ROOT),
          "--out", str(tmp_path)], tmp_path)
    rows = json.loads((tmp_path / "overhead_against.json").read_text())["rows"]
    assert {"numpy", "tinyad tape + backward"} <= {r["case"] for r in rows}
    assert all(r["this_over_other"] > 0 for r in rows)


def test_tinyad_bench_finds_mnist_by_the_library_search(tmp_path, monkeypatch):
    from tinyad.commands.bench_cases import load_batch
    from tinyad.data import write_idx
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TINYAD_DATA", str(tmp_path / "nowhere"))
    x, y, source = load_batch(8)
    assert x.shape == (8, 784) and "embedded" in source
    labels = np.arange(9, dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((9, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    monkeypatch.setenv("TINYAD_DATA", str(tmp_path))
    x, y, source = load_batch(8)
    assert "MNIST test set" in source and y.tolist() == list(range(8))


def test_bench_curves_only_replaces_its_runs_and_keeps_the_others(tmp_path, monkeypatch):
    """`bench_curves.py --only NAME` reruns NAME: its rows and command take the old ones' place
    in curves.json, in the runs' order, and every other run stays as it was."""
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_curves
    path = tmp_path / "curves.json"
    path.write_text(json.dumps({
        "rows": [{"run": "a", "method": "bp"}, {"run": "b", "method": "bp"},
                 {"run": "b", "method": "fa"}],
        "runs": {"a": {"command": "old a"}, "b": {"command": "old b"}}}))
    rows, info = bench_curves.merged(path, [{"run": "a", "method": "dfa"}],
                                     {"a": {"command": "new a"}}, order=["a", "b"])
    assert rows == [{"run": "a", "method": "dfa"}, {"run": "b", "method": "bp"},
                    {"run": "b", "method": "fa"}]
    assert info == {"a": {"command": "new a"}, "b": {"command": "old b"}}
    assert list(info) == ["a", "b"]


def test_the_commands_in_the_bench_readme_name_options_their_scripts_have():
    """Each script's command in bench/README.md's table uses only options its --help lists."""
    rows = re.findall(r"^\| `(bench_\w+\.py)`.*?`python bench/\1([^`]*)`",
                      (BENCH / "README.md").read_text(), re.M)
    assert len(rows) >= 10, rows
    for script, args in rows:
        usage = subprocess.run([sys.executable, str(BENCH / script), "--help"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60).stdout
        unknown = [o for o in re.findall(r"--[\w-]+", args) if o not in usage]
        assert not unknown, f"{script}: {unknown} not in its --help"
