"""CompiledNetwork: an engine model bound to the Network it came from."""
from ..utils.network import get_underlying_pop


class CompiledNetwork:
    """Use as a context manager: entering builds (cached) and loads the model."""
    _context = None

    def __init__(self, genn_model, neuron_populations, connection_populations,
                 communicator=None, num_recording_timesteps=None):
        self.genn_model = genn_model
        self.neuron_populations = neuron_populations
        self.connection_populations = connection_populations
        self.communicator = communicator
        self.num_recording_timesteps = num_recording_timesteps

    def set_input(self, inputs: dict):
        for pop, data in inputs.items():
            pop = get_underlying_pop(pop)
            pop.neuron.set_input(self.neuron_populations[pop], self.genn_model.batch_size,
                                 pop.shape, data)

    def get_readout(self, outputs):
        if isinstance(outputs, (list, tuple)):
            return [self._get_readout(o) for o in outputs]
        return self._get_readout(outputs)

    def _get_readout(self, output):
        pop = get_underlying_pop(output)
        return pop.neuron.get_readout(self.neuron_populations[pop],
                                      self.genn_model.batch_size, pop.shape)

    def custom_update(self, name: str):
        self.genn_model.custom_update(name)

    def step_time(self, callback_list=None):
        timestep = self.genn_model.timestep
        if callback_list is not None:
            callback_list.on_timestep_begin(timestep)
        self.genn_model.step_time()
        if callback_list is not None:
            callback_list.on_timestep_end(timestep)

    def run_steps(self, n, callback_list=None):
        """Run n steps: one native call unless a callback wants every step."""
        if callback_list is not None and callback_list.needs_timesteps:
            for _ in range(n):
                self.step_time(callback_list)
        else:
            self.genn_model.run(n)

    def reset_time(self):
        self.genn_model.timestep = 0

    def __enter__(self):
        if CompiledNetwork._context is not None:
            raise RuntimeError("nested compiled networks are not supported: leave the "
                               "current 'with compiled_net:' block first")
        CompiledNetwork._context = self
        if self.genn_model._built is None:
            self.genn_model.build()
        self.genn_model.load(num_recording_timesteps=self.num_recording_timesteps)
        return self

    def __exit__(self, exc_type, exc, tb):
        CompiledNetwork._context = None
        self.genn_model.unload()
