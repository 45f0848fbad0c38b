"""Shared code generators, one per kind of generated function.

Each generator owns the per-element body of its kind (loads, inputs,
model code, stores, reductions) and is mixed into every backend; it calls
the backend only for what differs between targets (the hooks documented on
:class:`~ml_genn.genn.backends.base.Backend`): loops or thread indices,
spike emission and recording, accumulation (``addToPost``/``addToPre``),
reductions, and how the pieces become functions or kernels.
"""
from .custom_connectivity_update import CustomConnectivityUpdate
from .custom_update import CustomUpdate
from .initialisation import InitSection, Initialisation
from .neuron_update import NeuronUpdate
from .synapse_update import SynapseUpdate

__all__ = ["CustomConnectivityUpdate", "CustomUpdate", "InitSection", "Initialisation", "NeuronUpdate", "SynapseUpdate"]
