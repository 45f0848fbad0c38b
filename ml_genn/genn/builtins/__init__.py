"""Registries of built-in models and snippets, looked up by name.

Each registry is a dict (``neuron_models["LIF"]``) whose entries are also
attributes, callable as in pygenn (``neuron_models.LIF``,
``neuron_models.LIF()``).  pygenn's module names are aliases:
``init_var_snippets``, ``init_sparse_connectivity_snippets``,
``init_toeplitz_connectivity_snippets``, ``current_source_models``.
"""
from .connectivity_snippets import (sparse_connectivity_snippets,
                                    toeplitz_connectivity_snippets)
from .current_sources import current_source_models
from .custom_update_models import custom_update_models
from .init_snippets import var_init_snippets
from .neuron_models import neuron_models
from .synapse_models import postsynaptic_models, weight_update_models
from . import constraints  # noqa: F401  (attaches value constraints to the built-ins)

# pygenn's module names
init_var_snippets = var_init_snippets
init_sparse_connectivity_snippets = sparse_connectivity_snippets
init_toeplitz_connectivity_snippets = toeplitz_connectivity_snippets

__all__ = ["current_source_models", "custom_update_models", "neuron_models",
           "postsynaptic_models",
           "sparse_connectivity_snippets", "toeplitz_connectivity_snippets",
           "var_init_snippets", "weight_update_models", "init_var_snippets",
           "init_sparse_connectivity_snippets", "init_toeplitz_connectivity_snippets"]
