#!/usr/bin/env bash
# tinyad's one-call GPU check: the whole GPU path validated, and the GPU numbers collected, in
# one run on a CUDA machine, under one deadline.
#
#   bash bench/gpu_check.sh                     on the GPU machine, from anywhere (the device
#                                               tool's run with timeout_s 540)
#   FAKE_CUPY=tests/fake_cupy QUICK=1 bash bench/gpu_check.sh
#                                               a dry run without a GPU, on the fake CuPy
#
# Stages, most valuable first; each runs under min(its own limit, the time left before DEADLINE
# seconds, default 450) and is skipped with under 20 s left, so the last stage gets what is left:
#   1. environment: nvidia-smi; CuPy + NVRTC (a tinyad kernel compiled and run), Numba CUDA +
#      NVVM (a launch on CuPy memory)
#   2. pytest -m gpu, no skip allowed: every test on the device, among them the device-vs-CPU
#      checks of every primitive (tests/test_device_primitives.py: value, JVP, VJP, second
#      order) and of every learning rule x optimizer (tests/test_device_training.py)
#   3. the offline compile tests against the real toolkit (PTX for sm_90, NVRTC)
#   4. device checks pytest does not make: kernels at odd and large sizes, in F order, on a
#      non-blocking stream; transforms on the device; the memory pool steady over steps
#   5. Numba CUDA matmul vs cuBLAS at 1024-8192 fp32 (GFLOP/s), activations vs a device copy
#   6. the 784-1024-1024-10 MLP step per learning rule, GPU vs CPU, batch 64 and 1024: R_f,
#      R_b, FG/BP
#   7. the whole suite with tensors on the device by default (TINYAD_TEST_DEVICE=cuda), less
#      the tests that assume host arrays on purpose (CPU_MINDED below, each with its reason)
#
# Installs nothing: the GPU machine's python3 has numpy, numba, numba-cuda, cupy, pytest and
# hypothesis; tinyad runs from the tree (PYTHONPATH; a link stands in for pyproject.toml's
# package-dir mapping tinyad.kernels -> kernels/, removed at the end).
#
# Writes into $OUT (default /tmp/gpu_check_out): log.txt (everything), gpu_check.jsonl (one line
# per check and measurement), summary.md (failures, numbers, goals), kernels_gpu.json/.md,
# mlp_steps.json, and a junit file per pytest stage. stdout: the log without PASS lines, then
# the summary. Knobs: DEADLINE (s), PY (python), OUT, FAKE_CUPY, QUICK.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
rm -f "$OUT/gpu_check.jsonl"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
PY=${PY:-python3}
if [ ! -e tinyad/kernels ]; then
    ln -s ../kernels tinyad/kernels
    trap 'rm -f "$REPO/tinyad/kernels"' EXIT
fi
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
if [ -n "${FAKE_CUPY:-}" ]; then
    FAKE_CUPY=$(cd "$FAKE_CUPY" && pwd)
    export FAKE_CUPY TINYAD_TEST_CUPY=fake PYTHONPATH="$FAKE_CUPY:$PYTHONPATH"
else
    export TINYAD_TEST_CUPY=real
fi

T0=$SECONDS
DEADLINE=${DEADLINE:-450}
left() { echo $(( DEADLINE - (SECONDS - T0) )); }
# stage NAME MAX_SECONDS COMMAND...: runs under min(MAX, time left); skipped under 20 s left
stage() {
    local name=$1 max=$2 budget
    shift 2
    budget=$(left)
    (( budget > max )) && budget=$max
    if (( budget < 20 )); then echo "=== SKIPPED $name (only $(left) s left)"; return; fi
    echo "=== [$((SECONDS - T0)) s] $name (up to $budget s)"
    timeout --signal=INT --kill-after=15 "$budget" "$@"        # INT: pytest still reports
    local rc=$?
    (( rc == 124 || rc == 130 || rc == 137 )) && echo "=== TIMED OUT $name after $budget s"
    echo "=== [$((SECONDS - T0)) s] $name done (rc=$rc)"
}
CHECK="$PY bench/gpu_check.py"
# The offline compile tests need the CUDA toolkit (NVRTC), which a dry run's machine rarely has:
# held strictly on a GPU machine, recorded as information on the fake.
COMPILE_MODE=strict
[ -n "${FAKE_CUPY:-}" ] && COMPILE_MODE=info
# Stage 7 runs the suite with tensors on the device by default; these tests assume host arrays
# (or the CPU's tools) on purpose, so they are left out, each with its reason:
CPU_MINDED=(
    # Numba CUDA simulator, timed benchmarks and tutorial notebooks: their own stages or none
    --deselect tests/test_cudasim.py --deselect tests/test_bench_smoke.py
    --deselect tests/test_tutorials.py
    # reads the optimizer's state (device arrays there) with NumPy functions
    --deselect tests/test_optim.py::test_adam_state_after_two_steps
    --deselect tests/test_serialization.py::test_resume_is_bit_identical
    # hands NumPy tangents, or a NumPy draw_flat spy, to ForwardGradient; on the device the rule
    # refuses host tangents (DeviceError) and draws with CuPy's generator
    --deselect tests/test_rule_interface.py::test_pre_drawn_tangents_are_used_as_given_and_left_unchanged
    --deselect tests/test_rule_interface.py::test_a_given_generator_draws_the_tangents
    --deselect tests/test_rule_interface.py::test_per_layer_draws_each_layer_twice_from_its_own_key
    --deselect tests/test_rule_interface.py::test_pre_drawn_activity_tangents
)
# the fake keeps no memory pool, so step_memory on its device reads 0 MiB
[ -n "${FAKE_CUPY:-}" ] && CPU_MINDED+=(
    --deselect tests/test_compare.py::test_fit_runs_any_rule_and_reports_per_step_and_per_epoch)
{
stage "environment" 40 bash -c "{ [ -n \"\${FAKE_CUPY:-}\" ] || nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; }; $CHECK env"
# (test_against_jax.py has no gpu test; without JAX it is skipped whole, which strict would count)
stage "pytest -m gpu: every device test, no skip" 140 $CHECK pytest gpu_tests strict -m gpu tests \
    --ignore tests/test_against_jax.py
stage "offline compile tests (PTX for sm_90, NVRTC)" 30 \
    $CHECK pytest compile $COMPILE_MODE tests/test_cudasim.py -k "ptx or nvrtc"
stage "device checks: kernels at odd sizes and on streams, transforms, memory" 45 $CHECK smoke
stage "benchmark: Numba CUDA matmul vs cuBLAS, activations vs copy" 60 $CHECK bench kernels
stage "benchmark: MLP step per learning rule, GPU vs CPU" 90 $CHECK bench mlp
stage "the whole suite with device tensors" 600 env TINYAD_TEST_DEVICE=cuda \
    $CHECK pytest device_suite info -o addopts="" tests "${CPU_MINDED[@]}"
} 2>&1 | tee "$OUT/log.txt" | sed -u -e '/^PASS /d' -e 's/^\(.\{300\}\).*/\1/'

$CHECK summary
echo "total $((SECONDS - T0)) s; in $OUT: $(ls "$OUT" | tr '\n' ' ')"
