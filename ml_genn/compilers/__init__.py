"""Compilers: turn a Network into a runnable engine model."""
from .compiled_network import CompiledNetwork
from .compiled_training_network import CompiledTrainingNetwork
from .compiler import Compiler
from .eprop_compiler import EPropCompiler
from .event_prop_compiler import EventPropCompiler
from .few_spike_compiler import CompiledFewSpikeNetwork, FewSpikeCompiler
from .inference_compiler import CompiledInferenceNetwork, InferenceCompiler

__all__ = ["Compiler", "CompiledFewSpikeNetwork", "CompiledInferenceNetwork",
           "CompiledNetwork", "CompiledTrainingNetwork", "EPropCompiler",
           "EventPropCompiler", "FewSpikeCompiler", "InferenceCompiler"]
