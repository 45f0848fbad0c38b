#!/usr/bin/env bash
# One-command GPU check for a lent GPU machine (see the device tool's README).
#
# On the GPU machine (nothing can be downloaded there; its python3 already has
# numpy, scipy, scikit-learn, pytest(-xdist), cupy-cuda13x, cuda-bindings and
# CUDA 13's nvidia-cuda-nvrtc; it lacks `deprecated`, carried as a wheel):
#
#   here, once:   bash scripts/gpu_check.sh --fetch-wheels      # fills .whl/
#   device tool:  run(command="bash scripts/gpu_check.sh", carry=[".whl"], timeout_s=540)
#
# Steps (each timed, each guarded so one failure does not stop the rest, all
# within GPU_CHECK_BUDGET_S seconds, default 450): environment and install,
# nvidia-smi, an NVRTC -> cubin/PTX -> launch smoke test, the test suite with
# ML_GENN_BACKEND=cuda, tests/test_cuda*.py, and the two benchmarks with
# --backend cuda where they accept it. Logs go to "$OUT" (default ./out/gpu):
# at most 8 files, as the device tool returns no more.
#
# Variables: OUT, PYTHON (default python3), VENV (default /tmp/ml_genn_gpu_venv;
# reused if present), GPU_CHECK_BUDGET_S, XDIST_WORKERS (default 8; 0 = serial),
# GPU_CHECK_OFFLINE=1 (do not even try PyPI).
set -u
set -o pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
WHEELS="$ROOT/.whl"
# Wheels the GPU machine lacks: pure-Python run-time dependencies of ml_genn.
CARRIED=("deprecated")

if [ "${1:-}" = "--fetch-wheels" ]; then
    # Run here (with PyPI), not on the GPU machine.
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.whl/' >> .git/info/exclude; }
    mkdir -p "$WHEELS"
    exec "${PYTHON:-python3}" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d "$WHEELS" "${CARRIED[@]}"
fi

OUT="${OUT:-$ROOT/out/gpu}"
mkdir -p "$OUT"
BUDGET=${GPU_CHECK_BUDGET_S:-450}
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
export PYTHONUNBUFFERED=1
START=$SECONDS

note() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME LOG MAX_SECONDS CMD...: run CMD with a timeout (never past the
# budget), append its output to LOG, record time and exit status.
step() {
    local name=$1 log=$2 max=$3
    shift 3
    local left=$(( BUDGET - (SECONDS - START) ))
    if [ "$left" -lt 10 ]; then
        note "SKIP  $name (budget of ${BUDGET}s spent)"
        return 0
    fi
    [ "$max" -gt "$left" ] && max=$left
    echo "=== $name  ($(date -u +%H:%M:%S), limit ${max}s): $*" >> "$log"
    local t0=$SECONDS rc=0
    if [ "$(type -t "$1")" = "function" ]; then     # timeout runs programs only
        timeout --kill-after=10 "$max" bash -c "set -u; $(declare -f "$1"); $1" >> "$log" 2>&1 || rc=$?
    else
        timeout --kill-after=10 "$max" "$@" >> "$log" 2>&1 || rc=$?
    fi
    local status="ok"
    [ "$rc" -ne 0 ] && status="FAIL rc=$rc"
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && status="TIMEOUT after ${max}s"
    note "$(printf '%-5s %-42s %4ds  %s' "${status%% *}" "$name" $((SECONDS - t0)) "$status -> $(basename "$log")")"
    return 0
}

# ------------------------------------------------------------- environment
ENVLOG="$OUT/00_env_install.log"
export PYTHON=${PYTHON:-python3}
export VENV=${VENV:-/tmp/ml_genn_gpu_venv}
export ROOT WHEELS

make_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv --system-site-packages "$VENV" || return 1
        # When PYTHON is itself a venv (the GPU machine's is), --system-site-packages
        # reaches only the base interpreter: expose PYTHON's own packages too.
        local sp
        sp=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
        "$PYTHON" -c 'import site, sysconfig; print("\n".join(dict.fromkeys(
            [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]] + site.getsitepackages())))' \
            > "$sp/_ml_genn_parent_site.pth" || return 1
    fi
}

install() {
    local py="$VENV/bin/python"
    if [ -z "${GPU_CHECK_OFFLINE:-}" ] && timeout 20 "$py" -m pip index versions pip > /dev/null 2>&1; then
        echo "PyPI reachable: installing .[test,cuda]"
        timeout 240 "$py" -m pip install -q -e ".[test,cuda]" && return 0
        echo "online install failed; falling back to the offline install"
    fi
    if compgen -G "$WHEELS/*.whl" > /dev/null; then
        echo "installing carried wheels: $(cd "$WHEELS" && echo *.whl)"
        "$py" -m pip install -q --no-index --no-deps --no-compile "$WHEELS"/*.whl \
            || echo "carried wheels did not install (wrong Python version?)"
    else
        echo "no carried wheels in .whl/ (run scripts/gpu_check.sh --fetch-wheels here first)"
    fi
    # ml_genn itself: an editable install needs no network when setuptools is
    # there; otherwise a .pth pointing at the checkout does the same job.
    if ! "$py" -m pip install -q --no-index --no-deps --no-build-isolation -e . ; then
        echo "editable install failed: adding the checkout to sys.path with a .pth"
        local sp
        sp=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
        echo "$ROOT" > "$sp/_ml_genn_checkout.pth"
    fi
}

report_env() {
    local py="$VENV/bin/python"
    uname -a; nproc; free -g | head -2
    "$py" - <<'EOF'
import importlib, sys
print("python", sys.version.split()[0], sys.executable)
for mod in ["ml_genn", "numpy", "tqdm", "deprecated", "scipy", "sklearn", "pytest", "xdist",
            "cupy", "cuda.bindings", "tensorflow"]:
    try:
        m = importlib.import_module(mod)
        print(f"  {mod:14s} {getattr(m, '__version__', '?'):12s} {getattr(m, '__file__', '')}")
    except Exception as e:
        print(f"  {mod:14s} MISSING ({type(e).__name__}: {e})")
from ml_genn.genn.backends import nvrtc
print("NVRTC:", nvrtc.find_nvrtc(), nvrtc.nvrtc_version(), "archs", nvrtc.supported_archs())
print("driver CUDA major:", nvrtc._driver_major())
EOF
}

echo "=== gpu_check at $(date -u) in $ROOT" > "$ENVLOG"
step "venv ($VENV)" "$ENVLOG" 60 make_venv
step "install (.[test,cuda] or offline)" "$ENVLOG" 280 install
step "import report" "$ENVLOG" 60 report_env
export PY="$VENV/bin/python"

# ------------------------------------------------------------------ device
step "nvidia-smi" "$ENVLOG" 30 nvidia-smi

SMOKE="$OUT/01_nvrtc_smoke.log"
smoke() {
    "$PY" - <<'EOF'
"""NVRTC cubin and PTX for this device, loaded and launched through CuPy
(or cuda.bindings); reports each route separately for the loader's author."""
import time
import numpy as np
from ml_genn.genn.backends import nvrtc

SRC = r'''
typedef unsigned int uint32_t;
extern "C" __global__ void axpb(float* x, uint32_t n, float a, float b) {
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = a * x[i] + b;
}
'''
try:
    import cupy as cp
except ImportError as e:
    raise SystemExit(f"no CuPy here ({e}): cannot load the compiled code")
dev = cp.cuda.Device(0)
cc = dev.compute_capability
print("device", cp.cuda.runtime.getDeviceProperties(0)["name"], "cc", cc,
      "driver", cp.cuda.runtime.driverGetVersion(), "nvrtc", nvrtc.nvrtc_version())
n = 1000
for kind in ("cubin", "ptx"):
    try:
        t = time.perf_counter()
        if kind == "cubin":
            image = nvrtc.compile_cubin(SRC, "axpb.cu", arch=f"sm_{cc}")
        else:
            image = nvrtc.compile_ptx(SRC, "axpb.cu").encode()
        dt = time.perf_counter() - t
        mod = cp.cuda.function.Module()
        mod.load(image)
        f = mod.get_function("axpb")
        x = cp.arange(n, dtype=cp.float32)
        f(((n + 255) // 256,), (256,), (x, np.uint32(n), np.float32(3.0), np.float32(1.0)))
        cp.cuda.runtime.deviceSynchronize()
        ok = np.array_equal(x.get(), np.arange(n, dtype=np.float32) * 3 + 1)
        print(f"{kind}: compiled in {dt:.3f}s, loaded and ran: {'CORRECT' if ok else 'WRONG'}")
    except Exception as e:
        print(f"{kind}: FAILED {type(e).__name__}: {e}")
EOF
}
step "NVRTC cubin/PTX smoke test" "$SMOKE" 60 smoke

# ------------------------------------------------------------------- tests
XDIST=()
if [ "${XDIST_WORKERS:-8}" != "0" ] && "$PY" -c "import xdist" 2> /dev/null; then
    XDIST=(-n "${XDIST_WORKERS:-8}")
fi
step "pytest tests -m 'not slow' (ML_GENN_BACKEND=cuda)" "$OUT/02_tests_backend_cuda.log" 240 \
    env ML_GENN_BACKEND=cuda "$PY" -m pytest -q -p no:cacheprovider "${XDIST[@]}" tests -m "not slow"

CUDA_TESTS=(tests/test_cuda*.py)
if [ -e "${CUDA_TESTS[0]}" ]; then
    step "pytest tests/test_cuda*.py" "$OUT/03_tests_cuda.log" 120 \
        "$PY" -m pytest -q -p no:cacheprovider "${CUDA_TESTS[@]}"
else
    note "SKIP  pytest tests/test_cuda*.py (no such files yet)"
fi

# -------------------------------------------------------------- benchmarks
for bench in lif_network inference_digits; do
    file="benchmarks/$bench.py"
    if [ -f "$file" ] && grep -q -- "--backend" "$file"; then
        step "benchmark $bench --backend cuda" "$OUT/04_bench_${bench}.log" 90 \
            "$PY" "$file" --backend cuda
    else
        note "SKIP  benchmark $bench (no --backend option yet)"
    fi
done

note "total $((SECONDS - START))s of ${BUDGET}s budget; logs in $OUT"
exit 0
