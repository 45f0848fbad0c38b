"""Shared test set-up: an isolated build cache per test session."""
import os
import tempfile

import pytest

# Test models are small, and each is compiled once per session: at -O1 they
# build about 40 % faster than at the default -O3, with the same results
# (the engine compiles with -ffp-contract=off and without fast-math, so the
# optimisation level never changes floating-point arithmetic).  Set
# ML_GENN_CXXFLAGS to test other flags.
os.environ.setdefault("ML_GENN_CXXFLAGS", "-O1")


@pytest.fixture(scope="session", autouse=True)
def _session_cache_dir():
    """Keep test builds out of the user's cache (and share them in a run)."""
    if "ML_GENN_CACHE_DIR" not in os.environ:
        d = tempfile.mkdtemp(prefix="ml_genn_test_cache_")
        os.environ["ML_GENN_CACHE_DIR"] = d
    yield


# ---------------------------------------------------------------------------
# Every model a test builds is also generated for the CUDA backend and
# compiled to PTX with NVRTC (no GPU needed), so a CUDA code-generation
# error fails the run.  Compilation runs in background threads (NVRTC
# releases the GIL); the session fails at the end if any source failed.
# ML_GENN_SKIP_PTX=1 turns it off (e.g. for timing the suite).
# ---------------------------------------------------------------------------
_ptx = {"pool": None, "jobs": {}, "failures": []}


def _check_cuda(model):
    import hashlib
    from ml_genn.genn.backends.cuda import CUDABackend
    from ml_genn.genn.backends.nvrtc import compile_ptx
    try:
        source = CUDABackend(model).generate()
    except Exception as e:       # the C++ build of this model worked
        _ptx["failures"].append((model.model_name, f"CUDA generation failed: {e!r}"))
        return
    key = hashlib.sha256(source.encode()).hexdigest()
    if key in _ptx["jobs"]:
        return
    name = model.model_name

    def compile_one():
        try:
            compile_ptx(source, f"{key[:12]}.cu")
        except Exception as e:
            _ptx["failures"].append((name, str(e)[:4000]))
    _ptx["jobs"][key] = _ptx["pool"].submit(compile_one)


def pytest_configure(config):
    if os.environ.get("ML_GENN_SKIP_PTX"):
        return
    try:
        from ml_genn.genn.backends.nvrtc import find_nvrtc
        find_nvrtc()
    except Exception as e:          # the test extra installs it: say so loudly
        raise pytest.UsageError(f"NVRTC is needed to check the generated CUDA: {e}")
    from concurrent.futures import ThreadPoolExecutor
    from ml_genn.genn.model import GeNNModel
    _ptx["pool"] = ThreadPoolExecutor(max_workers=2)
    build = GeNNModel.build

    def build_and_check_cuda(self, *args, **kwargs):
        result = build(self, *args, **kwargs)
        _check_cuda(self)
        return result
    GeNNModel.build = build_and_check_cuda


def pytest_sessionfinish(session, exitstatus):
    pool = _ptx["pool"]
    if pool is None:
        return
    pool.shutdown(wait=True)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    failures = _ptx["failures"]
    if reporter is not None:
        reporter.write_line(f"generated CUDA of {len(_ptx['jobs'])} distinct models compiled "
                            f"to PTX with NVRTC: {len(failures)} failed")
        for name, message in failures[:20]:
            reporter.write_line(f"--- CUDA of model '{name}':\n{message}")
    if failures:
        session.exitstatus = 1
