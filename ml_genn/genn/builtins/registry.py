"""Registries of built-ins that read the way pygenn's modules do.

``neuron_models["LIF"]``, ``neuron_models.LIF`` and pygenn's call form
``neuron_models.LIF()`` all give the same model object: each registry is a
dict with attribute access, and each built-in is callable, returning itself
(pygenn exposes built-ins as functions returning the model).
"""


class Registry(dict):
    """A name -> built-in dict whose entries are also attributes."""

    def __init__(self, kind, items):
        super().__init__((s.class_name, s) for s in items)
        self._kind = kind

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no built-in {self.__dict__.get('_kind', 'model')} "
                                 f"'{name}'; built-ins: {', '.join(sorted(self))}") from None

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self))


_CALLABLE_CLASSES = {}


def _return_self(self):
    """pygenn-style access: ``neuron_models.LIF()`` is the built-in itself."""
    return self


def builtin(obj):
    """Make a built-in model object callable (returning itself), keeping its
    class name and everything ``isinstance`` checks see."""
    cls = type(obj)
    sub = _CALLABLE_CLASSES.get(cls)
    if sub is None:
        # same __name__ (reprs and messages unchanged); importable under
        # its __qualname__ here, so built-ins can be pickled
        qualname = "Builtin" + cls.__name__
        sub = type(cls.__name__, (cls,), {"__call__": _return_self,
                                          "__module__": __name__,
                                          "__qualname__": qualname,
                                          "__doc__": cls.__doc__})
        globals()[qualname] = sub
        _CALLABLE_CLASSES[cls] = sub
    obj.__class__ = sub
    return obj


def registry(kind, *items):
    return Registry(kind, [builtin(i) for i in items])
