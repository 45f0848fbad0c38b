"""Network: the container that populations and connections register with."""
from weakref import ref

from .utils.module import get_object


class Network:
    """Holds populations and connections created inside ``with network:``."""
    _context = None

    def __init__(self, default_params: dict = {}):
        self.default_params = dict(default_params)
        self.populations = []
        self.connections = []

    def __enter__(self):
        if Network._context is not None:
            raise RuntimeError("nested networks are not supported: leave the current "
                               "'with network:' block first")
        Network._context = self
        return self          # 'with Network() as net:' (upstream returns None)

    def __exit__(self, exc_type, exc, tb):
        # only this network's own slot is cleared (never another's)
        if Network._context is self:
            Network._context = None

    @staticmethod
    def get_default_params(type_):
        if Network._context is None:
            return {}
        return Network._context.default_params.get(type_, {})

    @staticmethod
    def _add_population(pop):
        if Network._context is None:
            raise RuntimeError("Population must be created inside a 'with network:' block")
        Network._context.populations.append(pop)
        pop._network = ref(Network._context)

    @staticmethod
    def _add_connection(conn):
        if Network._context is None:
            raise RuntimeError("Connection must be created inside a 'with network:' block")
        Network._check_connection(conn.name, conn.source(), conn.target())
        Network._context.connections.append(conn)

    @staticmethod
    def _check_connection(name, source, target):
        """Both ends of a connection must belong to the current network."""
        net = Network._context
        if net is None:
            raise RuntimeError("Connection must be created inside a 'with network:' block")
        for role, pop in (("source", source), ("target", target)):
            pop_net = pop._network() if getattr(pop, "_network", None) else None
            if pop_net is not None and pop_net is not net:
                raise ValueError(f"Connection '{name}': its {role} population "
                                 f"'{pop.name}' belongs to another Network; create both "
                                 "populations and the connection inside the same 'with "
                                 "network:' block")

    def load(self, keys=(), serialiser="numpy"):
        """Restore connection weights/delays and population values saved
        by a serialiser (e.g. a Checkpoint)."""
        from .serialisers import Serialiser, default_serialisers
        from .utils.value import set_values
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        for c in self.connections:
            set_values(c.connectivity, serialiser.deserialise_all(keys + (c,)))
        for p in self.populations:
            set_values(p.neuron, serialiser.deserialise_all(keys + (p,)))
