"""Serialiser writing one ``.npy`` file per array."""
import glob
import os

from urllib.parse import unquote

import numpy as np

from .serialiser import Serialiser


class Numpy(Serialiser):
    """One ``.npy`` file per key tuple: ``<path>/<k1>-<k2>-....npy``.

    Key components are converted with ``str()`` (populations and connections
    give their names; ``%``, path separators and NUL in them are
    percent-encoded, so a name can never write outside ``path`` and two
    names never share a file). ``path`` is created if it does not exist.
    ``deserialise_all(keys)`` returns ``{component: array}`` for every file
    ``<keys>-<component>.npy``; files whose remaining name contains another
    ``-`` (they belong to a longer key, e.g. an object whose name extends
    this one's with ``-``) are skipped instead of failing as upstream does.
    """

    def __init__(self, path: str = ""):
        self.path = path
        if path and not os.path.isdir(path):
            os.makedirs(path, exist_ok=True)

    def _stem(self, keys):
        # a name never leaves ``path``: separators and NUL are percent-encoded
        return os.path.join(self.path, "-".join(_file_part(k) for k in keys))

    def serialise(self, keys, data):
        np.save(self._stem(keys) + ".npy", data)

    def deserialise(self, keys):
        return np.load(self._stem(keys) + ".npy")

    def deserialise_all(self, keys):
        prefix = self._stem(keys) + "-"
        out = {}
        for filename in glob.glob(glob.escape(prefix) + "*.npy"):
            name = filename[len(prefix):-len(".npy")]
            if name and "-" not in name:
                out[unquote(name)] = np.load(filename)
        return out


_ESCAPED = ("%", "/", "\\", "\0", os.sep)


def _file_part(key):
    """``str(key)`` made a safe file-name part, reversibly: ``%``, path
    separators and NUL are percent-encoded (so ``'a/b'`` and ``'a_b'`` never
    share a file) and ``.``/``..`` become ``%2E``/``%2E%2E``."""
    part = str(key)
    for ch in dict.fromkeys(_ESCAPED):
        part = part.replace(ch, f"%{ord(ch):02X}")
    return part.replace(".", "%2E") if part in (".", "..") else part
