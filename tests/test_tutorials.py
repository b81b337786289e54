"""The tutorials and the MAML example run end to end, and MAML's meta-gradient is the right one.

Scripts run in subprocesses with ``--quick`` into a temporary folder; set TINYAD_FULL_EXAMPLES=1
to run them at their full settings instead (minutes).
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyad as ad

ROOT = Path(__file__).resolve().parents[1]
SIZE = [] if os.environ.get("TINYAD_FULL_EXAMPLES") else ["--quick"]
GRAPH = ["layer_loss.dot"] + (["layer_loss.png"] if shutil.which("dot") else [])

SCRIPTS = {
    "docs/tutorial_1_training_loop.py": ["training_loop_orders.png"],
    "docs/tutorial_2_forward_mode.py": ["forward_gradient_error.png"],
    "docs/tutorial_3_reverse_mode.py": ["reverse_vs_forward.png"] + GRAPH,
    "docs/tutorial_4_learning_rules.py": ["alignment_angles.png"],
    "docs/tutorial_5_transforms.py": ["checkpoint_memory.png"],
    "docs/tutorial_6_vmap.py": ["per_example_gradients.png"],
    "examples/maml_sinusoid.py": ["maml_fits.png", "maml_adaptation.png", "maml.json"],
}


def run_script(script, out):
    done = subprocess.run([sys.executable, str(ROOT / script), *SIZE, "--out", str(out)],
                          capture_output=True, text=True, cwd=out, timeout=600,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs_and_writes_its_files(script, tmp_path):
    printed = run_script(script, tmp_path)
    for name in SCRIPTS[script]:
        assert (tmp_path / name).stat().st_size > 0, f"{script} did not write {name}"
    if script.startswith("examples/maml"):
        variants = json.loads((tmp_path / "maml.json").read_text())["variants"]
        assert set(variants) == {"second-order", "first-order", "pretrained", "oracle"}
        for name, numbers in variants.items():
            mse = numbers["test_mse_by_steps"]
            if name == "oracle":                  # told the task: nothing to adapt
                assert mse[0] == mse[-1] < min(v["test_mse_by_steps"][-1]
                                               for n, v in variants.items() if n != "oracle")
                continue
            assert mse[-1] < mse[0], "adaptation did not lower the query loss"
        assert "second-order" in printed and "first-order" in printed


def load_maml():
    spec = importlib.util.spec_from_file_location("maml_sinusoid",
                                                  ROOT / "examples" / "maml_sinusoid.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_maml_meta_gradient_is_second_order_and_matches_finite_differences():
    """The full meta-gradient (through the inner step) passes gradcheck against central
    differences of the meta-loss; first-order MAML's differs from it, so it does not."""
    maml = load_maml()
    tasks = maml.sample_tasks(np.random.default_rng(0), 3, 5, 5, dtype="float64")
    params = maml.init_params(0, sizes=(1, 4, 4, 1), dtype="float64")
    every = tuple(range(len(params)))

    def meta(*ps, first_order=False):
        return maml.meta_loss(list(ps), tasks, alpha=0.1, steps=1, first_order=first_order)

    def first_order(*ps):
        return meta(*ps, first_order=True)

    assert ad.gradcheck(meta, *params)
    second = np.concatenate([g.numpy().ravel() for g in ad.grad(meta, every)(*params)])
    first = np.concatenate([g.numpy().ravel() for g in ad.grad(first_order, every)(*params)])
    assert np.linalg.norm(second - first) > 1e-2 * np.linalg.norm(second)
    with pytest.raises(AssertionError, match="reverse-mode"):
        ad.gradcheck(first_order, *params)


def test_examples_write_to_runs_not_over_the_committed_results(tmp_path):
    """Without --out, the MAML example writes runs/maml under the current folder."""
    committed = ROOT / "bench" / "results" / "maml" / "maml.json"
    before = committed.read_bytes()
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "maml_sinusoid.py"), "--quick",
                           "--iterations", "3", "--test-tasks", "4", "--test-steps", "2"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "runs" / "maml" / "maml.json").is_file()
    assert committed.read_bytes() == before


def test_mnist_example_finds_data_by_the_library_search_or_uses_the_embedded_set(tmp_path,
                                                                                 monkeypatch):
    from tinyad.data import write_idx
    spec = importlib.util.spec_from_file_location("mnist_mlp", ROOT / "examples" / "mnist_mlp.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TINYAD_DATA", str(tmp_path / "nowhere"))
    (train, _), (test, _) = example.load()
    assert (len(train), len(test)) == (10_000, 2_000)                # the embedded digits
    rng = np.random.default_rng(0)
    (tmp_path / "mnist").mkdir()
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte",
              rng.integers(0, 255, (30, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 30, np.uint8))
    monkeypatch.setenv("TINYAD_DATA", str(tmp_path))                  # found as $TINYAD_DATA/mnist
    (train, _), (test, _) = example.load()
    assert train.shape == (30, 784) and test.shape == (30, 784)


def test_no_path_of_a_development_machine_in_the_product():
    """No folder of the machine the code was written on in code that runs, in the docs, or in
    the committed results (a data folder is written DIR there)."""
    sources = [*ROOT.glob("tinyad/**/*.py"), *ROOT.glob("kernels/*.py"),
               *ROOT.glob("examples/*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("docs/*.py"),
               *ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("bench/*.md"),
               *ROOT.glob("bench/results/**/*.md"), *ROOT.glob("bench/results/**/*.json")]
    found = [f"{p.relative_to(ROOT)}:{i}" for p in sources if "trials" not in p.parts
             for i, line in enumerate(p.read_text().splitlines(), 1)      # (trials: not committed)
             if "/work/" in line or "shared/data" in line]
    assert not found, found
