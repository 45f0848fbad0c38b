"""Content-addressed build cache for compiled models.

Key: SHA-256 of the generated source, the compiler command line and the
compiler's version.  Entries live in ``ML_GENN_CACHE_DIR`` (default:
``$XDG_CACHE_HOME/ml_genn`` or ``~/.cache/ml_genn``).  A build writes to a
unique temporary name and renames it into place, under a file lock, so two
processes building the same model both succeed.  Each entry has a manifest
with the library's own digest; an entry whose digest does not match (a
partial or corrupt file) is rebuilt, never loaded.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from .errors import BuildError


def cache_dir():
    d = os.environ.get("ML_GENN_CACHE_DIR")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                ".cache")
        d = os.path.join(base, "ml_genn")
    os.makedirs(d, exist_ok=True)
    return d


def _digest_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class BuildCache:
    """Find or build a shared library for a piece of generated source."""

    def __init__(self, directory=None):
        self.directory = directory or cache_dir()
        os.makedirs(self.directory, exist_ok=True)
        self.compiler_calls = 0      # for tests: did the last get() compile?

    def key(self, source, command, compiler_id):
        h = hashlib.sha256()
        for part in (source, "\0".join(command), compiler_id):
            h.update(part.encode())
            h.update(b"\1")
        return h.hexdigest()[:32]

    def paths(self, key, suffix):
        base = os.path.join(self.directory, key)
        return base + suffix, base + ".so", base + ".json", base + ".lock"

    def lookup(self, key, suffix):
        """Path of a valid cached library, or None."""
        _, lib, manifest, _ = self.paths(key, suffix)
        try:
            with open(manifest) as f:
                info = json.load(f)
            if os.path.getsize(lib) == info["size"] and _digest_file(lib) == info["sha256"]:
                return lib
        except (OSError, ValueError, KeyError):
            pass
        return None

    def get(self, source, suffix, command, compiler_id, compile_fn):
        """Return the library path, compiling with ``compile_fn(src, out)`` if needed."""
        key = self.key(source, command, compiler_id)
        src, lib, manifest, lock = self.paths(key, suffix)
        self.compiler_calls = 0
        found = self.lookup(key, suffix)
        if found:
            return found, src
        with open(lock, "w") as lf:
            fcntl.flock(lf, fcntl.LOCK_EX)
            try:
                found = self.lookup(key, suffix)     # another process built it meanwhile
                if found:
                    return found, src
                fd, tmp_src = tempfile.mkstemp(suffix=suffix, dir=self.directory)
                with os.fdopen(fd, "w") as f:
                    f.write(source)
                os.replace(tmp_src, src)
                fd, tmp_lib = tempfile.mkstemp(suffix=".so.tmp", dir=self.directory)
                os.close(fd)
                try:
                    self.compiler_calls += 1
                    compile_fn(src, tmp_lib)
                    os.replace(tmp_lib, lib)
                finally:
                    if os.path.exists(tmp_lib):
                        os.remove(tmp_lib)
                info = {"size": os.path.getsize(lib), "sha256": _digest_file(lib),
                        "command": command, "compiler": compiler_id}
                fd, tmp_man = tempfile.mkstemp(suffix=".json.tmp", dir=self.directory)
                with os.fdopen(fd, "w") as f:
                    json.dump(info, f)
                os.replace(tmp_man, manifest)
                return lib, src
            finally:
                fcntl.flock(lf, fcntl.LOCK_UN)


def run_compiler(command, source_path, what):
    """Run a compiler command; on failure raise BuildError with its output."""
    try:
        proc = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise BuildError(f"{what}: the compiler '{command[0]}' was not found. Install a C++ "
                         "compiler (e.g. 'apt install g++') or set CXX to its path.") from None
    if proc.returncode != 0:
        raise BuildError(f"{what}: the C++ compiler rejected the generated code. This is a "
                         "bug in ml_genn or in a code string it could not check; please "
                         "report it with the source below.",
                         proc.stdout + proc.stderr, source_path)


def find_cxx():
    """The C++ compiler to use: $CXX, else c++/g++/clang++ on PATH."""
    cxx = os.environ.get("CXX")
    if cxx:
        if shutil.which(cxx) is None:
            raise BuildError(f"the C++ compiler '{cxx}' named by the CXX environment variable "
                             "was not found; fix CXX or unset it to use c++/g++ from PATH")
        return cxx
    for c in ("c++", "g++", "clang++"):
        if shutil.which(c):
            return c
    raise BuildError("no C++ compiler found: install one (e.g. 'apt install g++') or set "
                     "the CXX environment variable")
