"""Helpers resolving layers to populations/connections, and network order."""
from typing import Union

from ..connection import Connection
from ..layer import InputLayer, Layer
from ..population import Population

ConnectionType = Union[Connection, Layer]
PopulationType = Union[InputLayer, Layer, Population]


def get_underlying_pop(obj):
    if isinstance(obj, Population):
        return obj
    if isinstance(obj, (InputLayer, Layer)):
        return obj.population()
    raise RuntimeError(f"{obj!r} is not a Population or a layer")


def get_underlying_conn(obj):
    if isinstance(obj, Connection):
        return obj
    if isinstance(obj, Layer):
        if obj.connection is None:
            raise RuntimeError("this layer has no incoming connection")
        return obj.connection()
    raise RuntimeError(f"{obj!r} is not a Connection or a Layer with a connection")


def get_network_dag(inputs, outputs):
    """Populations reachable from ``inputs`` in topological order (Kahn)."""
    inputs = [get_underlying_pop(i) for i in inputs]
    outputs = [get_underlying_pop(o) for o in outputs]
    order = []
    ready = list(inputs)
    seen_in = {}
    while ready:
        pop = ready.pop(0)
        order.append(pop)
        for c in pop.outgoing_connections:
            trg = c().target()
            seen_in[trg] = seen_in.get(trg, 0) + 1
            if seen_in[trg] == len(trg.incoming_connections):
                ready.append(trg)
    missing = [o.name for o in outputs if o not in order]
    if missing:
        raise RuntimeError(f"outputs unreachable from inputs: {', '.join(missing)}")
    return order
