"""CompiledNetwork: an engine model bound to the Network it came from."""
from collections.abc import Mapping

import numpy as np

from ..neurons.input import Input
from ..utils.checks import check_finite
from ..utils.data import batch_dataset
from ..utils.names import explain_engine_names
from ..utils.network import get_underlying_pop


def check_finite_data(data, what):
    """NaN/inf in numeric data is a ``ValueError`` naming ``what``."""
    if isinstance(data, (np.ndarray, list, tuple)) or np.isscalar(data):
        try:
            arr = np.asarray(data)
        except ValueError:
            return
        check_finite(what, arr, "evaluating")


def dataset_size(data, arg):
    """Common number of examples of the entries of ``data`` (x or y), with
    errors naming ``arg`` and the entries that disagree."""
    sizes = {}
    for key, value in data.items():
        try:
            sizes[key] = len(value)
        except TypeError:
            raise TypeError(f"{arg}[{getattr(key, 'name', key)!r}] must be a sequence or "
                            f"array with one entry per example, not "
                            f"{type(value).__name__}") from None
    if not sizes:
        raise ValueError(f"{arg} is empty: give {{population: data}} for at least one "
                         "population")
    if len(set(sizes.values())) != 1:
        detail = ", ".join(f"{getattr(k, 'name', k)!r}: {n}" for k, n in sizes.items())
        raise RuntimeError(f"all entries of {arg} must have the same number of examples; "
                           f"got {detail}")
    return next(iter(sizes.values()))


def batch_dicts(inputs, outputs, data):
    """``(input list, output list, iterator of ({input: x}, {output: y}))``
    for ``evaluate_batch_iter``'s ``data`` of ``(batch_x, batch_y)`` pairs.

    As in mlGeNN, one input (output), given alone or as a one-element list
    (what the Keras converters return), takes ``batch_x`` (``batch_y``) as
    it is; several take sequences zipped with them."""
    def as_list(pops):
        return list(pops) if isinstance(pops, (list, tuple)) else [pops]
    in_list, out_list = as_list(inputs), as_list(outputs)

    def pairs():
        for batch_x, batch_y in data:
            x = ({in_list[0]: batch_x} if len(in_list) == 1
                 else dict(zip(in_list, batch_x, strict=True)))
            y = ({out_list[0]: batch_y} if len(out_list) == 1
                 else dict(zip(out_list, batch_y, strict=True)))
            yield x, y
    return in_list, out_list, pairs()


def check_labels(pop, y_true, arg="y", loss=None):
    """Class labels for ``pop`` (SparseCategoricalAccuracy, or the training
    ``loss`` named): integers in ``[0, number of output neurons)``."""
    y = np.asarray(y_true)
    n = int(np.prod(pop.shape))
    # what to do instead of giving class labels
    other = (f"{loss} trains on class labels: give labels, or use a loss that takes "
             "other targets" if loss is not None else "use metrics='mean_square_error'")
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number)
                                 or y.dtype == np.bool_):
        raise TypeError(f"{arg}: labels for output population '{pop.name}' must be "
                        f"integer class indices, got an array of {y.dtype}")
    if y.ndim > 1 and y.size != y.shape[0]:
        raise ValueError(f"{arg}: labels for output population '{pop.name}' must be one "
                         f"integer class index per example (shape ({y.shape[0]},)), got "
                         f"shape {y.shape}; for one-hot targets give np.argmax({arg}, axis=-1)"
                         f", or {other}")
    if y.size == 0:
        return
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(f"{arg}: labels for output population '{pop.name}' must be "
                             "integer class indices; got non-integer (or NaN) values "
                             f"(for one-hot or probability targets {other})")
    lo, hi = y.min(), y.max()
    if lo < 0 or hi >= n:
        raise ValueError(f"{arg}: labels for output population '{pop.name}' must lie in "
                         f"[0, {n}) (it has {n} neurons, one per class); got labels "
                         f"from {lo} to {hi}")


class CompiledNetwork:
    """Use as a context manager: entering builds (cached) and loads the model.

    Entering and leaving are exception-safe: the class-level "current
    compiled network" slot is only taken once the model is loaded and is
    always released on exit, so a failed build, load or unload never blocks
    a later ``with``."""
    _context = None

    def __init__(self, genn_model, neuron_populations, connection_populations,
                 communicator=None, num_recording_timesteps=None):
        self.genn_model = genn_model
        self.neuron_populations = neuron_populations
        self.connection_populations = connection_populations
        self.communicator = communicator
        self.num_recording_timesteps = num_recording_timesteps

    def set_input(self, inputs: dict):
        self._check_inputs(inputs)
        for pop, data in inputs.items():
            pop = get_underlying_pop(pop)
            check_finite_data(data, f"input data for population '{pop.name}'")
            try:
                pop.neuron.set_input(self.neuron_populations[pop],
                                     self.genn_model.batch_size, pop.shape, data)
            except (RuntimeError, ValueError, TypeError) as e:
                raise type(e)(f"input data for population '{pop.name}': {e}") from None

    def get_readout(self, outputs):
        if isinstance(outputs, (list, tuple)):
            return [self._get_readout(o) for o in outputs]
        return self._get_readout(outputs)

    def _get_readout(self, output):
        pop = self._get_pop(output, "outputs")
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
        """Run n steps: one native call unless a callback wants every step
        (custom updates at the end of every step run natively too)."""
        if callback_list is not None and callback_list.needs_timesteps:
            groups = callback_list.step_custom_updates()
            if groups:
                self.genn_model.run(n, custom_updates=groups)
                return
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
        # The class-level slot is only taken once the model is loaded: a build
        # or load that fails leaves nothing behind (a later 'with' works).
        try:
            if self.genn_model._built is None:
                self._build()
            self.genn_model.load(num_recording_timesteps=self.num_recording_timesteps)
        except BaseException as e:
            try:
                self.genn_model.unload()
            except Exception:
                pass
            explain_engine_names(e, self._engine_names())
            raise
        CompiledNetwork._context = self
        return self

    def _build(self):
        """Build the model; with a communicator rank 0 builds first and the
        other ranks then find the library in the build cache."""
        comm = self.communicator
        if comm is None or comm.num_ranks == 1:
            self.genn_model.build()
            return
        if comm.rank == 0:
            self.genn_model.build()
        comm.barrier()
        if comm.rank != 0:
            self.genn_model.build()

    def __exit__(self, exc_type, exc, tb):
        try:
            self.genn_model.unload()
        finally:
            if CompiledNetwork._context is self:
                CompiledNetwork._context = None

    def _engine_names(self):
        """``{engine identifier: user-facing name}`` of populations and
        connections (errors raised by the engine quote the identifiers)."""
        names = {}
        for groups in (self.neuron_populations, self.connection_populations):
            for obj, group in groups.items():
                names[getattr(group, "name", None)] = str(obj.name)
        names.pop(None, None)
        return names

    # -- argument checks (O(1) or O(data), never on the per-step path) -----
    def _check_loaded(self, what):
        if CompiledNetwork._context is not self and not getattr(self.genn_model, "_loaded",
                                                                 False):
            raise RuntimeError(f"{what} needs the compiled network to be loaded: call it "
                               "inside 'with compiled_net:'")

    def _get_pop(self, obj, arg):
        """The Population behind a key of ``arg`` (x, y, outputs...)."""
        try:
            pop = get_underlying_pop(obj)
        except RuntimeError:
            raise TypeError(f"{arg} must be keyed by Population or layer objects, not "
                            f"{type(obj).__name__} {obj!r}") from None
        if pop not in self.neuron_populations:
            raise ValueError(f"{arg}: population '{pop.name}' is not part of this compiled "
                             "network; use the populations of the network you compiled")
        return pop

    def _check_inputs(self, x, arg="x"):
        if not isinstance(x, Mapping):
            raise TypeError(f"{arg} must be a dict {{input population: data}}, not "
                            f"{type(x).__name__}")
        for key in x:
            pop = self._get_pop(key, arg)
            if not isinstance(pop.neuron, Input):
                inputs = [p.name for p in self.neuron_populations
                          if isinstance(p.neuron, Input)]
                raise ValueError(f"{arg} is keyed by population '{pop.name}' whose "
                                 f"{type(pop.neuron).__name__} neurons take no data; key "
                                 f"{arg} by an input population ("
                                 f"{', '.join(repr(n) for n in inputs) or 'none'})")

    def _batch_xy(self, x, y):
        """Check evaluate()'s ``x`` and ``y`` and split both into batches:
        returns ``(x_batches, y_batches, number of examples)``."""
        self._check_inputs(x, "x")
        if not isinstance(y, Mapping):
            raise TypeError(f"y must be a dict {{output population: labels}}, not "
                            f"{type(y).__name__}")
        self._check_outputs(y, "y")
        x_size, y_size = dataset_size(x, "x"), dataset_size(y, "y")
        if x_size != y_size:
            raise RuntimeError(f"x has {x_size} examples but y has {y_size}: give one "
                               "label (or target) per input example")
        batch_size = self.genn_model.batch_size
        return (batch_dataset(x, batch_size, x_size), batch_dataset(y, batch_size, y_size),
                x_size)

    def _check_outputs(self, outputs, arg="y"):
        for key in outputs:
            pop = self._get_pop(key, arg)
            if pop.neuron.readout is None:
                outs = [p.name for p in self.neuron_populations
                        if p.neuron.readout is not None]
                raise ValueError(f"{arg} is keyed by population '{pop.name}' which has no "
                                 f"readout; key {arg} by an output population ("
                                 f"{', '.join(repr(n) for n in outs) or 'none'}) or give "
                                 "its neuron a readout=")
