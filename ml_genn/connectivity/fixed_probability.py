"""Random connectivity: each (pre, post) pair exists with probability p."""
from ..genn import init_sparse_connectivity
from ..utils.snippet import ConstantValueDescriptor
from .sparse_base import SparseBase


class FixedProbability(SparseBase):
    """Each (pre, post) pair is connected independently with probability ``p``.

    Args:
        p:      connection probability (a number in [0, 1]).
        weight: number or initializer (arrays only with explicit
                ``pre_ind``/``post_ind``, e.g. restored by ``Network.load``).
        allow_self_connections: when the source is the target, whether
                neuron i may connect to itself.
        delay:  number or initializer.

    Population shapes are not inferred: both must be given.
    """
    p = ConstantValueDescriptor()

    def __init__(self, p, weight, allow_self_connections=False, delay=0):
        super().__init__(weight, delay)
        self.p = p
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"FixedProbability: p must lie in [0, 1], got {p}")
        self.allow_self_connections = allow_self_connections

    def connect(self, source, target):
        pass

    def _get_connectivity_init(self, connection):
        name = ("FixedProbabilityNoAutapse"
                if (connection.source() is connection.target()
                    and not self.allow_self_connections)
                else "FixedProbability")
        return init_sparse_connectivity(name, {"prob": self.p})

    def get_snippet(self, connection, supported_matrix_type):
        return self._get_snippet(connection, supported_matrix_type, "FixedProbability")
