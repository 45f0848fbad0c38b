"""Mean squared error against a per-timestep target."""
import numpy as np

from ..utils.checks import check_finite
from .loss import Loss

#: Variable in which the loss sums the squared error of the current example
SQUARED_ERROR_VAR = "SquaredError"


class MeanSquareError(Loss):
    """Adds a float buffer ``YTrue`` (extra global parameter) of
    ``batch_size * example_timesteps * N`` targets and defines ``yTrue`` in
    the sim code as ``YTrue[batch*T*N + step*N + id]`` with
    ``step = round(t / dt) mod T`` (the modulo keeps the index in range
    when time is not reset between batches; upstream reads past the buffer).

    It also sums ``(output - yTrue)**2`` over the steps of each example in
    the variable ``SquaredError`` (restarted at step 0), so a training
    network reports the mean squared error of the whole output trace as
    its ``"mean_square_error"`` metric without recording the trace.

    ``set_target`` needs ``y_true.shape == (batch_size, example_timesteps) +
    shape`` exactly (``RuntimeError``), so datasets must be a multiple of the
    batch size.
    """

    def add_to_neuron(self, model, shape, batch_size: int, example_timesteps: int):
        n = int(np.prod(shape))
        if batch_size * example_timesteps * n >= 2 ** 31:
            # the engine indexes the buffer with 32-bit integers
            raise ValueError(f"MeanSquareError: a target buffer of batch_size * "
                             f"example_timesteps * neurons = {batch_size} * "
                             f"{example_timesteps} * {n} values exceeds 2**31 - 1; use a "
                             "smaller batch size or fewer time steps per example")
        model.add_egp("YTrue", "scalar*",
                      np.zeros(batch_size * example_timesteps * n, dtype=np.float32))
        model.prepend_sim_code(
            f"""
            const int mseStep = ((int)round(t / dt)) % {example_timesteps};
            const scalar yTrue = YTrue[(batch * {example_timesteps} * num_neurons)
                                       + (mseStep * num_neurons) + id];
            """)
        output = model.output_var_name
        model.add_var(SQUARED_ERROR_VAR, "scalar", 0.0)
        model.append_sim_code(
            f"""
            if (mseStep == 0) {{
                {SQUARED_ERROR_VAR} = 0.0;
            }}
            {SQUARED_ERROR_VAR} += ({output} - yTrue) * ({output} - yTrue);
            """)

    def set_target(self, genn_pop, y_true, shape, batch_size: int, example_timesteps: int):
        y_true = np.asarray(y_true)
        expected = (batch_size, example_timesteps) + tuple(shape)
        if y_true.shape != expected:
            raise RuntimeError(f"MeanSquareError: targets must have shape {expected} "
                               f"(batch, timesteps) + population shape; got {y_true.shape}")
        if y_true.dtype == object or not (np.issubdtype(y_true.dtype, np.number)
                                          or y_true.dtype == np.bool_):
            raise TypeError(f"MeanSquareError: targets must be numbers, got an array of "
                            f"{y_true.dtype}")
        check_finite("MeanSquareError: targets", y_true, "training")
        egp = genn_pop.extra_global_params["YTrue"]
        egp.view[:] = y_true.reshape(-1)
        egp.push_to_device()

    @staticmethod
    def squared_error_sums(genn_pop, num_examples: int):
        """Per-example sums of the squared error over the neurons and steps
        of the batch just simulated (the first ``num_examples`` rows)."""
        var = genn_pop.vars[SQUARED_ERROR_VAR]
        var.pull_from_device()
        view = np.asarray(var.view, dtype=np.float64).reshape(-1, genn_pop.num_neurons)
        return view[:num_examples].sum(axis=1)
