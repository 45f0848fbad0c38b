"""Registries of built-in models and snippets, looked up by name."""
from .connectivity_snippets import (sparse_connectivity_snippets,
                                    toeplitz_connectivity_snippets)
from .current_sources import current_source_models
from .init_snippets import var_init_snippets
from .neuron_models import neuron_models
from .synapse_models import postsynaptic_models, weight_update_models
from . import constraints  # noqa: F401  (attaches value constraints to the built-ins)

__all__ = ["current_source_models", "neuron_models", "postsynaptic_models",
           "sparse_connectivity_snippets", "toeplitz_connectivity_snippets",
           "var_init_snippets", "weight_update_models"]
