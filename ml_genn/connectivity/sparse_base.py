"""Base of connectivity stored as explicit (or procedurally generated) synapse lists."""
from abc import abstractmethod

import numpy as np

from ..genn import SynapseMatrixType
from ..utils.connectivity import get_best_matrix_type
from ..utils.snippet import ConnectivitySnippet
from ..utils.value import ValueDescriptor, is_value_array
from .connectivity import Connectivity


class SparseBase(Connectivity):
    """Sparse connectivity built by an engine snippet or given as index lists.

    ``pre_ind``/``post_ind`` (engine names identical) are ``None`` unless set,
    e.g. by ``Network.load`` from a checkpoint saved with the connectivity.
    With indices, the synapses are exactly the ``(pre_ind[i], post_ind[i])``
    pairs (SPARSE), and an array weight/delay has one value per pair.
    Without them, the connectivity snippet builds the synapses: SPARSE, or
    PROCEDURAL (regenerated at every spike) when neither weight nor delay is
    an array.
    """
    pre_ind = ValueDescriptor("pre_ind", constraint="non_negative")
    post_ind = ValueDescriptor("post_ind", constraint="non_negative")

    def __init__(self, weight, delay):
        super().__init__(weight, delay)
        self.pre_ind = None
        self.post_ind = None

    @abstractmethod
    def _get_connectivity_init(self, connection):
        """Engine sparse-connectivity initialiser building the synapses."""

    def _array_values_allowed_without_indices(self):
        """Whether array weights/delays make sense for snippet-built synapses."""
        return False

    def _get_snippet(self, connection, supported_matrix_type, description):
        if self.pre_ind is not None or self.post_ind is not None:
            if not is_value_array(self.pre_ind) or not is_value_array(self.post_ind):
                raise RuntimeError(f"{description} connectivity with explicit synapses "
                                   "needs both pre_ind and post_ind arrays")
            pre_ind = np.asarray(self.pre_ind).flatten()
            post_ind = np.asarray(self.post_ind).flatten()
            if pre_ind.shape != post_ind.shape:
                raise RuntimeError(f"{description} connectivity: pre_ind ({pre_ind.size}) "
                                   f"and post_ind ({post_ind.size}) differ in length")
            for name in ("weight", "delay"):
                value = getattr(self, name)
                if is_value_array(value) and value.size != pre_ind.size:
                    raise RuntimeError(f"{description} connectivity: {name} array has "
                                       f"{value.size} values but there are {pre_ind.size} "
                                       "synapses (pre_ind/post_ind)")
            matrix_type = get_best_matrix_type(supported_matrix_type,
                                               [SynapseMatrixType.SPARSE], description)
            return ConnectivitySnippet(snippet=None, matrix_type=matrix_type,
                                       weight=_flat(self.weight), delay=_flat(self.delay),
                                       pre_ind=pre_ind, post_ind=post_ind)

        arrays = is_value_array(self.weight) or is_value_array(self.delay)
        if arrays and not self._array_values_allowed_without_indices():
            raise RuntimeError(f"{description} connectivity: weight/delay arrays need "
                               "explicit synapses (pre_ind and post_ind); use a number or "
                               "an initializer otherwise")
        available = [SynapseMatrixType.SPARSE]
        if not arrays:
            available.append(SynapseMatrixType.PROCEDURAL)
        matrix_type = get_best_matrix_type(supported_matrix_type, available, description)
        return ConnectivitySnippet(snippet=self._get_connectivity_init(connection),
                                   matrix_type=matrix_type, weight=_flat(self.weight),
                                   delay=_flat(self.delay))


def _flat(value):
    return np.asarray(value).flatten() if is_value_array(value) else value
