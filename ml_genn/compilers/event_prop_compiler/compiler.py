"""EventPropCompiler: its options, and the class that joins the checks,
the neuron, weight-update and custom-update builders (the mixins of the
other modules of this package). The method is described in the package
docstring."""
from ...genn import SynapseMatrixType
from ...neurons import LeakyIntegrate, LeakyIntegrateFire, LeakyIntegrateFireInput
from ...synapses import Exponential
from ...utils.checks import check_positive_finite, check_positive_int
from ..compiler import (Compiler, check_losses, check_optimiser, connection_dict,
                        connection_list)
from .checks import _NetworkChecks, _check_lambda
from .custom_updates import _TrainingCustomUpdates
from .neuron_models import _AdjointNeuronModels
from .weight_updates import _GradientWeightUpdates

#: Network default parameters the EventProp equations assume (pass to ``Network``)
default_params = {
    LeakyIntegrate: {"scale_i": True},
    LeakyIntegrateFire: {"relative_reset": False, "integrate_during_refrac": False,
                         "scale_i": True},
    LeakyIntegrateFireInput: {"relative_reset": False, "integrate_during_refrac": False,
                              "scale_i": True},
    Exponential: {"scale_i": True}}


class EventPropCompiler(_NetworkChecks, _AdjointNeuronModels, _GradientWeightUpdates,
                        _TrainingCustomUpdates, Compiler):
    """Compile a network for training with EventProp.

    Args:
        example_timesteps: time steps each example is presented for
        losses: loss (name or object) for every output, or a dict keyed by
            output population/layer
        optimiser: weight optimiser (name or object; default Adam)
        reg_lambda_upper: spike-count regularisation strength above the
            target, a number for every hidden population or a dict keyed by
            population/layer (missing ones: 0)
        reg_lambda_lower: likewise below the target
        reg_nu_upper: target number of spikes per neuron per example
        max_spikes: spikes per neuron per trial the backward pass can hold
        strict_buffer_checking: raise RuntimeError after a batch in which a
            neuron had more spikes than ``max_spikes``
        per_timestep_loss: cross-entropy of the softmax of ``V`` at every
            step instead of one loss on the readout per trial
        dt: time step (ms)
        ttfs_alpha: weight of the early-spike term of first-spike-time
            cross-entropy (``ttfs_alpha / (1.01 T - t_correct)``)
        softmax_temperature: temperature of the softmax over negated
            first-spike times
        batch_size: examples simulated at once
        rng_seed: engine random seed (0: random)
        kernel_profiling: record engine timings
        communicator: data-parallel training over the ranks of a Communicator
        delay_optimiser: optimiser of learned delays (default: a copy of
            ``optimiser``'s kind)
        delay_learn_conns: connections/layers whose delays are learned (each
            needs ``max_delay_steps``)
        deep_r_conns: sparse connections rewired by Deep-R
        deep_r_l1_strength: Deep-R's L1 regularisation
        deep_r_record_rewirings: ``{connection/layer: callback-data key}``
        **genn_kwargs: forwarded to the engine (``GeNNModel``)
    """

    def __init__(self, example_timesteps: int, losses, optimiser="adam",
                 reg_lambda_upper={}, reg_lambda_lower={}, reg_nu_upper: float = 0.0,
                 max_spikes: int = 500, strict_buffer_checking: bool = False,
                 per_timestep_loss: bool = False, dt: float = 1.0, ttfs_alpha: float = 0.01,
                 softmax_temperature: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                 kernel_profiling: bool = False, communicator=None, delay_optimiser=None,
                 delay_learn_conns: list = [], deep_r_conns: list = [],
                 deep_r_l1_strength: float = 0.01, deep_r_record_rewirings: dict = {},
                 **genn_kwargs):
        owner = type(self).__name__
        example_timesteps = check_positive_int(owner, "example_timesteps", example_timesteps)
        super().__init__([SynapseMatrixType.TOEPLITZ, SynapseMatrixType.PROCEDURAL_KERNELG,
                          SynapseMatrixType.DENSE, SynapseMatrixType.SPARSE], dt,
                         batch_size, rng_seed, kernel_profiling, communicator, **genn_kwargs)
        self.example_timesteps = example_timesteps
        self.losses = check_losses(owner, losses)
        self.optimiser = check_optimiser(owner, optimiser)
        self.delay_optimiser = check_optimiser(
            owner, optimiser if delay_optimiser is None else delay_optimiser)
        for name, value in (("reg_lambda_upper", reg_lambda_upper),
                            ("reg_lambda_lower", reg_lambda_lower)):
            # numbers now; the dicts' keys once the network is known
            for v in (value.values() if isinstance(value, dict) else [value]):
                _check_lambda(name, v)
        self.reg_lambda_upper = reg_lambda_upper
        self.reg_lambda_lower = reg_lambda_lower
        self.reg_nu_upper = _check_lambda("reg_nu_upper", reg_nu_upper)
        self.max_spikes = check_positive_int(owner, "max_spikes", max_spikes)
        self.strict_buffer_checking = bool(strict_buffer_checking)
        self.per_timestep_loss = bool(per_timestep_loss)
        self.ttfs_alpha = _check_lambda("ttfs_alpha", ttfs_alpha)
        self.softmax_temperature = check_positive_finite(owner, "softmax_temperature",
                                                         softmax_temperature)
        # the ring index (2 * max_spikes) is a 32-bit literal in the engine code
        if self.max_spikes >= 2 ** 31:
            raise ValueError(f"{owner}: max_spikes must be below 2**31 (spikes per neuron "
                             f"per trial), got {self.max_spikes}")
        self.delay_learn_conns = connection_list(owner, "delay_learn_conns", delay_learn_conns)
        self.deep_r_conns = connection_list(owner, "deep_r_conns", deep_r_conns)
        self.deep_r_l1_strength = _check_lambda("deep_r_l1_strength", deep_r_l1_strength)
        self.deep_r_record_rewirings = connection_dict(owner, "deep_r_record_rewirings",
                                                       deep_r_record_rewirings)

    @property
    def _example_time(self):
        return self.example_timesteps * self.dt
