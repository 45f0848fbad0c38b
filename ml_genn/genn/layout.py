"""Where a model's state lives: every array shared between Python and the
generated code, with its C name, element type, NumPy dtype, size and
initial fill, in one table read by the code generators and the runtime
alike.

Arrays are keyed by ``(group name, field)``.  Their C names start with
``mg_`` and the array's index, so they are unique by construction and can
be neither a user's name nor a macro.  Spike-recording buffers are the only
arrays sized at ``load()`` (by the number of recorded steps).
"""
import re
from dataclasses import dataclass

import numpy as np

from .errors import ModelError
from .groups import numpy_dtype

#: fields of spike(-like event) recording buffers: one bit per neuron per
#: recorded step per batch element, sized at load()
RECORDING_FIELDS = ("recSpk", "recSpkEvnt")


@dataclass
class ArraySpec:
    """One array shared between Python and native code."""
    index: int
    c_name: str
    ctype: str        # C element type
    dtype: object     # numpy dtype
    size: int         # elements (0 = set at run time, e.g. EGPs and recordings)
    key: tuple        # (group name, field)
    fill: object = 0  # initial value ("-max": the type's lowest value)
    origin: str = ""  # what declared it ("" = the engine itself)

    @property
    def fill_value(self):
        return np.finfo(self.dtype).min if self.fill == "-max" else self.fill


def c_ident(name):
    """A C identifier derived from a group name.

    Group names are validated identifiers (:mod:`.names`), so this is the
    identity for them; kept for internal keys such as ``"<model>"``."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not s or s[0].isdigit():
        s = "g" + s
    return s.lstrip("_") or "g"


def recording_words(num_neurons):
    """32-bit words of one recorded step of one batch element."""
    return (num_neurons + 31) // 32


class Layout:
    """The arrays of one generated model, in declaration order."""

    def __init__(self, precision):
        self.precision = precision
        self._specs = []
        self._by_key = {}

    def add(self, group_name, field, ctype, size, fill=0, origin=""):
        """The array of ``(group_name, field)``, created on first use.

        ``origin`` says what declared it (e.g. "variable 'V'"); two different
        declarations mapping to one key (a variable called ``pre_x`` next to
        a presynaptic variable ``x``) are a ModelError, never a shared array."""
        key = (group_name, field)
        spec = self._by_key.get(key)
        if spec is not None:
            if spec.origin != origin:
                def what(o):
                    return o or f"the engine's own '{field}' array"
                raise ModelError(f"'{group_name}': {what(origin)} and {what(spec.origin)} "
                                 f"would share the array '{field}'; rename one of them")
            return spec
        index = len(self._specs)
        spec = ArraySpec(index, f"mg_{index}_{c_ident(group_name)}_{field.replace('.', '_')}",
                         ctype, numpy_dtype(ctype, self.precision), int(size), key, fill,
                         origin)
        self._specs.append(spec)
        self._by_key[key] = spec
        return spec

    def get(self, group_name, field):
        """The array of ``(group_name, field)``, or None."""
        return self._by_key.get((group_name, field))

    def __getitem__(self, key):
        return self._by_key[key]

    def __contains__(self, key):
        return key in self._by_key

    def __iter__(self):
        return iter(self._specs)

    def __len__(self):
        return len(self._specs)

    @staticmethod
    def load_size(spec, model, num_recording_timesteps):
        """Elements to allocate for ``spec`` at load(): recording buffers hold
        ``num_recording_timesteps`` steps of every batch element."""
        if spec.key[1] in RECORDING_FIELDS:
            ng = model.neuron_populations[spec.key[0]]
            return (num_recording_timesteps * model.batch_size
                    * recording_words(ng.num_neurons))
        return spec.size

    def records(self):
        """Whether the generated code writes any recording buffer."""
        return any(spec.key[1] in RECORDING_FIELDS for spec in self._specs)
