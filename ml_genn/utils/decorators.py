"""network_default_params: network-level defaults for constructor arguments."""
import inspect
from functools import wraps


def network_default_params(init):
    """Explicit arguments win, then the active network's defaults for this
    exact class, then the signature defaults."""
    names = list(inspect.signature(init).parameters)[1:]

    @wraps(init)
    def wrapper(self, *args, **kwargs):
        from ..network import Network
        defaults = Network.get_default_params(type(self))
        positional = set(names[:len(args)])
        merged = {k: v for k, v in defaults.items() if k not in positional}
        merged.update(kwargs)
        init(self, *args, **merged)
    return wrapper
