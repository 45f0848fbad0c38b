"""Neuron i of the source connects to neuron i of the target."""
from math import prod

from ..genn import init_sparse_connectivity
from ..utils.value import is_value_array
from .sparse_base import SparseBase


class OneToOne(SparseBase):
    """One synapse from each source neuron to the target neuron of the same index.

    Args:
        weight: number, initializer or one value per neuron.
        delay:  number, initializer or one value per neuron.

    The target takes the source's shape (or must already have it).
    """

    def __init__(self, weight, delay=0):
        super().__init__(weight, delay)

    def connect(self, source, target):
        if source.shape is None:
            if target.shape is None:
                return
            source.shape = target.shape
        if target.shape is None:
            target.shape = source.shape
        elif tuple(target.shape) != tuple(source.shape):
            raise RuntimeError(f"OneToOne connectivity needs equal source and target "
                               f"shapes, got {tuple(source.shape)} and "
                               f"{tuple(target.shape)}")
        for name in ("weight", "delay"):
            value = getattr(self, name)
            if is_value_array(value) and value.size != prod(source.shape):
                raise RuntimeError(f"OneToOne {name} array has {value.size} values but "
                                   f"the populations have {prod(source.shape)} neurons")

    def _array_values_allowed_without_indices(self):
        # one synapse per neuron, built in neuron order
        return True

    def _get_connectivity_init(self, connection):
        return init_sparse_connectivity("OneToOne", {})

    def get_snippet(self, connection, supported_matrix_type):
        if self.pre_ind is None and self.post_ind is None:
            n = prod(connection.source().shape)
            for name in ("weight", "delay"):
                value = getattr(self, name)
                if is_value_array(value) and value.size != n:
                    raise RuntimeError(f"OneToOne {name} array has {value.size} values but "
                                       f"connection '{connection.name}' has {n} synapses")
        return self._get_snippet(connection, supported_matrix_type, "OneToOne")
