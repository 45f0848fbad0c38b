"""SequentialNetwork: layers connected one after another."""
from .network import Network


class SequentialNetwork(Network):
    def __init__(self, default_params: dict = {}):
        super().__init__(default_params)
        self.layers = []

    @staticmethod
    def get_prev_layer():
        if Network._context is None:
            raise RuntimeError("layers must be created inside a 'with network:' block")
        if not isinstance(Network._context, SequentialNetwork):
            raise RuntimeError("layers can only be added to a SequentialNetwork")
        return Network._context.layers[-1] if Network._context.layers else None

    @staticmethod
    def _add_layer(layer):
        SequentialNetwork.get_prev_layer()
        Network._context.layers.append(layer)
