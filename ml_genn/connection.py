"""Connection: synapses from a source to a target population."""
from weakref import ref

from .network import Network
from .population import Population
from .utils.checks import check_non_negative_int
from .utils.module import get_object


class Connection:
    def __init__(self, source, target, connectivity, synapse="delta", name=None,
                 max_delay_steps=None, add_to_model: bool = True):
        if not isinstance(source, Population) or not isinstance(target, Population):
            raise RuntimeError("Connection source and target must be Population objects "
                               "(use layer.population() for layers)")
        self._source = ref(source)
        self._target = ref(target)
        self.name = f"Conn_{source.name}_{target.name}" if name is None else name
        if add_to_model:
            # before anything changes: a refused connection leaves no trace
            Network._check_connection(self.name, source, target)
        if connectivity is None:
            raise RuntimeError(f"Connection '{self.name}': connectivity must be a "
                               "Connectivity object such as Dense(weight=...), got None")
        if synapse is None:
            raise RuntimeError(f"Connection '{self.name}': synapse must be a Synapse object "
                               "or 'delta'/'exponential', got None")
        self.connectivity = connectivity
        self.synapse = synapse
        if max_delay_steps is not None:
            max_delay_steps = check_non_negative_int(f"Connection '{self.name}'",
                                                     "max_delay_steps", max_delay_steps)
        self.max_delay_steps = max_delay_steps
        self.connectivity.connect(source, target)
        source._outgoing_connections.append(ref(self))
        target._incoming_connections.append(ref(self))
        if add_to_model:
            Network._add_connection(self)

    @property
    def source(self):
        return self._source

    @property
    def target(self):
        return self._target

    @property
    def connectivity(self):
        return self._connectivity

    @connectivity.setter
    def connectivity(self, c):
        from .connectivity import Connectivity, default_connectivity
        self._connectivity = get_object(c, Connectivity, "Connectivity", default_connectivity)

    @property
    def synapse(self):
        return self._synapse

    @synapse.setter
    def synapse(self, s):
        from .synapses import Synapse, default_synapses
        self._synapse = get_object(s, Synapse, "Synapse", default_synapses)

    def __str__(self):
        return self.name
