"""Change an optimiser parameter (e.g. the learning rate) every epoch."""
from .callback import Callback


class OptimiserParamSchedule(Callback):
    """At each ``on_epoch_begin(e)`` set ``opt.<param_name> = func(e, current)``
    for every optimiser of the compiled network (weight and delay optimisers
    alike). For Adam the new ``alpha`` takes effect at the next ``set_step``.
    """

    def __init__(self, param_name: str, func):
        self.param_name = param_name
        self.func = func
        self._optimisers = []

    def set_params(self, compiled_network=None, **kwargs):
        optimisers = getattr(compiled_network, "optimisers", None)
        if optimisers is None:
            raise RuntimeError("OptimiserParamSchedule needs a compiled training network "
                               "(one with optimisers)")
        self._optimisers = [o[0] if isinstance(o, tuple) else o for o in optimisers]
        for o in self._optimisers:
            if not hasattr(o, self.param_name):
                raise RuntimeError(f"{type(o).__name__} has no parameter "
                                   f"'{self.param_name}'")

    def on_epoch_begin(self, epoch: int):
        for o in self._optimisers:
            setattr(o, self.param_name, self.func(epoch, getattr(o, self.param_name)))
