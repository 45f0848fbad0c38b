"""Serialiser writing one ``.npy`` file per array."""
import glob
import os

import numpy as np

from .serialiser import Serialiser


class Numpy(Serialiser):
    """One ``.npy`` file per key tuple: ``<path>/<k1>-<k2>-....npy``.

    Key components are converted with ``str()`` (populations and connections
    give their names; path separators and NUL in them become ``_``, so a
    name can never write outside ``path``). ``path`` is created if it does not exist.
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
        # a name never leaves ``path``: separators and NUL become "_"
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
                out[name] = np.load(filename)
        return out


def _file_part(key):
    part = str(key)
    for ch in ("/", "\\", "\0", os.sep):
        part = part.replace(ch, "_")
    return "_" if part in (".", "..") else part
