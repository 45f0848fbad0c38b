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
        by a serialiser (e.g. a Checkpoint) under the tuple ``keys``.

        ``RuntimeError`` if nothing at all is found under ``keys`` (upstream
        then silently keeps the old values, hiding a wrong key or folder)."""
        from .serialisers import Serialiser, default_serialisers
        from .utils.checks import checkpoint_keys
        from .utils.value import set_values
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = checkpoint_keys(keys, "Network.load()")
        found = 0
        for c in self.connections:
            values = serialiser.deserialise_all(keys + (c,))
            found += len(values)
            set_values(c.connectivity, values)
        for p in self.populations:
            values = serialiser.deserialise_all(keys + (p,))
            found += len(values)
            set_values(p.neuron, values)
        if not found and (self.connections or self.populations):
            # nothing restored: wrong keys or folder, which would go unnoticed
            where = getattr(serialiser, "path", None)
            raise RuntimeError(f"Network.load(): no saved values found under keys {keys!r}"
                               + (f" in {where!r}" if where is not None else "")
                               + "; give the keys used to save them (a Checkpoint saves "
                               "under (epoch,)) and the same serialiser/path")
