"""Mean squared error against a per-timestep target."""
import numpy as np

from .loss import Loss


class MeanSquareError(Loss):
    """Adds a float buffer ``YTrue`` (extra global parameter) of
    ``batch_size * example_timesteps * N`` targets and defines ``yTrue`` in
    the sim code as ``YTrue[batch*T*N + step*N + id]`` with
    ``step = round(t / dt) mod T`` (the modulo keeps the index in range
    when time is not reset between batches; upstream reads past the buffer).

    ``set_target`` needs ``y_true.shape == (batch_size, example_timesteps) +
    shape`` exactly (``RuntimeError``), so datasets must be a multiple of the
    batch size.
    """

    def add_to_neuron(self, model, shape, batch_size: int, example_timesteps: int):
        n = int(np.prod(shape))
        model.add_egp("YTrue", "scalar*",
                      np.zeros(batch_size * example_timesteps * n, dtype=np.float32))
        model.prepend_sim_code(
            f"""
            const int mseStep = ((int)round(t / dt)) % {example_timesteps};
            const scalar yTrue = YTrue[(batch * {example_timesteps} * num_neurons)
                                       + (mseStep * num_neurons) + id];
            """)

    def set_target(self, genn_pop, y_true, shape, batch_size: int, example_timesteps: int):
        y_true = np.asarray(y_true)
        expected = (batch_size, example_timesteps) + tuple(shape)
        if y_true.shape != expected:
            raise RuntimeError(f"MeanSquareError: targets must have shape {expected} "
                               f"(batch, timesteps) + population shape; got {y_true.shape}")
        egp = genn_pop.extra_global_params["YTrue"]
        egp.view[:] = y_true.reshape(-1)
        egp.push_to_device()
