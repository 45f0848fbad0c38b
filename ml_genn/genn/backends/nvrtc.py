"""Run-time CUDA compilation with NVRTC, called through ctypes.

Why NVRTC and not nvcc: NVIDIA publishes NVRTC on PyPI as a plain wheel
(``nvidia-cuda-nvrtc-cu12``, or ``nvidia-cuda-nvrtc`` for CUDA 13), so
``pip install "ml_genn[cuda]"`` is all a GPU user needs; no CUDA toolkit, no
nvcc, no host compiler. It also compiles without a GPU or a driver, so CI can
turn every generated CUDA source into PTX and fail on a CUDA syntax error.

What NVRTC can include: nothing from the file system. Without a CUDA toolkit
on its search path ``#include <cstdint>``, ``<stdint.h>``, ``<cmath>``,
``<cuda_runtime.h>``, ``<cuda_fp16.h>`` and the like all fail ("no
directories in search list"). Generated code must therefore define its own
typedefs (``typedef unsigned int uint32_t;`` ...) and constants (there is no
``INFINITY``, ``NAN`` or ``FLT_MAX``: use ``__int_as_float(0x7f800000)`` or a
literal). What NVRTC provides built in, with no include: the CUDA maths
library (``expf``, ``sqrtf``, ``fmaxf``, ``exp``, ...), intrinsics
(``__int_as_float``, ``__shfl_down_sync``, ``atomicAdd``, ``__syncthreads``),
``threadIdx``/``blockIdx``/``blockDim``/``gridDim`` and device ``printf``.
Headers of our own (``philox.h``) are passed in memory through ``headers=``.

Numerics: the defaults are chosen so the GPU computes what the C++ backend
computes (which is built with ``-ffp-contract=off``): ``--fmad=false`` (no
fused multiply-add contraction; NVRTC contracts by default), IEEE division and
square root (NVRTC's defaults), denormals kept, and never ``--use_fast_math``.
Transcendental functions (``expf``, ``logf``, ...) are still CUDA's, which
may differ from the C library's by an ulp or so. Pass ``--fmad=true`` or
``--use_fast_math`` in ``options`` to trade that agreement for speed.

Which binary to load: PTX written by NVRTC X.Y declares PTX ISA X.Y and is
JIT-compiled only by a driver of CUDA X.Y or newer, whereas a cubin (SASS for
one real architecture, ``compile_cubin``) from NVRTC X.* runs on any driver of
CUDA major version X. The run-time loader should therefore prefer
``compile_cubin(..., arch=<the device's sm_XY>)`` and use PTX as a fallback.
"""
import ctypes
import ctypes.util
import glob
import logging
import os
import re
import site
import sys
import threading

from ..errors import BuildError, GeNNError

__all__ = ["NVRTCNotFoundError", "find_nvrtc", "nvrtc_version", "supported_archs",
           "default_arch", "compile_ptx", "compile_cubin", "DEFAULT_OPTIONS"]

_log = logging.getLogger(__name__)

#: Options passed to every compilation unless ``options`` sets the same flag.
#: ``-default-device``: helpers without ``__device__`` (shared with the C++
#: backend) compile as device functions instead of being rejected as host code.
#: ``--fmad=false``: same rounding as the C++ backend (see the module docstring).
DEFAULT_OPTIONS = ("--std=c++17", "--fmad=false", "-default-device")

#: Turing: the oldest architecture that both CUDA 12's and CUDA 13's NVRTC
#: accept (CUDA 12 deprecates anything older, CUDA 13 removed it).
DEFAULT_ARCH = 75

ENV_LIBRARY = "ML_GENN_NVRTC"
ENV_ARCH = "ML_GENN_CUDA_ARCH"

_INSTALL_HINT = ('Install it with:  pip install "ml_genn[cuda]"  (or pip install '
                 'nvidia-cuda-nvrtc-cu12), or set ML_GENN_NVRTC to the path of libnvrtc.so.')

_NVRTC_SUCCESS = 0
_NVRTC_ERROR_INVALID_OPTION = 5


class NVRTCNotFoundError(GeNNError, ImportError):
    """NVRTC (an optional dependency, the ``cuda`` extra) is not installed."""


class _NVRTC:
    """A loaded NVRTC library with its prototypes declared."""

    def __init__(self, path, lib):
        self.path = path
        self.lib = lib
        prog_p = ctypes.POINTER(ctypes.c_void_p)
        strings = ctypes.POINTER(ctypes.c_char_p)
        size_p = ctypes.POINTER(ctypes.c_size_t)
        int_p = ctypes.POINTER(ctypes.c_int)
        protos = {
            "nvrtcVersion": (int_p, int_p),
            "nvrtcGetErrorString": (ctypes.c_int,),
            "nvrtcCreateProgram": (prog_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                                   strings, strings),
            "nvrtcDestroyProgram": (prog_p,),
            "nvrtcCompileProgram": (ctypes.c_void_p, ctypes.c_int, strings),
            "nvrtcGetProgramLogSize": (ctypes.c_void_p, size_p),
            "nvrtcGetProgramLog": (ctypes.c_void_p, ctypes.c_char_p),
            "nvrtcGetPTXSize": (ctypes.c_void_p, size_p),
            "nvrtcGetPTX": (ctypes.c_void_p, ctypes.c_char_p),
            "nvrtcGetCUBINSize": (ctypes.c_void_p, size_p),
            "nvrtcGetCUBIN": (ctypes.c_void_p, ctypes.c_char_p),
            "nvrtcGetNumSupportedArchs": (int_p,),
            "nvrtcGetSupportedArchs": (int_p,),
        }
        for fname, argtypes in protos.items():
            fn = getattr(lib, fname, None)
            if fn is None:          # CUBIN / arch queries: NVRTC >= 11.1 / 11.2
                continue
            fn.argtypes = argtypes
            fn.restype = ctypes.c_char_p if fname == "nvrtcGetErrorString" else ctypes.c_int
        major, minor = ctypes.c_int(), ctypes.c_int()
        if lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)) != _NVRTC_SUCCESS:
            raise OSError(f"{path}: nvrtcVersion failed")
        self.version = (major.value, minor.value)
        self.archs = self._archs()

    def _archs(self):
        if not hasattr(self.lib, "nvrtcGetSupportedArchs"):
            return ()
        n = ctypes.c_int()
        if self.lib.nvrtcGetNumSupportedArchs(ctypes.byref(n)) != _NVRTC_SUCCESS:
            return ()
        arr = (ctypes.c_int * n.value)()
        if self.lib.nvrtcGetSupportedArchs(arr) != _NVRTC_SUCCESS:
            return ()
        return tuple(sorted(arr))

    def error_string(self, code):
        s = self.lib.nvrtcGetErrorString(code)
        return s.decode() if s else f"NVRTC error {code}"


# --------------------------------------------------------------------- finding
def _site_dirs():
    dirs = []
    try:
        dirs += site.getsitepackages()
    except AttributeError:          # very old virtualenv's site module
        pass
    try:
        if site.ENABLE_USER_SITE:
            dirs.append(site.getusersitepackages())
    except AttributeError:
        pass
    dirs += [p for p in sys.path if p]
    seen, out = set(), []
    for d in dirs:
        d = os.path.abspath(d)
        if d not in seen and os.path.isdir(d):
            seen.add(d)
            out.append(d)
    return out


def _major_of(path):
    m = re.search(r"libnvrtc\.so\.(\d+)", os.path.basename(path))
    return int(m.group(1)) if m else 0


def _wheel_candidates():
    """libnvrtc.so.N files of the pip wheels, newest CUDA major first.

    ``nvidia-cuda-nvrtc-cu12`` installs nvidia/cuda_nvrtc/lib/libnvrtc.so.12,
    CUDA 13's ``nvidia-cuda-nvrtc`` installs nvidia/cu13/lib/libnvrtc.so.13.
    (``libnvrtc.alt.so.*`` is a variant for static-linking clashes: skipped.)
    """
    found = []
    for d in _site_dirs():
        for pattern in ("nvidia/cuda_nvrtc/lib/libnvrtc.so.*",
                        "nvidia/cu[0-9]*/lib/libnvrtc.so.*"):
            for p in glob.glob(os.path.join(d, pattern)):
                if (re.fullmatch(r"libnvrtc\.so\.\d+(\.\d+)*", os.path.basename(p))
                        and p not in found):
                    found.append(p)
    return sorted(found, key=_major_of, reverse=True)


def _system_candidates():
    names = []
    found = ctypes.util.find_library("nvrtc")
    if found:
        names.append(found)
    names += ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"]
    for var in ("CUDA_HOME", "CUDA_PATH"):
        root = os.environ.get(var)
        if root:
            names += sorted(glob.glob(os.path.join(root, "lib*", "libnvrtc.so*")), reverse=True)
    return list(dict.fromkeys(names))


def _driver_major():
    """CUDA major version of the installed driver, or None without a driver.

    Only asks libcuda for its version (no cuInit), so it is safe without a GPU.
    """
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
        v = ctypes.c_int()
        if cuda.cuDriverGetVersion(ctypes.byref(v)) == 0 and v.value > 0:
            return v.value // 1000
    except (OSError, AttributeError):
        pass
    return None


def _loaded_path(lib, name):
    """The file a library was loaded from (for names resolved by the loader)."""
    if os.path.sep in name:
        return os.path.abspath(name)

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]
    try:
        libdl = ctypes.CDLL(None)
        info = DlInfo()
        addr = ctypes.cast(lib.nvrtcVersion, ctypes.c_void_p)
        if libdl.dladdr(addr, ctypes.byref(info)) and info.dli_fname:
            return os.fsdecode(info.dli_fname)
    except (OSError, AttributeError):
        pass
    return name


def _try_load(name, tried, driver_major):
    try:
        lib = ctypes.CDLL(name)
        nv = _NVRTC(_loaded_path(lib, name), lib)
    except (OSError, AttributeError) as e:
        tried.append(f"{name}: {e}")
        return None
    if driver_major is not None and nv.version[0] > driver_major:
        tried.append(f"{nv.path}: NVRTC {nv.version[0]}.{nv.version[1]} is newer than the "
                     f"driver's CUDA {driver_major} (its code would not load)")
        return None
    return nv


def _find():
    """Search for NVRTC; return a loaded _NVRTC or raise NVRTCNotFoundError."""
    tried = []
    explicit = os.environ.get(ENV_LIBRARY)
    if explicit:
        # An explicit choice wins, and is never silently replaced by another.
        path = explicit
        if os.path.isdir(path):
            libs = sorted(glob.glob(os.path.join(path, "libnvrtc.so*")), key=_major_of,
                          reverse=True)
            path = libs[0] if libs else os.path.join(path, "libnvrtc.so")
        nv = _try_load(path, tried, None)
        if nv is None:
            raise NVRTCNotFoundError(f"{ENV_LIBRARY}={explicit!r} is not a loadable NVRTC "
                                     f"library: {tried[-1]}. {_INSTALL_HINT}")
        return nv
    driver_major = _driver_major()
    for name in _wheel_candidates() + _system_candidates():
        nv = _try_load(name, tried, driver_major)
        if nv is not None:
            return nv
    detail = "".join(f"\n  {t}" for t in tried)
    raise NVRTCNotFoundError(
        "NVRTC, the CUDA run-time compiler, was not found; the CUDA backend needs it "
        f"(a CUDA toolkit is not needed). {_INSTALL_HINT}\nLooked for:{detail}")


_lock = threading.Lock()
_cached = None


def _nvrtc():
    """The NVRTC library, found and loaded once per process."""
    global _cached
    with _lock:
        if _cached is None:
            _cached = _find()
            _log.debug("using NVRTC %d.%d from %s", *_cached.version, _cached.path)
        return _cached


def find_nvrtc():
    """Path of the NVRTC library that would be used; raises NVRTCNotFoundError.

    Order: ``$ML_GENN_NVRTC`` (a file or a folder; an explicit choice is never
    overridden), then the pip wheels in site-packages (newest CUDA major first,
    skipping any newer than the installed driver), then the system loader's
    ``libnvrtc.so*`` and ``$CUDA_HOME/lib64``. Searches afresh on every call;
    the compile functions keep the library found on their first call.
    """
    return _find().path


def nvrtc_version():
    """(major, minor) of the NVRTC in use, e.g. (12, 9)."""
    return _nvrtc().version


def supported_archs():
    """Architecture numbers this NVRTC can compile for, e.g. (75, 80, 86, 90)."""
    return _nvrtc().archs


# ----------------------------------------------------------------- compiling
_ARCH_RE = re.compile(r"(?:(?:sm|compute)_)?(\d+)([a-z]?)")


def default_arch():
    """Architecture number used when none is given: ``$ML_GENN_CUDA_ARCH``
    (``sm_90``, ``compute_90`` or ``90``), else 75 (the oldest that both
    CUDA 12 and 13 accept; PTX for it runs on every GPU since Turing)."""
    env = os.environ.get(ENV_ARCH, "").strip()
    if env:
        return env
    archs = supported_archs()
    if not archs or DEFAULT_ARCH in archs:
        return str(DEFAULT_ARCH)
    newer = [a for a in archs if a >= DEFAULT_ARCH]     # a future NVRTC without 75
    return str(min(newer) if newer else max(archs))


def _arch_option(arch, prefix):
    """'--gpu-architecture=<prefix>_NN': PTX needs a virtual (compute_) and a
    cubin a real (sm_) architecture; the number is what the caller chooses."""
    if arch is None:
        arch = default_arch()
    m = _ARCH_RE.fullmatch(str(arch).strip())
    if not m:
        raise ValueError(f"invalid CUDA architecture {arch!r}: expected e.g. 'sm_90', "
                         f"'compute_75' or 75")
    return f"--gpu-architecture={prefix}_{m.group(1)}{m.group(2)}"


def _option_key(opt):
    key = opt.lstrip("-").split("=", 1)[0]
    return {"default-device": "device-as-default-execution-space", "arch": "gpu-architecture",
            "use_fast_math": "fmad"}.get(key, key)


def _merge_options(arch_opt, options):
    if isinstance(options, str):
        raise TypeError("options must be a sequence of strings, e.g. ['--fmad=true']")
    options = [str(o) for o in options]
    user_keys = {_option_key(o) for o in options}
    if "gpu-architecture" in user_keys:
        raise ValueError("pass the architecture as arch=..., not in options")
    defaults = [o for o in DEFAULT_OPTIONS if _option_key(o) not in user_keys]
    return [arch_opt] + defaults + options


_LOG_LINE = re.compile(r"^(?P<file>.*?)\((?P<line>\d+)\): (?P<kind>(?:catastrophic )?error|warning)"
                       r"(?: #\w+(?:-\w+)?)?: (?P<msg>.*)$")


_END_LINE = re.compile(r"^At end of source: (?P<kind>(?:catastrophic )?error|warning)"
                       r"(?: #\w+(?:-\w+)?)?: (?P<msg>.*)$")


def _diagnostics(log, name, source):
    """[(file, line, kind, message)] from an NVRTC log."""
    out = []
    for text in log.splitlines():
        m = _LOG_LINE.match(text)
        if m:
            out.append((m.group("file"), int(m.group("line")), m.group("kind"), m.group("msg")))
            continue
        m = _END_LINE.match(text)
        if m:
            out.append((name, max(1, len(source.splitlines())), m.group("kind"),
                        "at end of source: " + m.group("msg")))
    return out


def _excerpt(source, line, context=2):
    lines = source.splitlines()
    lo, hi = max(1, line - context), min(len(lines), line + context)
    width = len(str(hi))
    return "\n".join(f"{'>' if n == line else ' '} {n:>{width}} | {lines[n - 1]}"
                     for n in range(lo, hi + 1))


def _build_error(nv, name, arch_opt, source, headers, log, code, source_path):
    diags = _diagnostics(log, name, source)
    errors = [d for d in diags if "error" in d[2]]
    version = "%d.%d" % nv.version
    arch = arch_opt.split("=", 1)[1]
    if code == _NVRTC_ERROR_INVALID_OPTION:
        msg = f"NVRTC {version} rejected the options for '{name}' ({nv.error_string(code)})."
        if "architecture" in log and nv.archs:
            msg += (f" Architecture {arch} is not supported by this NVRTC; it supports "
                    + ", ".join(f"{arch.split('_')[0]}_{a}" for a in nv.archs)
                    + f" (choose with arch= or {ENV_ARCH}).")
    else:
        count = (f"{len(errors)} error{'s' if len(errors) != 1 else ''}" if errors
                 else f"{nv.error_string(code)}, see the log below")
        msg = f"NVRTC {version} could not compile '{name}' for {arch}: {count}."
        texts = {str(k): str(v) for k, v in headers.items()}
        texts[name] = source
        shown = []
        for file, line, kind, text in errors:
            if (file, line) in shown or len(shown) == 5:
                continue
            shown.append((file, line))
            msg += f"\n{file}, line {line}: {kind}: {text}"
            if file in texts:
                msg += "\n" + _excerpt(texts[file], line)
    err = BuildError(msg, log, source_path)
    err.log = log
    err.errors = [(f, ln, t) for f, ln, _, t in errors]
    err.line = next((ln for f, ln, _, _ in errors if f == name), None)
    err.arch = arch
    err.nvrtc_version = nv.version
    return err


def _compile(source, name, arch_opt, options, headers, source_path, want_cubin):
    if not isinstance(source, str):
        raise TypeError(f"source must be str, not {type(source).__name__}")
    if not isinstance(name, str) or not name or "\0" in name:
        raise ValueError(f"invalid program name {name!r}")
    if "\0" in source:
        raise ValueError("source contains a NUL character")
    nv = _nvrtc()
    lib = nv.lib
    opts = _merge_options(arch_opt, options)
    headers = dict(headers or {})
    n_h = len(headers)
    h_src = (ctypes.c_char_p * n_h)(*[str(v).encode() for v in headers.values()])
    h_inc = (ctypes.c_char_p * n_h)(*[str(k).encode() for k in headers.keys()])
    c_opts = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
    prog = ctypes.c_void_p()
    code = lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), n_h,
                                  h_src if n_h else None, h_inc if n_h else None)
    if code != _NVRTC_SUCCESS:
        raise BuildError(f"nvrtcCreateProgram failed for '{name}': {nv.error_string(code)}",
                         source_path=source_path)
    try:
        code = lib.nvrtcCompileProgram(prog, len(opts), c_opts)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        buf = ctypes.create_string_buffer(max(size.value, 1))
        lib.nvrtcGetProgramLog(prog, buf)
        log = buf.value.decode(errors="replace")
        if code != _NVRTC_SUCCESS:
            raise _build_error(nv, name, opts[0], source, headers, log, code, source_path)
        if log.strip():
            _log.debug("NVRTC messages for '%s':\n%s", name, log)
        get_size, get = (("nvrtcGetCUBINSize", "nvrtcGetCUBIN") if want_cubin
                         else ("nvrtcGetPTXSize", "nvrtcGetPTX"))
        if not hasattr(lib, get):
            raise BuildError(f"NVRTC {nv.version[0]}.{nv.version[1]} cannot produce cubins "
                             f"(needs 11.1 or newer): use compile_ptx")
        code = getattr(lib, get_size)(prog, ctypes.byref(size))
        if code != _NVRTC_SUCCESS or size.value == 0:
            raise BuildError(f"NVRTC produced no {'cubin' if want_cubin else 'PTX'} for "
                             f"'{name}': {nv.error_string(code)}", log, source_path)
        out = ctypes.create_string_buffer(size.value)
        code = getattr(lib, get)(prog, out)
        if code != _NVRTC_SUCCESS:
            raise BuildError(f"{get} failed for '{name}': {nv.error_string(code)}", log,
                             source_path)
        return out.raw
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


def compile_ptx(source, name, arch=None, options=(), headers=None, source_path=None):
    """Compile CUDA C++ ``source`` to PTX text for a virtual architecture.

    ``name`` is the program's file name, used in messages. ``arch``: the
    architecture number in any form (``75``, ``"compute_75"``, ``"sm_75"``),
    default ``default_arch()``. ``options`` are NVRTC flags added after
    ``DEFAULT_OPTIONS`` (one of them replaces the default of the same flag).
    ``headers`` maps include names to their text (NVRTC reads no files).
    ``source_path`` is only quoted in errors. Raises ``BuildError`` with the
    offending lines and the full NVRTC log. Safe to call from several threads.
    """
    ptx = _compile(source, name, _arch_option(arch, "compute"), options, headers, source_path,
                   want_cubin=False)
    return ptx.rstrip(b"\0").decode()


def compile_cubin(source, name, arch=None, options=(), headers=None, source_path=None):
    """Compile CUDA C++ ``source`` to a cubin (ELF bytes) for a real
    architecture (``"sm_90"``, ``90``, ...): the device's own, as a cubin runs
    only on its architecture's family but loads on any driver of the same CUDA
    major version as this NVRTC. Otherwise as ``compile_ptx``."""
    return _compile(source, name, _arch_option(arch, "sm"), options, headers, source_path,
                    want_cubin=True)
