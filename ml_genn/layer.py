"""InputLayer and Layer of a SequentialNetwork."""
from weakref import ref

from .connection import Connection
from .network import Network
from .population import Population
from .sequential_network import SequentialNetwork


class InputLayer:
    def __init__(self, neuron, shape=None, record_spikes: bool = False,
                 record_spike_events: bool = False, name=None):
        SequentialNetwork.get_prev_layer()
        pop = Population(neuron, shape, record_spikes, record_spike_events, name,
                         add_to_model=False)
        Network._add_population(pop)
        self.population = ref(pop)
        self._population = pop           # the layer keeps its population alive
        self.connection = None
        SequentialNetwork._add_layer(self)


class Layer:
    def __init__(self, connectivity, neuron, shape=None, synapse="delta",
                 record_spikes: bool = False, record_spike_events: bool = False,
                 max_delay_steps=None, name=None):
        prev = SequentialNetwork.get_prev_layer()
        pop = Population(neuron, shape, record_spikes, record_spike_events, name,
                         add_to_model=False)
        Network._add_population(pop)
        self.population = ref(pop)
        self._population = pop
        if prev is not None:
            conn = Connection(prev.population(), pop, connectivity, synapse,
                              max_delay_steps=max_delay_steps, add_to_model=False)
            Network._add_connection(conn)
            self.connection = ref(conn)
            self._connection = conn
        else:
            self.connection = None
        SequentialNetwork._add_layer(self)
