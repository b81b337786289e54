"""bench/gpu_check.sh, dry-run on the fake CuPy: its shell parses, and every stage of its Python
part (bench/gpu_check.py) runs and records results, so the one call on a GPU machine does not
fail on a typo. QUICK=1 shrinks the benchmarks to seconds."""
import json
import os
import subprocess
import sys
from pathlib import Path

import devices

ROOT = Path(__file__).resolve().parents[1]


def run(*args, out, **env):
    env = {**os.environ, "FAKE_CUPY": str(devices.FAKE_CUPY), "QUICK": "1", "OUT": str(out),
           **env}
    return subprocess.run([sys.executable, "bench/gpu_check.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_gpu_check_dry_runs_on_the_fake_device(fake_cp, tmp_path):
    assert subprocess.run(["bash", "-n", "bench/gpu_check.sh"], cwd=ROOT).returncode == 0
    for stage in (["env"], ["smoke"], ["bench", "kernels", "mlp"],
                  ["pytest", "fake", "strict", "tests/test_fake_cupy.py", "-k", "fixture"],
                  ["summary"]):
        proc = run(*stage, out=tmp_path)
        assert proc.returncode == 0, f"{stage}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    lines = [json.loads(s) for s in (tmp_path / "gpu_check.jsonl").read_text().splitlines()]
    names = {r["name"] for r in lines}
    assert {"env/cupy_device_and_nvrtc", "api/memory_pool_steady_over_steps", "mlp/cuda/batch8",
            "pytest/fake"} <= names
    assert all(r["status"] == "PASS" for r in lines), [r for r in lines if r["status"] != "PASS"]
    rows = json.loads((tmp_path / "mlp_steps.json").read_text())["rows"]
    assert [r["device"] for r in rows] == ["cuda"] and rows[0]["R_b"] > 0
    summary = (tmp_path / "summary.md").read_text()
    assert "dry run on the fake CuPy" in summary and "fg/bp" in summary
