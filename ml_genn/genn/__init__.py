"""ml_genn.genn: a GeNN-5-style spiking network engine that generates native code.

Usable on its own, the way pygenn is::

    model = GeNNModel("float", "example")
    pop = model.add_neuron_population("Pop", 100, "LIF", {...}, {...})
    model.build(); model.load(); model.run(1000)
"""
from . import _openmp  # noqa: F401  (must run before any library is loaded)
from .cache import CacheTrustWarning
from .errors import BuildError, CodeError, GeNNError, ModelError, RuntimeStateError
from .model import GeNNModel
from .references import (create_den_delay_var_ref, create_egp_ref, create_out_post_var_ref,
                         create_post_var_ref, create_pre_var_ref,
                         create_prev_spike_time_var_ref, create_psm_egp_ref,
                         create_psm_var_ref, create_spike_time_var_ref,
                         create_src_spike_count_var_ref, create_var_ref, create_wu_egp_ref,
                         create_wu_post_var_ref, create_wu_pre_var_ref, create_wu_var_ref)
from .snippets import (create_current_source_model, create_custom_connectivity_update_model,
                       create_custom_update_model,
                       create_neuron_model, create_postsynaptic_model,
                       create_sparse_connect_init_snippet,
                       create_toeplitz_connect_init_snippet, create_var_init_snippet,
                       create_weight_update_model, init_postsynaptic,
                       init_sparse_connectivity, init_toeplitz_connectivity, init_var,
                       init_weight_update)
from .types import (CustomUpdateVarAccess, ParallelismHint, SynapseMatrixConnectivity,
                    SynapseMatrixType, SynapseMatrixWeight, VarAccess, VarAccessDim,
                    VarAccessMode, VarLocation, get_var_access_dim)

__all__ = [
    "GeNNModel", "BuildError", "CodeError", "GeNNError", "ModelError", "RuntimeStateError",
    "CacheTrustWarning",
    "create_neuron_model", "create_postsynaptic_model", "create_weight_update_model",
    "create_current_source_model", "create_custom_update_model",
    "create_custom_connectivity_update_model", "create_var_init_snippet",
    "create_sparse_connect_init_snippet", "create_toeplitz_connect_init_snippet",
    "init_var", "init_postsynaptic", "init_weight_update", "init_sparse_connectivity",
    "init_toeplitz_connectivity", "create_var_ref", "create_wu_var_ref",
    "create_psm_var_ref", "create_out_post_var_ref", "create_egp_ref",
    "create_wu_pre_var_ref", "create_wu_post_var_ref", "create_den_delay_var_ref",
    "create_src_spike_count_var_ref", "create_wu_egp_ref", "create_psm_egp_ref",
    "create_spike_time_var_ref", "create_prev_spike_time_var_ref", "create_pre_var_ref",
    "create_post_var_ref",
    "VarAccess", "VarAccessMode", "VarAccessDim", "CustomUpdateVarAccess",
    "SynapseMatrixType", "SynapseMatrixConnectivity", "SynapseMatrixWeight",
    "ParallelismHint", "VarLocation", "get_var_access_dim"]
