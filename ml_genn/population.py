"""Population: a group of neurons of one type with a shape."""
from collections.abc import Sequence
from itertools import count

from .network import Network
from .utils.module import get_object

_population_counter = count()


class Population:
    def __init__(self, neuron, shape=None, record_spikes: bool = False,
                 record_spike_events: bool = False, name=None, add_to_model: bool = True):
        self.neuron = neuron
        self.shape = shape
        self.record_spikes = record_spikes
        self.record_spike_events = record_spike_events
        self._incoming_connections = []
        self._outgoing_connections = []
        self.name = f"Pop{next(_population_counter)}" if name is None else name
        if add_to_model:
            Network._add_population(self)

    @property
    def neuron(self):
        return self._neuron

    @neuron.setter
    def neuron(self, n):
        from .neurons import Neuron, default_neurons
        self._neuron = get_object(n, Neuron, "Neuron", default_neurons)

    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, shape):
        if shape is None:
            self._shape = None
        elif isinstance(shape, int):
            self._shape = (shape,)
        elif isinstance(shape, Sequence):
            # stored as a tuple so shape comparisons work whatever was given
            self._shape = tuple(int(s) for s in shape)
        else:
            raise RuntimeError(f"population shape must be None, an int or a sequence, not "
                               f"{type(shape).__name__}")

    @property
    def incoming_connections(self):
        return self._incoming_connections

    @property
    def outgoing_connections(self):
        return self._outgoing_connections

    def __str__(self):
        return self.name
