"""FewSpikeCompiler: few-spike (temporally coded) ReLU networks, pipelined.

Each presentation lasts ``k`` steps.  A population at pipeline depth d
produces the result of the input presented d presentations earlier;
connections that skip layers are delayed so all inputs of a population
arrive in the same presentation.
"""
from collections import deque

import numpy as np

from ..callbacks import BatchProgressBar
from ..metrics import Metric, SparseCategoricalAccuracy, default_metrics
from ..neurons import FewSpikeRelu, FewSpikeReluInput
from ..readouts import Var
from ..synapses import Delta
from ..utils.callback_list import CallbackList
from ..utils.checks import check_positive_int
from ..utils.data import batch_dataset, get_dataset_size
from ..utils.module import get_object_mapping
from ..utils.network import get_network_dag, get_underlying_pop
from ..utils.value import is_value_constant
from .compiled_network import CompiledNetwork, batch_dicts, check_labels, dataset_size
from .compiler import Compiler
from .inference_compiler import _matrix_priority


class CompiledFewSpikeNetwork(CompiledNetwork):
    def __init__(self, genn_model, neuron_populations, connection_populations,
                 communicator, k: int, pop_pipeline_depth: dict):
        super().__init__(genn_model, neuron_populations, connection_populations,
                         communicator, k)
        self.k = k
        self.pop_pipeline_depth = pop_pipeline_depth

    def evaluate(self, x: dict, y: dict, metrics="sparse_categorical_accuracy",
                 callbacks=None):
        self._check_loaded("evaluate()")
        x_batches, y_batches, x_size = self._batch_xy(x, y)
        return self._evaluate(list(y.keys()), zip(x_batches, y_batches), len(x_batches),
                              metrics, callbacks)

    def evaluate_batch_iter(self, inputs, outputs, data, num_batches=None,
                            metrics="sparse_categorical_accuracy", callbacks=None):
        """Present batches until the data and every queued label are used up."""
        self._check_loaded("evaluate_batch_iter()")
        _, out_list, pairs = batch_dicts(inputs, outputs, data)
        return self._evaluate(out_list, pairs, num_batches, metrics, callbacks)

    def _evaluate(self, out_list, data, num_batches, metrics, callbacks):
        """``data``: ``({input: x}, {output: labels})`` per batch."""
        self._check_outputs(out_list, "outputs")
        metrics = get_object_mapping(metrics, out_list, Metric, "Metric", default_metrics)

        def update(o, y_true, y_pred):
            if isinstance(metrics[o], SparseCategoricalAccuracy):
                check_labels(get_underlying_pop(o), y_true)
            metrics[o].update(y_true, y_pred[:len(y_true)], self.communicator)
        cb_data = self._present(out_list, data, num_batches, callbacks, update, metrics)
        return metrics, cb_data

    def predict(self, x: dict, outputs, callbacks=None):
        """Readouts of ``outputs`` for every example (each read when the
        example reaches the output's pipeline depth): ``(dict, callback_data)``."""
        self._check_loaded("predict()")
        self._check_inputs(x, "x")
        size = dataset_size(x, "x")
        out_list = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        self._check_outputs(out_list, "outputs")
        batches = batch_dataset(x, self.genn_model.batch_size, size)
        # the "labels" queued per batch are the example counts of that batch
        data = ((bx, {o: get_dataset_size(bx) for o in out_list}) for bx in batches)
        results = {o: [] for o in out_list}

        def collect(o, count, y_pred):
            results[o].append(y_pred[:int(count)])
        cb_data = self._present(out_list, data, len(batches), callbacks, collect, {})
        return {o: np.concatenate(r)[:size] for o, r in results.items()}, cb_data

    def _present(self, out_list, data, num_batches, callbacks, on_output, metrics):
        """The pipelined presentation loop shared by evaluate and predict:
        ``data`` yields ``({input: x}, {output: item})`` per batch.

        Each queued item (labels, or example counts for predict) is handed to
        ``on_output(output, item, readout)`` once its batch has reached the
        output's depth."""
        depths = {}
        for o in out_list:
            pop = get_underlying_pop(o)
            if pop not in self.pop_pipeline_depth:
                raise ValueError(f"population '{pop.name}' is not reachable from the inputs "
                                 "given to compile(inputs=...); it cannot be read")
            depths[o] = self.pop_pipeline_depth[pop]
        max_depth = max(depths.values())
        total = None if num_batches is None else num_batches + max_depth
        callbacks = [BatchProgressBar()] if callbacks is None else callbacks
        callback_list = CallbackList(callbacks, compiled_network=self, num_batches=total)
        queued = {o: deque() for o in out_list}
        data = iter(data)
        remaining = True
        batch_i = 0
        callback_list.on_test_begin()
        while True:
            batch = next(data, None) if remaining else None
            if batch is None:
                remaining = False
                if not any(queued.values()):
                    break
            self.genn_model.timestep = 0
            if batch is not None:
                batch_x, batch_y = batch
                self.set_input(batch_x)
                for o in out_list:
                    queued[o].append(np.asarray(batch_y[o]))
            callback_list.on_batch_begin(batch_i)
            self.run_steps(self.k, callback_list)
            for o in out_list:
                if batch_i >= depths[o] and queued[o]:
                    on_output(o, queued[o].popleft(), self.get_readout(o))
            callback_list.on_batch_end(batch_i, metrics)
            batch_i += 1
        callback_list.on_test_end(metrics)
        return callback_list.get_data()


class FewSpikeCompiler(Compiler):
    def __init__(self, k: int = 10, dt: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                 kernel_profiling: bool = False, prefer_in_memory_connect: bool = True,
                 communicator=None, **genn_kwargs):
        k = check_positive_int(type(self).__name__, "k", k,
                               " (the number of time steps per presentation)")
        super().__init__(_matrix_priority(prefer_in_memory_connect), dt, batch_size,
                         rng_seed, kernel_profiling, communicator, **genn_kwargs)
        self.k = k

    def compile(self, network, name=None, inputs=None, outputs=None, **kwargs):
        if inputs is None or outputs is None:
            raise RuntimeError("FewSpikeCompiler.compile needs inputs= and outputs= (the "
                               "populations data enters and results are read from)")
        return super().compile(network, name, inputs=inputs, outputs=outputs, **kwargs)

    def pre_compile(self, network, genn_model, inputs=None, outputs=None, **kwargs):
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for pop in network.populations:
            if not isinstance(pop.neuron, (FewSpikeRelu, FewSpikeReluInput)):
                raise NotImplementedError(
                    f"population '{pop.name}' uses {type(pop.neuron).__name__}; the "
                    "FewSpikeCompiler only supports FewSpikeRelu and FewSpikeReluInput")
            if pop.neuron.readout is not None and not isinstance(pop.neuron.readout, Var):
                raise NotImplementedError(
                    f"population '{pop.name}': the FewSpikeCompiler only supports the "
                    f"'var' readout, not {type(pop.neuron.readout).__name__}")
        for conn in network.connections:
            if not isinstance(conn.synapse, Delta):
                raise NotImplementedError(f"connection '{conn.name}': the FewSpikeCompiler "
                                          "only supports Delta synapses")
        order = get_network_dag(inputs, outputs)
        input_pops = {get_underlying_pop(i) for i in inputs}
        depth, next_depth, conn_delay = {}, {}, {}
        for pop in order:
            if pop in input_pops:
                depth[pop] = next_depth[pop] = 0
                continue
            sources = [c().source() for c in pop.incoming_connections]
            depth[pop] = max(next_depth[s] for s in sources)
            next_depth[pop] = depth[pop] + 1
            for c in pop.incoming_connections:
                conn_delay[c()] = (depth[pop] - next_depth[c().source()]) * self.k
        return {"depth": depth, "conn_delay": conn_delay}

    def build_neuron_model(self, pop, model, compile_state):
        model = super().build_neuron_model(pop, model, compile_state)
        if pop.neuron.readout is not None:
            model = pop.neuron.readout.add_readout_logic(model, example_timesteps=self.k,
                                                         dt=self.dt)
        return model

    def apply_delay(self, genn_pop, conn, delay, compile_state):
        if not (is_value_constant(delay) and delay == 0):
            raise NotImplementedError(f"connection '{conn.name}': the FewSpikeCompiler sets "
                                      "delays itself; connectivity delays must be 0")
        genn_pop.axonal_delay_steps = compile_state["conn_delay"].get(conn, 0)

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        return CompiledFewSpikeNetwork(genn_model, neuron_populations,
                                       connection_populations, self.communicator, self.k,
                                       compile_state["depth"])
