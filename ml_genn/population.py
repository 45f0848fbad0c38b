"""Population: a group of neurons of one type with a shape."""
from collections.abc import Sequence
from itertools import count
from numbers import Integral, Real

import numpy as np

from .network import Network
from .utils.module import get_object

_population_counter = count()


class Population:
    """A group of neurons of one type.

    ``shape``: ``None`` (inferred by a connectivity), a positive integer or a
    sequence of positive integers (NumPy integers accepted; ``bool``,
    fractions, zero and negative sizes raise). ``name`` may be any text: it is
    kept as given for lookups, messages and checkpoints, while the engine
    gets a derived identifier (see ``ml_genn.utils.names``).
    """

    def __init__(self, neuron, shape=None, record_spikes: bool = False,
                 record_spike_events: bool = False, name=None, add_to_model: bool = True):
        self.name = f"Pop{next(_population_counter)}" if name is None else name
        self._network = None        # set (weakly) when added to a network
        self.neuron = neuron
        self.shape = shape
        self.record_spikes = record_spikes
        self.record_spike_events = record_spike_events
        self._incoming_connections = []
        self._outgoing_connections = []
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
        elif isinstance(shape, (Real, np.number)):
            self._shape = (_check_dim(self, shape, shape),)
        elif isinstance(shape, (Sequence, np.ndarray)) and not isinstance(shape, str):
            if len(shape) == 0:
                raise ValueError(f"population '{self.name}': shape () has no dimensions; "
                                 "give the number of neurons, e.g. shape=10 or (10,)")
            # stored as a tuple so shape comparisons work whatever was given
            self._shape = tuple(_check_dim(self, s, shape) for s in shape)
        else:
            raise RuntimeError(f"population '{self.name}': shape must be None, an int or a "
                               f"sequence of ints, not {type(shape).__name__}")

    @property
    def incoming_connections(self):
        return self._incoming_connections

    @property
    def outgoing_connections(self):
        return self._outgoing_connections

    def __str__(self):
        return self.name


def _check_dim(pop, dim, shape):
    """One dimension of a population shape: a positive integer."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (Integral, np.integer)):
        raise TypeError(f"population '{pop.name}': shape {shape!r} must contain positive "
                        f"integers; {dim!r} is a {type(dim).__name__} (give e.g. "
                        "shape=10 or shape=(28, 28, 1))")
    if dim < 1:
        raise ValueError(f"population '{pop.name}': shape {shape!r} must contain positive "
                         f"integers; {dim!r} is not (every dimension needs at least one "
                         "neuron)")
    return int(dim)
