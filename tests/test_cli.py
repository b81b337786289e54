"""The ``tinyad`` command refuses bad input before it works (#11): each case runs the installed
console script and checks exit code 2, one line on stderr, and that no training step ran (the
``training:`` line ``tinyad compare`` prints before each rule's first step never appears)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyad.commands import machine
from tinyad.data import write_idx

TINYAD = shutil.which("tinyad", path=str(Path(sys.executable).parent)) or shutil.which("tinyad")
SMALL = ["--epochs", "1", "--train-size", "64", "--test-size", "32", "--hidden", "8",
         "--methods", "bp", "--align-draws", "1"]


def tinyad(*args, cwd, env=None, timeout=120):
    assert TINYAD, "the tinyad console script is not installed (pip install -e .)"
    return subprocess.run([TINYAD, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, "MPLBACKEND": "Agg", **(env or {})})


def refused(*args, cwd, env=None):
    """The one line `tinyad *args` wrote on stderr, after checking exit code 2 and no work."""
    done = tinyad(*args, cwd=cwd, env=env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert len(lines) == 1, f"{args}: stderr is not one line:\n{done.stderr}"
    assert "training:" not in done.stdout and "epoch" not in done.stdout
    assert lines[0].startswith(f"tinyad {args[0]}: error: ")
    return lines[0]


def idx_folder(folder, n=120, labels=None, images=None):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (n, 28, 28), dtype=np.uint8) if images is None else images
    labels = rng.integers(0, 10, n).astype(np.uint8) if labels is None else labels
    write_idx(folder / "t10k-images-idx3-ubyte", images)
    write_idx(folder / "t10k-labels-idx1-ubyte", labels)
    return folder


def test_an_unwritable_out_is_refused_before_training(tmp_path):
    (tmp_path / "file").write_text("x")
    line = refused("compare", *SMALL, "--no-plots", "--out", str(tmp_path / "file" / "out"),
                   cwd=tmp_path)
    assert "--out" in line and "cannot write there" in line
    line = refused("compare", *SMALL, "--no-plots", "--out", str(tmp_path / "file"), cwd=tmp_path)
    assert "exists and is not a folder" in line
    if os.geteuid() != 0:                 # root writes into a read-only folder anyway
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        assert "Permission denied" in refused("compare", *SMALL, "--no-plots", "--out",
                                              str(locked), cwd=tmp_path)


def test_missing_matplotlib_is_refused_before_training(tmp_path):
    fake = tmp_path / "no_matplotlib" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('matplotlib is not installed')\n")
    env = {"PYTHONPATH": str(fake.parent)}
    line = refused("compare", *SMALL, "--out", str(tmp_path / "out"), cwd=tmp_path, env=env)
    assert "plots need matplotlib" in line and "--no-plots" in line
    assert not (tmp_path / "out").exists()
    assert "need matplotlib" in refused("walkthrough", "--out", str(tmp_path / "w"),
                                        cwd=tmp_path, env=env)


@pytest.mark.parametrize("case, reason", [
    ("missing", "neither a data set (default, mnist, fashion-mnist) nor a folder"),
    ("mnsit", "did you mean 'mnist'?"),
    ("empty", "no IDX image/label pair found"),
    ("truncated", "truncated file"),
    ("corrupt", "not an IDX file"),
    ("labels", "labels must be class numbers 0..9; found values from 0 to 250"),
])
def test_dataset_problems_are_one_line(tmp_path, case, reason):
    folder = tmp_path / "data"
    if case == "mnsit":
        folder = "mnsit"
    elif case == "empty":
        folder.mkdir()
    elif case == "labels":
        idx_folder(folder, labels=np.array([0] * 119 + [250], np.uint8))
    elif case in ("truncated", "corrupt"):
        path = idx_folder(folder) / "t10k-images-idx3-ubyte"
        data = path.read_bytes()
        path.write_bytes(data[:-100] if case == "truncated" else b"\x00\x01" + data[2:])
    line = refused("compare", *SMALL, "--no-plots", "--dataset", str(folder),
                   "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert reason in line and "--dataset" in line


@pytest.mark.parametrize("args, reason", [
    (["--seed", "-1"], "--seed must be >= 0, got -1"),
    (["--lr", "bp=inf"], "--lr 'bp=inf': a learning rate must be a finite number > 0"),
    (["--lr", "bp=nan"], "a learning rate must be a finite number > 0"),
    (["--lr", "sgd=0.1"], "--lr 'sgd=0.1': unknown method 'sgd'"),
    (["--lr", "fg=0.1"], "fg is not among --methods bp"),
    (["--train-size", "-5"], "--train-size must be >= 1, got -5"),
    (["--train-size", "20000"], "20000 training examples asked for, the data has 10000"),
    (["--test-size", "0"], "--test-size must be >= 1, got 0"),
    (["--threads", "0"], "--threads must be >= 1, got 0"),
])
def test_bad_compare_arguments_are_one_line(tmp_path, args, reason):
    argv = SMALL if "--train-size" not in args else [a for a in SMALL
                                                     if a not in ("--train-size", "64")]
    line = refused("compare", *argv, "--no-plots", *args, "--out", str(tmp_path / "out"),
                   cwd=tmp_path)
    assert reason in line


@pytest.mark.parametrize("args, reason", [
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--data", "{tmp}/nothing"], "no readable MNIST test files there"),
    (["--out", "{tmp}/file/out"], "--out"),
])
def test_bad_bench_arguments_are_one_line(tmp_path, args, reason):
    (tmp_path / "file").write_text("x")
    args = [a.format(tmp=tmp_path) for a in args]
    assert reason in refused("bench", "--quick", "--model", "logreg", *args, cwd=tmp_path)


NO_CUPY = "raise ModuleNotFoundError(\"No module named 'cupy'\", name='cupy')\n"
NO_DEVICE = """import types
class CUDARuntimeError(RuntimeError):
    pass
def _count():
    raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
    CUDARuntimeError=CUDARuntimeError, getDeviceCount=_count))
"""


@pytest.mark.parametrize("command", ["compare", "bench"])
@pytest.mark.parametrize("cupy, reason", [
    (NO_CUPY, "--device cuda: device 'cuda' needs CuPy: pip install"),
    (NO_DEVICE, "--device cuda: no CUDA device answers (CUDARuntimeError: cudaErrorNoDevice"),
], ids=["no-cupy", "no-device"])
def test_device_cuda_without_cupy_or_a_device_is_refused_before_work(tmp_path, command, cupy,
                                                                     reason):
    stub = tmp_path / "stub" / "cupy"                   # in place of any CuPy, fake or real
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(cupy)
    args = ([*SMALL, "--no-plots"] if command == "compare"
            else ["--quick", "--model", "logreg", "--engines", "tinyad"])
    line = refused(command, *args, "--device", "cuda", "--out", str(tmp_path / "out"),
                   cwd=tmp_path, env={"PYTHONPATH": str(stub.parent)})
    assert reason in line
    assert "[logreg" not in line                         # bench timed nothing either


def test_an_unknown_device_is_refused(tmp_path):
    assert "invalid choice: 'tpu'" in refused("compare", *SMALL, "--device", "tpu", cwd=tmp_path)


@pytest.mark.gpu
def test_compare_and_bench_run_on_the_device(tmp_path):
    """``--device cuda`` on the session's device (on CI the fake CuPy, which conftest puts on the
    PYTHONPATH of the commands it starts); the results name the device and the GPU."""
    done = tinyad("compare", *SMALL, "--methods", "bp,fg", "--no-plots", "--device", "cuda",
                  "--out", str(tmp_path / "c"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "on cuda" in done.stdout.splitlines()[0]
    payload = json.loads((tmp_path / "c" / "results.json").read_text())
    assert payload["device"] == payload["config"]["device"] == "cuda"
    assert payload["machine"]["gpu"]["name"] and set(payload["results"]) == {"bp", "fg"}
    text = (tmp_path / "c" / "results.md").read_text()
    assert "on cuda" in text and f"GPU: {payload['machine']['gpu']['name']}" in text
    done = tinyad("bench", "--quick", "--model", "logreg", "--engines", "tinyad", "--device",
                  "cuda", "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "b" / "paper_ratios.json").read_text())
    assert result["device"] == "cuda" and result["machine"]["gpu"]["name"]
    assert result["rows"][0]["R_b"] > 0 and not result["rows"][0].get("tangent_sources")
    assert "tinyad on cuda" in (tmp_path / "b" / "paper_ratios.md").read_text()


def test_walkthrough_refuses_an_unwritable_out(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "cannot write there" in refused("walkthrough", "--out", str(tmp_path / "file" / "x"),
                                           cwd=tmp_path)


def test_a_reader_that_goes_away_early_gets_no_traceback(tmp_path):
    """``tinyad compare ... | head -1``: the run stops quietly when its reader is gone."""
    proc = subprocess.Popen([TINYAD, "compare", *SMALL, "--epochs", "3", "--no-plots", "--out",
                             str(tmp_path / "out")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()                                  # what `head -1` does after one line
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert first.startswith(b"data:")
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception" not in err


def test_compare_runs_with_its_thread_setting_and_restores_it(tmp_path):
    from tinyad import cli
    before = machine.blas_threads()
    assert cli.main(["compare", *SMALL, "--no-plots", "--threads", "1", "--out",
                     str(tmp_path)]) == 0
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["threads"]["requested"] == 1 and payload["config"]["threads"] == 1
    assert payload["threads"]["blas"] in (1, None) and payload["threads"]["numba"] in (1, None)
    if payload["threads"]["blas"]:
        assert payload["machine"]["blas"]["threads"] == 1      # recorded while in force
    assert machine.blas_threads() == before                    # and put back


def test_threads_sets_and_restores_blas_and_numba():
    numba = pytest.importorskip("numba")
    blas, nb = machine.blas_threads(), numba.get_num_threads()
    with machine.threads(1) as applied:
        assert applied["requested"] == 1 and numba.get_num_threads() == 1
        assert machine.blas_threads() in (1, None)
    assert machine.blas_threads() == blas and numba.get_num_threads() == nb
    with machine.threads(None) as left:
        assert left["blas"] == blas
