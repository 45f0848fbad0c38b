"""Public surface (spec §1.2) and object model (spec §2) of ml_genn."""
import weakref

import numpy as np
import pytest

import ml_genn
from ml_genn import (Connection, InputLayer, Layer, Network, Population, SequentialNetwork)
from ml_genn.connectivity import Dense
from ml_genn.neurons import IntegrateFire, LeakyIntegrateFire
from ml_genn.synapses import Exponential

SPEC_ALL = {
    "callbacks": {"Callback", "Checkpoint", "ConnVarRecorder", "CustomUpdateOnBatchBegin",
                  "CustomUpdateOnBatchEnd", "CustomUpdateOnTimestepBegin",
                  "CustomUpdateOnTimestepEnd", "OptimiserParamSchedule", "BatchProgressBar",
                  "SpikeRecorder", "VarRecorder", "default_callbacks"},
    "communicators": {"Communicator", "MPI"},
    "connectivity": {"AvgPool2D", "AvgPoolConv2D", "AvgPoolDense2D", "Connectivity", "Conv2D",
                     "Conv2DTranspose", "Dense", "FixedProbability", "OneToOne",
                     "default_connectivity"},
    "initializers": {"Initializer", "Normal", "Uniform", "Wrapper", "default_initializers"},
    "losses": {"MeanSquareError", "Loss", "RelativeMeanSquareError",
               "SparseCategoricalCrossentropy", "default_losses"},
    "metrics": {"MeanSquareError", "Metric", "MetricType", "MetricsType",
                "SparseCategoricalAccuracy", "default_metrics"},
    "neurons": {"AdaptiveLeakyIntegrateFire", "BinarySpikeInput", "FewSpikeRelu",
                "FewSpikeReluInput", "Input", "IntegrateFire", "IntegrateFireInput",
                "LeakyIntegrate", "LeakyIntegrateFire", "LeakyIntegrateFireInput", "Neuron",
                "PoissonInput", "SpikeInput", "default_neurons"},
    "optimisers": {"Adam", "Optimiser", "default_optimisers"},
    "readouts": {"AvgVar", "AvgVarExpWeight", "FirstSpikeTime", "MaxVar", "Readout",
                 "SpikeCount", "SumVar", "Var", "default_readouts"},
    "serialisers": {"Serialiser", "Numpy", "default_serialisers"},
    "synapses": {"Synapse", "Delta", "Exponential", "default_synapses"},
}
SPEC_REGISTRIES = {
    ("callbacks", "default_callbacks"): {"batch_progress_bar", "checkpoint"},
    ("connectivity", "default_connectivity"): set(),
    ("initializers", "default_initializers"): {"normal", "uniform"},
    ("losses", "default_losses"): {"mean_square_error", "sparse_categorical_crossentropy"},
    ("metrics", "default_metrics"): {"mean_square_error", "sparse_categorical_accuracy"},
    ("optimisers", "default_optimisers"): {"adam"},
    ("readouts", "default_readouts"): {"avg_var", "avg_var_exp_weight", "first_spike_time",
                                       "max_var", "spike_count", "sum_var", "var"},
    ("serialisers", "default_serialisers"): {"numpy"},
    ("synapses", "default_synapses"): {"delta", "exponential"},
}


@pytest.mark.parametrize("package", sorted(SPEC_ALL))
def test_package_all_matches_spec(package):
    assert set(getattr(ml_genn, package).__all__) == SPEC_ALL[package]


@pytest.mark.parametrize("key", sorted(SPEC_REGISTRIES))
def test_registries_match_spec(key):
    package, name = key
    assert set(getattr(getattr(ml_genn, package), name)) == SPEC_REGISTRIES[key]


def test_top_level_names_and_utils_modules():
    assert set(ml_genn.__all__) >= {"Connection", "InputLayer", "Layer", "Network",
                                    "Population", "SequentialNetwork", "utils"}
    for mod in ("data", "filter", "value", "model", "module", "decorators",
                "callback_list", "network", "connectivity", "snippet"):
        assert hasattr(ml_genn.utils, mod)
    from ml_genn.compilers.compiler import SupportedMatrixType  # noqa: F401


def test_object_model_weakrefs_names_and_copies():
    neuron = IntegrateFire(v_thresh=2.0)
    net = Network()
    with net:
        a = Population(neuron, 3)
        b = Population(neuron, 2)
        conn = Connection(a, b, Dense(np.ones((3, 2))))
    assert net.populations == [a, b] and net.connections == [conn]
    assert a.neuron is not neuron and a.neuron is not b.neuron      # copied
    assert isinstance(conn.source, weakref.ref) and conn.source() is a
    assert conn.target() is b
    assert a.outgoing_connections[0]() is conn and b.incoming_connections[0]() is conn
    assert a.name.startswith("Pop") and conn.name == f"Conn_{a.name}_{b.name}"
    assert str(a) == a.name and a.shape == (3,)


def test_network_context_rules():
    with pytest.raises(RuntimeError, match="with network"):
        Population(IntegrateFire(), 3)
    net = Network()
    with net:
        with pytest.raises(RuntimeError, match="nested"):
            with Network():
                pass


def test_network_default_params():
    net = Network({LeakyIntegrateFire: {"tau_mem": 5.0}, Exponential: {"tau": 2.0}})
    with net:
        assert LeakyIntegrateFire().tau_mem == 5.0
        assert LeakyIntegrateFire(tau_mem=7.0).tau_mem == 7.0
        assert LeakyIntegrateFire(1.0, 0.0, 0.0, 9.0).tau_mem == 9.0
        assert Exponential().tau == 2.0
    assert LeakyIntegrateFire().tau_mem == 20.0


def test_sequential_layers():
    net = SequentialNetwork()
    with net:
        inp = InputLayer("integrate_fire_input", 4)
        hid = Layer(Dense(np.ones((4, 3))), "integrate_fire", 3)
    assert inp.connection is None and inp.population().shape == (4,)
    assert hid.connection().source() is inp.population()
    assert hid.connection().name == f"Conn_{inp.population().name}_{hid.population().name}"
    assert net.layers == [inp, hid]
