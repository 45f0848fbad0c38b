"""NVRTC, the run-time CUDA compiler: compiles without a GPU, so these run in CI.

NVRTC comes from PyPI (``nvidia-cuda-nvrtc-cu12``, in the ``test`` extra), so
in CI a missing NVRTC is a failure, never a skip.
"""
import os
import threading

import pytest

from ml_genn.genn.backends import nvrtc
from ml_genn.genn.errors import BuildError, GeNNError


@pytest.fixture(scope="module", autouse=True)
def _need_nvrtc():
    try:
        nvrtc.find_nvrtc()
    except nvrtc.NVRTCNotFoundError as e:
        if os.environ.get("CI"):
            pytest.fail(f"NVRTC must be installed in CI (test extra): {e}")
        pytest.skip(f"NVRTC not installed (pip install nvidia-cuda-nvrtc-cu12): {e}")


@pytest.fixture(autouse=True)
def _no_arch_env(monkeypatch):
    monkeypatch.delenv(nvrtc.ENV_ARCH, raising=False)


KERNEL = """
typedef unsigned int uint32_t;
extern "C" __global__ void scale(float* x, uint32_t n, float a) {
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        x[i] = a * x[i];
    }
}
"""


def _target(ptx):
    return next(line.split()[1] for line in ptx.splitlines() if line.startswith(".target"))


def test_library_found_and_versioned():
    path = nvrtc.find_nvrtc()
    assert os.path.isfile(path)
    major, minor = nvrtc.nvrtc_version()
    assert (major, minor) >= (11, 2)
    assert nvrtc.DEFAULT_ARCH in nvrtc.supported_archs()


def test_compile_ptx_contains_entry():
    ptx = nvrtc.compile_ptx(KERNEL, "scale.cu")
    assert isinstance(ptx, str)
    assert ".entry scale(" in ptx
    assert _target(ptx) == "sm_75"          # the default virtual architecture
    assert "\0" not in ptx


@pytest.mark.parametrize("arch, target", [("compute_80", "sm_80"), ("sm_86", "sm_86"),
                                          (90, "sm_90"), ("89", "sm_89")])
def test_arch_respected(arch, target):
    assert _target(nvrtc.compile_ptx(KERNEL, "scale.cu", arch=arch)) == target


def test_arch_from_environment(monkeypatch):
    monkeypatch.setenv(nvrtc.ENV_ARCH, "sm_80")
    assert nvrtc.default_arch() == "sm_80"
    assert _target(nvrtc.compile_ptx(KERNEL, "scale.cu")) == "sm_80"
    # an explicit argument wins over the environment
    assert _target(nvrtc.compile_ptx(KERNEL, "scale.cu", arch=86)) == "sm_86"


def test_unsupported_arch_names_supported_ones():
    with pytest.raises(BuildError) as info:
        nvrtc.compile_ptx(KERNEL, "scale.cu", arch="compute_30")
    msg = str(info.value)
    assert "compute_30 is not supported" in msg
    assert "compute_75" in msg and "ML_GENN_CUDA_ARCH" in msg


@pytest.mark.parametrize("arch", ["sm90", "compute_", "x_75", "75.0", ""])
def test_malformed_arch(arch):
    with pytest.raises(ValueError, match="invalid CUDA architecture"):
        nvrtc.compile_ptx(KERNEL, "scale.cu", arch=arch)


def test_arch_in_options_rejected():
    with pytest.raises(ValueError, match="arch="):
        nvrtc.compile_ptx(KERNEL, "scale.cu", options=["-arch=compute_80"])


def test_bad_argument_types():
    with pytest.raises(TypeError):
        nvrtc.compile_ptx(KERNEL.encode(), "scale.cu")
    with pytest.raises(TypeError):
        nvrtc.compile_ptx(KERNEL, "scale.cu", options="--fmad=true")
    with pytest.raises(ValueError):
        nvrtc.compile_ptx(KERNEL, "")


def test_syntax_error_names_line_and_source():
    src = KERNEL.replace("x[i] = a * x[i];", "x[i] = a * y[i];")
    line = src.splitlines().index("        x[i] = a * y[i];") + 1
    with pytest.raises(BuildError) as info:
        nvrtc.compile_ptx(src, "model.cu", source_path="/tmp/model.cu")
    err = info.value
    msg = str(err)
    assert f"model.cu, line {line}: error: identifier \"y\" is undefined" in msg
    assert f"> {line} |         x[i] = a * y[i];" in msg       # the offending line, marked
    assert "/tmp/model.cu" in msg
    assert "Compiler output:" in msg and err.compiler_output.strip() in msg  # full log
    assert err.line == line
    assert err.errors == [("model.cu", line, 'identifier "y" is undefined')]
    assert isinstance(err, GeNNError)


def test_several_errors_and_end_of_source():
    src = KERNEL.replace("a * x[i]", "a * q[i]") + "int z = 3\n"
    with pytest.raises(BuildError) as info:
        nvrtc.compile_ptx(src, "two.cu")
    msg = str(info.value)
    assert "2 errors" in msg
    assert 'identifier "q" is undefined' in msg
    assert 'at end of source: expected a ";"' in msg


def test_compile_cubin_is_elf_for_cuda():
    cubin = nvrtc.compile_cubin(KERNEL, "scale.cu", arch="sm_90")
    assert isinstance(cubin, bytes)
    assert cubin[:4] == b"\x7fELF"
    assert int.from_bytes(cubin[18:20], "little") == 190       # EM_CUDA
    assert b"scale" in cubin
    # a compute_ name asks for the same real architecture
    assert nvrtc.compile_cubin(KERNEL, "scale.cu", arch="compute_90")[:4] == b"\x7fELF"


def test_no_fused_multiply_add_by_default():
    """Same rounding as the C++ backend (-ffp-contract=off)."""
    src = 'extern "C" __global__ void k(float* x) { x[0] = x[1] * x[2] + x[3]; }'
    assert "fma.rn" not in nvrtc.compile_ptx(src, "k.cu")
    assert "fma.rn.f32" in nvrtc.compile_ptx(src, "k.cu", options=["--fmad=true"])
    assert "fma.rn.ftz.f32" in nvrtc.compile_ptx(src, "k.cu", options=["--use_fast_math"])


def test_unannotated_helpers_are_device_functions():
    src = 'float twice(float v) { return 2.0f * v; }\n' \
          'extern "C" __global__ void k(float* x) { x[0] = twice(x[1]); }'
    assert ".entry k(" in nvrtc.compile_ptx(src, "k.cu")


def test_builtins_need_no_headers():
    src = """
extern "C" __global__ void k(float* x, double* d, unsigned int* u) {
    x[0] = expf(x[1]) + logf(x[2]) + sqrtf(x[3]) + fmaxf(x[4], __int_as_float(0x7f800000));
    d[0] = exp(d[1]) + pow(d[2], 0.5);
    atomicAdd(&x[5], 1.0f);
    atomicOr(&u[0], 1u << (threadIdx.x % 32));
    x[6] = __shfl_down_sync(0xffffffffu, x[7], 1);
    __syncthreads();
    if (x[8] > 0.0f) printf("%f\\n", x[8]);
}
"""
    assert ".entry k(" in nvrtc.compile_ptx(src, "k.cu")


def test_system_headers_unavailable():
    """NVRTC has no include path without a CUDA toolkit: generated code
    defines its own typedefs instead of including <cstdint>."""
    with pytest.raises(BuildError, match="cstdint"):
        nvrtc.compile_ptx("#include <cstdint>\n" + KERNEL, "inc.cu")


def test_in_memory_headers_and_shared_philox():
    """The RNG header shared with the C++ backend compiles for the GPU."""
    here = os.path.dirname(nvrtc.__file__)
    with open(os.path.join(here, "philox.h")) as f:
        philox = f.read()
    src = """
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#define MG_HD __host__ __device__
#include "philox.h"
extern "C" __global__ void draw(float* out, uint64_t seed) {
    mg_rng r;
    mg_rng_init(&r, seed, 1u, threadIdx.x, 0ull);
    out[threadIdx.x] = mg_uniform_f(&r) + mg_normal_f(&r) + (float)mg_gamma_d(&r, 0.5)
                       + (float)mg_binomial(&r, 10u, 0.3);
}
"""
    ptx = nvrtc.compile_ptx(src, "rng.cu", headers={"philox.h": philox})
    assert ".entry draw(" in ptx


def test_error_in_header_shows_header_line():
    header = ("#define MG_SCALE 2.0f\n"
              "static __device__ float mg_twice(float v) { return MG_SCALE * w; }\n")
    src = ('#include "helpers.h"\n'
           'extern "C" __global__ void k(float* x) { x[0] = mg_twice(x[1]); }\n')
    with pytest.raises(BuildError) as info:
        nvrtc.compile_ptx(src, "main.cu", headers={"helpers.h": header})
    msg = str(info.value)
    assert 'helpers.h, line 2: error: identifier "w" is undefined' in msg
    assert "> 2 | static __device__ float mg_twice" in msg
    assert info.value.line is None                  # no error in main.cu itself


def test_concurrent_compilation():
    results, errors = {}, []

    def work(i):
        try:
            src = f'extern "C" __global__ void k{i}(float* x) {{ x[threadIdx.x] = {i}.0f; }}'
            results[i] = nvrtc.compile_ptx(src, f"k{i}.cu")
        except Exception as e:      # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(f".entry k{i}(" in results[i] and f".entry k{(i + 1) % 8}(" not in results[i]
               for i in range(8))


def test_env_library_override(monkeypatch):
    path = nvrtc.find_nvrtc()
    monkeypatch.setenv(nvrtc.ENV_LIBRARY, os.path.dirname(path))
    assert nvrtc.find_nvrtc() == path
    monkeypatch.setenv(nvrtc.ENV_LIBRARY, "/nonexistent/libnvrtc.so.12")
    with pytest.raises(nvrtc.NVRTCNotFoundError, match="ML_GENN_NVRTC"):
        nvrtc.find_nvrtc()


def test_missing_library_says_how_to_install(monkeypatch):
    monkeypatch.delenv(nvrtc.ENV_LIBRARY, raising=False)
    monkeypatch.setattr(nvrtc, "_wheel_candidates", lambda: [])
    monkeypatch.setattr(nvrtc, "_system_candidates", lambda: ["/nonexistent/libnvrtc.so"])
    with pytest.raises(nvrtc.NVRTCNotFoundError) as info:
        nvrtc.find_nvrtc()
    msg = str(info.value)
    assert 'pip install "ml_genn[cuda]"' in msg
    assert "/nonexistent/libnvrtc.so" in msg
    assert isinstance(info.value, ImportError) and isinstance(info.value, GeNNError)


def test_library_newer_than_driver_is_skipped(monkeypatch):
    path = nvrtc.find_nvrtc()
    major = nvrtc.nvrtc_version()[0]
    monkeypatch.delenv(nvrtc.ENV_LIBRARY, raising=False)
    monkeypatch.setattr(nvrtc, "_wheel_candidates", lambda: [path])
    monkeypatch.setattr(nvrtc, "_system_candidates", lambda: [])
    monkeypatch.setattr(nvrtc, "_driver_major", lambda: major - 1)
    with pytest.raises(nvrtc.NVRTCNotFoundError, match="newer than the driver"):
        nvrtc.find_nvrtc()
    monkeypatch.setattr(nvrtc, "_driver_major", lambda: major)
    assert nvrtc.find_nvrtc() == path


def test_large_source_compiles():
    """~2000 generated lines, the size of a large model's source."""
    body = "".join(f"""
extern "C" __global__ void update_{i}(float* V, float* I, const float* w, unsigned int n) {{
    const unsigned int id = blockIdx.x * blockDim.x + threadIdx.x;
    if (id >= n) return;
    float v = V[id];
    v = (expf(-0.05f) * v) + I[id] * {i}.0f;
    for (unsigned int j = 0; j < 4; j++) {{
        v += w[(j * n + id) % n] * 0.25f;
    }}
    if (v >= 1.0f) {{
        v = 0.0f;
        atomicAdd(&I[(id + 1) % n], w[id]);
    }}
    V[id] = v;
}}
""" for i in range(135))
    assert body.count("\n") > 1900
    ptx = nvrtc.compile_ptx(body, "big.cu")
    assert ".entry update_0(" in ptx and ".entry update_134(" in ptx
