"""EventPropCompiler: exact gradients for spiking networks (EventProp,
Wunderlich & Pehle 2021; Nowotny et al. 2024).

The backward pass of trial (batch) ``k`` runs during the forward pass of
trial ``k + 1``, in reversed time: at forward time ``t`` the adjoint
variables are at ``backT = T - t - dt`` (``T = example_timesteps * dt``).
Every spiking population stores the times of its forward spikes (and, for
LIF neurons, ``I - V`` at each spike) in per-neuron ring buffers; a neuron
raises ``BackSpike`` one step before the backward pass reaches one of its
spikes, which (a) makes it handle the adjoint jump ("transition") in the
next step and (b) emits a spike-like event on its outgoing synapses, which
accumulate the weight gradient ``Gradient -= tau_syn * LambdaI_post`` and
send ``g * (LambdaV_post - LambdaI_post)`` back into the source's
``RevISyn``. Convolutions (``Conv2D``, ``Conv2DTranspose``) use kernel
connectivity (TOEPLITZ, else PROCEDURAL_KERNELG): one weight and one
``Gradient`` per kernel entry (per batch element), into which every synapse
sharing the entry adds with ``atomic_add_Gradient``. The gradient of
batch ``b`` is applied (Adam) at the end of batch ``b + 1``; the loss drive
of the outputs is off while the dynamic parameter ``Trial`` (the batch
index) is 0, so the first batch of an epoch runs no backward pass of the
previous epoch's last batch.

Scale of ``Gradient``: the output adjoints are driven as upstream mlGeNN
does, so ``Gradient`` is ``dL/dw / tau_mem`` (``tau_mem`` of the output
population) for cross-entropy on ``avg_var``/``avg_var_exp_weight``/
``max_var`` readouts and for per-timestep losses, ``dL/dw * dt / (tau_mem
* T)`` for ``sum_var``, and ``dL/dw`` for first-spike-time losses, where
``L`` is the loss averaged over the batch (summed for
``RelativeMeanSquareError``). Adam does not depend on the scale; keeping
upstream's keeps published regularisation strengths meaningful.

Delta synapses and adaptive LIF hidden neurons (beyond upstream). Notation:
``mu_X = dL/dX(t)``; the code's adjoints are ``LambdaV = -mu_V / (k tau_mem)``,
``LambdaI = -mu_I / (k tau_syn)``, ``LambdaA = -mu_A / (k tau_adapt)`` for
one constant ``k`` (the scale of ``Gradient`` above), so that ``Gradient``
is ``dL/dw / k`` and ``RevISyn`` collects ``(dL/dt_spike) / k`` from the
targets. At a spike at ``t_k`` where ``g(x) = 0`` (``g`` the threshold
function), with the jump ``x+ = h(x-)``, flow ``f`` and ``E = dL/dt_k`` of
the targets (and of the loss), the costate jumps (backwards) by
``mu- = h_x^T mu+ - g_x (mu+ . (h_x f- - f+) + E) / (g_x . f-)``.

* Delta synapse: a spike arriving at ``s`` jumps the target's ``V`` by
  ``J = c w`` (``c = 1 - Alpha`` with the target's ``scale_i``, else 1).
  ``dL/dw = c mu_V(s)``, so ``Gradient -= c tau_mem LambdaV_post``, read in
  the arrival step (``[d]`` steps back with a delay). Moving the arrival
  later by ``ds`` takes ``J`` off ``V`` over ``ds``: the state after it
  differs by ``+J ds / tau_mem`` and the loss integrand by ``-l_V J ds``, so
  ``dL/ds = -k J (LambdaV - D)`` with ``D = -l_V / k`` the loss drive of a
  LeakyIntegrate output (0 for a hidden target). The output keeps
  ``LambdaI = LambdaV - D`` for this (it has no synaptic current), a hidden
  source gets ``RevISyn += -c g LambdaI_post`` and a learned delay
  ``DelayGradient -= c g LambdaI_post``. A LIF neuron driven only by Delta
  synapses spikes only at a jump, in the arrival step: its spike times do
  not move with the weights (the gradient of the incoming weights is 0
  almost everywhere, and the engine's is exactly 0), and its transition is
  ``LambdaV <- 0`` for the absolute reset (``V`` after the spike does not
  depend on ``V`` before it) and nothing for the relative one. Carrying
  such a locked spike's timing back to the presynaptic spike is not
  implemented, so Delta synapses between hidden populations, learned
  delays of Delta synapses into hidden populations, and Delta synapses
  into ALIF neurons or LIF (first-spike-time) outputs are refused.
* Adaptive LIF (relative reset, no refractory period): ``tau_m dV/dt =
  -V + I``, ``tau_s dI/dt = -I``, ``tau_a dA/dt = -A``; threshold ``g = V -
  Vthresh - beta A``; at a spike ``V -= Vthresh - Vreset``, ``A += 1``
  (``h_x = 1``). Between spikes ``LambdaV *= Alpha``, ``LambdaI <-
  K LambdaV + exp(-dt/tau_s) LambdaI`` (as LIF), ``LambdaA *= Rho``. With
  ``D = tau_m g_x . f- = (I - V) + (tau_m / tau_a) beta A`` (before the
  reset, stored in ``RingIMinusV``) the jump is
  ``x = ((Vthresh - Vreset) LambdaV - LambdaA + RevISyn) / D``,
  ``LambdaV += x``, ``LambdaA -= beta (tau_m / tau_a) x`` (``beta = 0``
  gives the LIF transition). The ALIF's parameters ``A`` and ``Beta`` are
  its own, so its adjoint constants are ``LambdaIDecay``,
  ``LambdaICoupling`` and ``AdaptScale = beta tau_m / tau_a``; ALIF has no
  ``scale_i``, so ``IsynScale`` and the weights' current scale include
  ``1 / (1 - Alpha)``. The absolute reset (``h_x`` zero in ``V``) would need
  ``I - Vreset`` and ``A`` at the spike as well, and is refused.

Differences from upstream mlGeNN 2.4 (each the correct behaviour):

* Trials are independent: every connection's input accumulator and delay
  ring are cleared, and spikes still in flight dropped, when a batch starts
  (upstream zeroes the accumulators at the start of the last time step,
  which changes the forward pass it differentiates and lets the last
  step's spikes reach the next example; issue #190). No per-step callback
  is needed for it, so batches run in one native call.
* ``max_spikes`` is the capacity per neuron *per trial*: the ring keeps the
  trial being read backwards and the one being written (``2 * max_spikes``
  entries); a neuron's spikes beyond ``max_spikes`` in one trial are not
  stored (``strict_buffer_checking=True`` turns that into a RuntimeError
  after the batch instead of a silent loss of gradient).
* ``per_timestep_loss=True`` with cross-entropy works.
* The softmax of first-spike times uses ``softmax_temperature``, the
  temperature the cross-entropy gradient is computed with (upstream
  normalises with temperature 1).
* The adjoint jump at a spike uses ``(Vthresh - Vreset) * LambdaV`` (the
  voltage lost in the reset; upstream assumes ``Vreset = 0``), and the
  currents follow each population's ``scale_i`` settings (upstream assumes
  ``default_params``).
* Non-trainable connections (``AvgPool2D``) still carry the adjoint back to
  a hidden source; fixed and learned delays read the postsynaptic adjoint
  ``d`` steps back for the ``RevISyn`` term too.
* Contributions the forward pass could not have had (a delayed spike that
  would arrive after the end of the trial) are not counted.
* Unsupported losses raise ``NotImplementedError`` naming them (upstream
  raises a ``NameError`` while formatting its message).
"""
from .callbacks import (CustomUpdateOnBatchEndNotFirst, CustomUpdateOnFirstBatchEnd,
                        CustomUpdateOnLastTimestep, UpdateTrial)
from .compiler import EventPropCompiler, default_params

__all__ = ["EventPropCompiler", "default_params", "UpdateTrial",
           "CustomUpdateOnLastTimestep", "CustomUpdateOnBatchEndNotFirst",
           "CustomUpdateOnFirstBatchEnd"]
