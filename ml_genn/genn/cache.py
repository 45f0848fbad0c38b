"""Content-addressed build cache for compiled models.

Key: SHA-256 of the generated source, the compiler command line and the
compiler's version.  Entries live in ``ML_GENN_CACHE_DIR`` (default:
``$XDG_CACHE_HOME/ml_genn`` or ``~/.cache/ml_genn``).  A build compiles in a
private temporary folder and renames the result into place, under a file
lock, so two processes building the same model both succeed.  Each entry has
a manifest with the library's own digest; an entry whose digest does not
match (a partial or corrupt file) is rebuilt, never loaded.

Trust: a shared library is code, so the cache must be private to its user.
The cache directory is created with mode 0700.  A directory that is not owned
by the current user, or is writable by group or others, is not used at all:
models are then built in a private temporary directory for this process (a
warning says why and how to fix it).  An entry (library or manifest) that is
not a regular file owned by the user, or is writable by group or others, is
never loaded (it is rebuilt).  Lock, temporary and library files are opened
without following symbolic links.  A library is loaded from a private copy
whose bytes were checked against the manifest's digest while copying, so the
file that was verified is the file that is loaded.
"""
import atexit
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import threading
import warnings

from .errors import BuildError

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class CacheTrustWarning(UserWarning):
    """The build cache directory is not private; a private fallback is used."""


def _euid():
    return os.geteuid() if hasattr(os, "geteuid") else None


def _problem(st, path, what):
    """Why a file or directory (given its stat) cannot be trusted, or None."""
    uid = _euid()
    if uid is not None and st.st_uid != uid:
        return (f"{what} '{path}' is owned by user id {st.st_uid}, not by you "
                f"(user id {uid})")
    if st.st_mode & 0o022:
        return (f"{what} '{path}' is writable by group or others (mode "
                f"{stat.S_IMODE(st.st_mode):04o})")
    return None


def directory_problem(path):
    """Why ``path`` is not a private directory for the cache, or None."""
    try:
        st = os.stat(path)
    except OSError as e:
        return f"cache directory '{path}' cannot be used: {e.strerror}"
    if not stat.S_ISDIR(st.st_mode):
        return f"cache directory '{path}' is not a directory"
    reason = _problem(st, path, "cache directory")
    if reason:
        return reason
    parent = os.path.dirname(os.path.realpath(path))
    try:
        pst = os.stat(parent)
    except OSError:
        return None
    # others could rename the cache directory away and put their own in place
    if pst.st_mode & 0o002 and not pst.st_mode & stat.S_ISVTX:
        return (f"the folder '{parent}' holding cache directory '{path}' is writable by "
                "everyone without the sticky bit")
    return None


_fallback = None
_fallback_lock = threading.Lock()
_warned = set()


def _remove_fallback(path):
    shutil.rmtree(path, ignore_errors=True)


def private_fallback_dir():
    """A fresh private (0700) directory for this process, removed at exit."""
    global _fallback
    with _fallback_lock:
        if _fallback is None or not os.path.isdir(_fallback):
            _fallback = tempfile.mkdtemp(prefix="ml_genn_private_cache_")
            atexit.register(_remove_fallback, _fallback)
        return _fallback


def _warn_untrusted(reason):
    if reason in _warned:
        return
    _warned.add(reason)
    warnings.warn(f"ml_genn build cache not used: {reason}. Models are built in a private "
                  "temporary directory instead (no reuse across processes). To fix it, run "
                  "'chmod 700 DIR' on a directory you own, or set ML_GENN_CACHE_DIR to a "
                  "private directory of yours.", CacheTrustWarning, stacklevel=4)


def cache_dir():
    """The cache directory: created private (0700); when it is not private, a
    private temporary directory for this process (with a warning)."""
    d = os.environ.get("ML_GENN_CACHE_DIR")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                ".cache")
        d = os.path.join(base, "ml_genn")
    try:
        os.makedirs(d, mode=0o700, exist_ok=True)
    except OSError as e:
        _warn_untrusted(f"cache directory '{d}' cannot be created: {e.strerror}")
        return private_fallback_dir()
    reason = directory_problem(d)
    if reason:
        _warn_untrusted(reason)
        return private_fallback_dir()
    return d


def _digest_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _open_trusted(path, what):
    """Open a regular file we own (no symlinks, not writable by others).

    Returns (fd, stat) or raises OSError/_Untrusted."""
    fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Untrusted(f"{what} '{path}' is not a regular file")
        reason = _problem(st, path, what)
        if reason:
            raise _Untrusted(reason)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


class _Untrusted(Exception):
    pass


def _write_new(path, data, mode=0o600):
    """Create ``path`` (must not exist; no symlink following) and write data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class BuildCache:
    """Find or build a shared library for a piece of generated source."""

    def __init__(self, directory=None):
        if directory is None:
            directory = cache_dir()
        else:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            reason = directory_problem(directory)
            if reason:
                _warn_untrusted(reason)
                directory = private_fallback_dir()
        self.directory = directory
        self.compiler_calls = 0      # for tests: did the last get() compile?
        self.info = None             # manifest of the library get() returned
        self.rejected = []           # why entries were not trusted (for messages/tests)

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
        """Path of a valid, trusted cached library, or None (sets ``self.info``)."""
        _, lib, manifest, _ = self.paths(key, suffix)
        try:
            fd, _ = _open_trusted(manifest, "cache manifest")
            with os.fdopen(fd) as f:
                info = json.load(f)
            size, digest = int(info["size"]), str(info["sha256"])
            fd, st = _open_trusted(lib, "cached library")
            with os.fdopen(fd, "rb") as f:
                if st.st_size != size:
                    return None
                h = hashlib.sha256()
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != digest:
                return None
            self.info = info
            return lib
        except _Untrusted as e:
            self.rejected.append(str(e))
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def get(self, source, suffix, command, compiler_id, compile_fn):
        """Return the library path, compiling with ``compile_fn(src, out)`` if needed."""
        key = self.key(source, command, compiler_id)
        self.compiler_calls = 0
        found = self.lookup(key, suffix)
        if found:
            return found, self.paths(key, suffix)[0]
        try:
            return self._build_locked(key, source, suffix, command, compiler_id, compile_fn)
        except (_Untrusted, OSError) as e:
            # e.g. a symlink planted at the lock path, or a folder where an entry
            # belongs: build in a private place
            if isinstance(e, OSError):
                e = _Untrusted(f"the cache entry '{os.path.join(self.directory, key)}.*' "
                               f"cannot be written ({e.strerror or e}: "
                               f"{e.filename2 or e.filename or ''}); remove it")
            self.rejected.append(str(e))
            _warn_untrusted(str(e))
            fallback = private_fallback_dir()
            if os.path.realpath(fallback) == os.path.realpath(self.directory):
                raise BuildError(f"the build cache cannot be used: {e}") from None
            self.directory = fallback
            return self.get(source, suffix, command, compiler_id, compile_fn)

    def _open_lock(self, lock):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | _O_NOFOLLOW | _O_CLOEXEC, 0o600)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.EMLINK):
                raise _Untrusted(f"lock file '{lock}' is a symbolic link") from None
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise _Untrusted(f"lock file '{lock}' is not a regular file")
            uid = _euid()
            if uid is not None and st.st_uid != uid:
                raise _Untrusted(f"lock file '{lock}' is owned by user id {st.st_uid}, "
                                 f"not by you (user id {uid})")
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _build_locked(self, key, source, suffix, command, compiler_id, compile_fn):
        src, lib, manifest, lock = self.paths(key, suffix)
        fd = self._open_lock(lock)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            found = self.lookup(key, suffix)     # another process built it meanwhile
            if found:
                return found, src
            work = tempfile.mkdtemp(prefix=".build-", dir=self.directory)
            try:
                tmp_src = os.path.join(work, "source" + suffix)
                _write_new(tmp_src, source.encode(), 0o644)
                os.replace(tmp_src, src)
                tmp_lib = os.path.join(work, "lib.so")
                self.compiler_calls += 1
                compile_fn(src, tmp_lib)
                lst = os.lstat(tmp_lib)
                if not stat.S_ISREG(lst.st_mode):
                    raise BuildError(f"the compiler did not produce a library at {tmp_lib}")
                os.chmod(tmp_lib, 0o755)
                info = {"size": lst.st_size, "sha256": _digest_file(tmp_lib),
                        "command": command, "compiler": compiler_id}
                tmp_man = os.path.join(work, "manifest.json")
                _write_new(tmp_man, json.dumps(info).encode(), 0o644)
                os.replace(tmp_lib, lib)
                os.replace(tmp_man, manifest)
                self.info = info
                return lib, src
            finally:
                shutil.rmtree(work, ignore_errors=True)
        finally:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def load_library(path, sha256, size=None):
    """dlopen a private copy of ``path`` whose content has digest ``sha256``.

    The file is opened once (no symlink following, owner and mode checked),
    its bytes are hashed while being copied into a fresh private directory,
    and only that verified copy is loaded (what runs is exactly what was
    checked, whatever happens to the cache file later); it is unlinked right
    after loading.  The runtime loads each library once per process."""
    try:
        reason = directory_problem(os.path.dirname(path) or ".")
        if reason:
            raise _Untrusted(reason)
        fd, st = _open_trusted(path, "compiled library")
    except _Untrusted as e:
        raise BuildError(f"refusing to load the compiled model: {e}. Rebuild it "
                         "(build(force_rebuild=True)) in a private cache directory "
                         "(chmod 700, or set ML_GENN_CACHE_DIR).") from None
    except OSError as e:
        raise BuildError(f"the compiled library '{path}' cannot be opened "
                         f"({e.strerror}); call build() again") from None
    private = tempfile.mkdtemp(prefix=".load-", dir=os.path.dirname(path))
    copy = os.path.join(private, "model.so")
    try:
        h = hashlib.sha256()
        out = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC,
                      0o700)
        with os.fdopen(fd, "rb") as f, os.fdopen(out, "wb") as g:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                g.write(chunk)
        if h.hexdigest() != sha256 or (size is not None and os.path.getsize(copy) != size):
            raise BuildError(f"the compiled library '{path}' changed after it was built "
                             "(its digest no longer matches the cache manifest); call "
                             "build(force_rebuild=True)")
        return ctypes.CDLL(copy)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _stop_compiler(proc):
    """Stop a compiler and everything it started (cc1plus, as, ld): they run in
    their own process group, so an interrupt of Python alone (a Jupyter
    interrupt, kill -INT) leaves no orphan compiling on."""
    import signal
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError, OSError):
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def run_compiler(command, source_path, what):
    """Run a compiler command; on failure raise BuildError with its output.

    The compiler's temporary files go to the folder of its output (a private
    build folder that is removed afterwards); an interrupted build stops the
    whole compiler process group."""
    env = None
    if "-o" in command[:-1]:
        env = dict(os.environ, TMPDIR=os.path.dirname(command[command.index("-o") + 1])
                   or ".")
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, start_new_session=True)
    except FileNotFoundError:
        raise BuildError(f"{what}: the compiler '{command[0]}' was not found. Install a C++ "
                         "compiler (e.g. 'apt install g++') or set CXX to its path.") from None
    try:
        stdout, stderr = proc.communicate()
    except BaseException:
        _stop_compiler(proc)
        raise
    if proc.returncode != 0:
        raise BuildError(f"{what}: the C++ compiler rejected the generated code. This is a "
                         "bug in ml_genn or in a code string it could not check; please "
                         "report it with the source below.",
                         stdout + stderr, source_path)


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
