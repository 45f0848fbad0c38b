"""Resolving objects given as registry strings or instances (copied)."""
import inspect
import re
from copy import copy


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def get_module_classes(globals_dict, base_class):
    """Registry ``snake_case name -> class`` of default-constructible subclasses."""
    out = {}
    for obj in globals_dict.values():
        if inspect.isclass(obj) and issubclass(obj, base_class) and obj is not base_class:
            params = list(inspect.signature(obj.__init__).parameters.values())[1:]
            if all(p.default is not inspect.Parameter.empty
                   or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
                out[_snake(obj.__name__)] = obj
    return out


def get_object(obj, base_class, description, dictionary):
    """``None`` -> None; string -> new registry object; instance -> shallow copy."""
    if obj is None:
        return None
    if isinstance(obj, str):
        if obj not in dictionary:
            raise RuntimeError(f"{description} object '{obj}' unknown; known: "
                               f"{', '.join(sorted(dictionary)) or 'none'}")
        return dictionary[obj]()
    if isinstance(obj, base_class):
        return copy(obj)
    raise RuntimeError(f"{description} must be a {base_class.__name__} object or one of "
                       f"the strings {sorted(dictionary)}, not {type(obj).__name__}")


def get_object_mapping(obj, keys, base_class, description, dictionary):
    """A dict keyed exactly by ``keys``, or one fresh object per key."""
    if isinstance(obj, dict):
        if set(obj.keys()) != set(keys):
            raise RuntimeError(f"{description} dictionary keys must match: expected "
                               f"{_key_names(keys)}, got {_key_names(obj.keys())} (key "
                               "the dictionary by the same objects as y / the outputs)")
        return {k: get_object(v, base_class, description, dictionary)
                for k, v in obj.items()}
    return {k: get_object(obj, base_class, description, dictionary) for k in keys}


def _key_names(keys):
    """Keys for messages: populations and layers by their names."""
    out = []
    for k in keys:
        name = getattr(k, "name", None)
        if name is None and hasattr(k, "population"):
            pop = k.population() if callable(k.population) else k.population
            name = getattr(pop, "name", None)
        out.append(f"{type(k).__name__} {name!r}" if name is not None else repr(k))
    return "[" + ", ".join(out) + "]"
