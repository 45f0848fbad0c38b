"""Compile generated C++ into a shared library through the build cache."""
import functools
import hashlib
import os
import subprocess
import tempfile

from .. import cache as _cache
from ..cache import BuildCache, find_cxx


@functools.lru_cache(maxsize=None)
def compiler_id(cxx):
    """Compiler version and host CPU: part of the cache key."""
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        out = ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") or line.startswith("flags"):
                    cpu += line
    except OSError:
        pass
    return (out.splitlines()[0] if out else cxx) + "|" + hashlib.sha256(cpu.encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def openmp_flags(cxx):
    """['-fopenmp'] when the compiler and runtime support it, else []."""
    src = "#include <omp.h>\nextern \"C\" int f() { return omp_get_max_threads(); }\n"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.cc")
        with open(path, "w") as f:
            f.write(src)
        try:
            proc = subprocess.run([cxx, "-fopenmp", "-shared", "-fPIC", path, "-o",
                                   os.path.join(d, "t.so")], capture_output=True)
        except FileNotFoundError:
            return ()
        return ("-fopenmp",) if proc.returncode == 0 else ()


@functools.lru_cache(maxsize=None)
def native_flags(cxx):
    """['-march=native'] when accepted (the cache key includes the CPU)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.cc")
        with open(path, "w") as f:
            f.write("int f() { return 0; }\n")
        proc = subprocess.run([cxx, "-march=native", "-c", path, "-o",
                               os.path.join(d, "t.o")], capture_output=True)
        return ("-march=native",) if proc.returncode == 0 else ()


def cxx_command(cxx):
    """Flags: optimised, but no contraction or fast-math, so results match
    a step-by-step reference exactly."""
    flags = ["-O3", "-std=c++17", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno",
             "-w"]
    flags += list(native_flags(cxx))
    flags += list(openmp_flags(cxx))
    extra = os.environ.get("ML_GENN_CXXFLAGS", "")
    return [cxx] + flags + extra.split()


def compile_source(model, source, force_rebuild=False):
    """Return (library path, source path, was it cached).

    Also sets ``model._built_info`` to the cache manifest (size and SHA-256 of
    the library) so that load() can verify what it loads."""
    cxx = find_cxx()
    command = cxx_command(cxx)
    cache = BuildCache()
    if force_rebuild:
        key = cache.key(source, command, compiler_id(cxx))
        for p in cache.paths(key, ".cc")[1:3]:
            try:
                os.remove(p)
            except FileNotFoundError:
                pass

    def compile_fn(src, out):
        # looked up at call time, so tests can replace it
        _cache.run_compiler(command + [src, "-o", out], src, f"building model '{model.model_name}'")

    lib, src = cache.get(source, ".cc", command, compiler_id(cxx), compile_fn)
    model._built_info = dict(cache.info)
    return lib, src, cache.compiler_calls == 0
