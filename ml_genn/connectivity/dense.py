"""All-to-all connectivity."""
from math import prod

import numpy as np

from ..genn import SynapseMatrixType
from ..utils.connectivity import get_best_matrix_type
from ..utils.snippet import ConnectivitySnippet
from ..utils.value import is_value_array
from .connectivity import Connectivity


class Dense(Connectivity):
    """Every source neuron connects to every target neuron.

    Args:
        weight: number, initializer or 2-D array ``(source_size, target_size)``
                (the layout of a Keras ``Dense`` kernel, ``g[pre, post]``).
        delay:  number, initializer or array of the same shape as ``weight``.

    An array weight fixes the sizes of both populations: missing shapes are
    set to ``(source_size,)``/``(target_size,)``; existing ones must have
    that many neurons (``RuntimeError`` otherwise). Multi-dimensional
    populations are taken in C (HWC) flatten order, like Keras ``Flatten``
    (upstream demands 1-D populations; accepting any shape of the right size
    breaks nothing that worked there).
    """

    def __init__(self, weight, delay=0):
        super().__init__(weight, delay)
        for name in ("weight", "delay"):
            value = getattr(self, name)
            if is_value_array(value) and value.ndim != 2:
                raise NotImplementedError(f"Dense connectivity only supports 2-D "
                                          f"(source_size, target_size) {name} arrays, got "
                                          f"shape {value.shape}")
        if (is_value_array(self.weight) and is_value_array(self.delay)
                and self.weight.shape != self.delay.shape):
            raise RuntimeError(f"Dense weight {self.weight.shape} and delay "
                               f"{self.delay.shape} arrays must have the same shape")

    def connect(self, source, target):
        for name in ("weight", "delay"):
            value = getattr(self, name)
            if not is_value_array(value):
                continue
            if value.ndim != 2:
                raise NotImplementedError(f"Dense connectivity only supports 2-D {name} "
                                          f"arrays, got shape {value.shape}")
            for pop, size, what in ((source, value.shape[0], "source"),
                                    (target, value.shape[1], "target")):
                if pop.shape is None:
                    pop.shape = (size,)
                elif prod(pop.shape) != size:
                    raise RuntimeError(f"Dense {name} array of shape {value.shape} doesn't "
                                       f"match {what} population shape {tuple(pop.shape)} "
                                       f"({prod(pop.shape)} neurons)")

    def get_snippet(self, connection, supported_matrix_type):
        matrix_type = get_best_matrix_type(supported_matrix_type,
                                           [SynapseMatrixType.DENSE], "Dense")
        num_syn = prod(connection.source().shape) * prod(connection.target().shape)
        for name in ("weight", "delay"):
            value = getattr(self, name)
            # (a flat array of the right size is accepted: Network.load gives one)
            if is_value_array(value) and value.size != num_syn:
                raise RuntimeError(f"Dense {name} array has {value.size} elements but "
                                   f"connection '{connection.name}' has {num_syn} synapses")
        return ConnectivitySnippet(snippet=None, matrix_type=matrix_type,
                                   weight=_flat(self.weight), delay=_flat(self.delay))


def _flat(value):
    return np.asarray(value).flatten() if is_value_array(value) else value
