"""Enumerations shared by every part of the engine.

The flag values follow GeNN 5 so that code written for pygenn (which tests
bits such as ``access & VarAccessMode.READ_ONLY``) keeps working.
"""
from enum import IntEnum, IntFlag


class VarAccessModeAttribute(IntFlag):
    READ_ONLY = 1 << 0
    READ_WRITE = 1 << 1
    REDUCE = 1 << 2
    SUM = 1 << 3
    MAX = 1 << 4
    BROADCAST = 1 << 5


class VarAccessMode(IntFlag):
    """How a variable or reference may be accessed in code."""
    READ_WRITE = VarAccessModeAttribute.READ_WRITE
    READ_ONLY = VarAccessModeAttribute.READ_ONLY
    BROADCAST = VarAccessModeAttribute.BROADCAST
    REDUCE_SUM = VarAccessModeAttribute.REDUCE | VarAccessModeAttribute.SUM
    REDUCE_MAX = VarAccessModeAttribute.REDUCE | VarAccessModeAttribute.MAX


class VarAccessDim(IntFlag):
    """Axes along which a variable has distinct values."""
    ELEMENT = 1 << 6
    BATCH = 1 << 7


class VarAccess(IntFlag):
    """Access mode and dimensions of neuron/synapse/current-source variables."""
    READ_WRITE = VarAccessMode.READ_WRITE | VarAccessDim.ELEMENT | VarAccessDim.BATCH
    READ_ONLY = VarAccessMode.READ_ONLY | VarAccessDim.ELEMENT
    READ_ONLY_DUPLICATE = VarAccessMode.READ_ONLY | VarAccessDim.ELEMENT | VarAccessDim.BATCH
    READ_ONLY_SHARED_NEURON = VarAccessMode.READ_ONLY | VarAccessDim.BATCH


class CustomUpdateVarAccess(IntFlag):
    """Custom-update variable access; dims are *removed* from the update's."""
    READ_WRITE = VarAccessMode.READ_WRITE
    READ_ONLY = VarAccessMode.READ_ONLY
    BROADCAST_DELAY = VarAccessMode.BROADCAST
    READ_ONLY_SHARED = VarAccessMode.READ_ONLY | VarAccessDim.BATCH
    READ_ONLY_SHARED_NEURON = VarAccessMode.READ_ONLY | VarAccessDim.ELEMENT
    REDUCE_BATCH_SUM = VarAccessMode.REDUCE_SUM | VarAccessDim.BATCH
    REDUCE_BATCH_MAX = VarAccessMode.REDUCE_MAX | VarAccessDim.BATCH
    REDUCE_NEURON_SUM = VarAccessMode.REDUCE_SUM | VarAccessDim.ELEMENT
    REDUCE_NEURON_MAX = VarAccessMode.REDUCE_MAX | VarAccessDim.ELEMENT


_MODE_MASK = 0x3F
_DIM_MASK = VarAccessDim.ELEMENT | VarAccessDim.BATCH


def access_mode(access) -> VarAccessMode:
    """The access-mode part of any access value."""
    return VarAccessMode(int(access) & _MODE_MASK)


def var_dims(access) -> VarAccessDim:
    """Dims of a neuron/synapse variable."""
    return VarAccessDim(int(access) & _DIM_MASK)


def get_var_access_dim(access, custom_update_dims=None) -> VarAccessDim:
    """pygenn-style: dims of a variable, or of a custom-update variable
    when the update's own dims are given."""
    if custom_update_dims is None:
        return var_dims(access)
    return custom_update_var_dims(access, custom_update_dims)


def custom_update_var_dims(access, update_dims) -> VarAccessDim:
    """Dims of a custom-update variable: the update's minus those it drops."""
    return VarAccessDim(int(update_dims) & ~(int(access) & _DIM_MASK))


class SynapseMatrixConnectivity(IntFlag):
    DENSE = 1 << 0
    BITMASK = 1 << 1
    SPARSE = 1 << 2
    PROCEDURAL = 1 << 3
    TOEPLITZ = 1 << 4


class SynapseMatrixWeight(IntFlag):
    INDIVIDUAL = 1 << 5
    PROCEDURAL = 1 << 6
    KERNEL = 1 << 7


class SynapseMatrixType(IntEnum):
    """Supported connectivity x weight combinations."""
    DENSE = SynapseMatrixConnectivity.DENSE | SynapseMatrixWeight.INDIVIDUAL
    DENSE_PROCEDURALG = SynapseMatrixConnectivity.DENSE | SynapseMatrixWeight.PROCEDURAL
    BITMASK = SynapseMatrixConnectivity.BITMASK | SynapseMatrixWeight.INDIVIDUAL
    SPARSE = SynapseMatrixConnectivity.SPARSE | SynapseMatrixWeight.INDIVIDUAL
    PROCEDURAL = SynapseMatrixConnectivity.PROCEDURAL | SynapseMatrixWeight.PROCEDURAL
    PROCEDURAL_KERNELG = SynapseMatrixConnectivity.PROCEDURAL | SynapseMatrixWeight.KERNEL
    TOEPLITZ = SynapseMatrixConnectivity.TOEPLITZ | SynapseMatrixWeight.KERNEL

    @property
    def connectivity(self) -> SynapseMatrixConnectivity:
        return SynapseMatrixConnectivity(int(self) & 0x1F)

    @property
    def weight(self) -> SynapseMatrixWeight:
        return SynapseMatrixWeight(int(self) & 0xE0)


class VarLocation(IntFlag):
    """Where GeNN keeps an array (see :mod:`ml_genn.genn.locations`: every
    location behaves as HOST_DEVICE here)."""
    HOST = 1 << 0
    DEVICE = 1 << 1
    ZERO_COPY = 1 << 2
    HOST_DEVICE = HOST | DEVICE
    HOST_DEVICE_ZERO_COPY = HOST | DEVICE | ZERO_COPY


class ParallelismHint(IntEnum):
    POSTSYNAPTIC = 0
    PRESYNAPTIC = 1
    WORD_PACKED_BITMASK = 2


#: C types accepted in declarations; value = NumPy dtype name ("scalar" and
#: "timepoint" resolve to the model's precision).
NUMERIC_TYPES = {
    "scalar": None, "timepoint": None,
    "float": "float32", "double": "float64", "bool": "bool",
    "int8_t": "int8", "uint8_t": "uint8", "int16_t": "int16", "uint16_t": "uint16",
    "int32_t": "int32", "uint32_t": "uint32", "int64_t": "int64", "uint64_t": "uint64",
    "int": "int32", "unsigned int": "uint32", "unsigned": "uint32",
    "char": "int8", "unsigned char": "uint8", "short": "int16", "unsigned short": "uint16",
    "long": "int64", "unsigned long": "uint64", "long long": "int64",
    "unsigned long long": "uint64",
}
