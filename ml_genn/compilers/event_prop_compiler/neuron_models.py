"""Neuron models of EventProp: the adjoint variables and their backward
dynamics added to each population's forward model, the spike ring buffers
the backward pass reads, and the loss drive of the outputs."""
import numpy as np

from ...genn import VarAccess
from ...losses import MeanSquareError, SparseCategoricalCrossentropy
from ...neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate
from ...neurons.input import Input
from ...readouts import AvgVarExpWeight, MaxVar
from .scales import _AdjointScales, _adjoint_coupling, _lit

# type of the ring offsets (read by the batch reset in custom_updates)
_OFFSET = "unsigned int"


class _AdjointNeuronModels(_AdjointScales):
    """``build_neuron_model`` and its builders (mixin of ``EventPropCompiler``,
    whose options they read)."""

    def build_neuron_model(self, pop, model, compile_state):
        state = compile_state
        # super(): the next class in EventPropCompiler's MRO with one, Compiler
        model = super().build_neuron_model(pop, model, compile_state)
        if isinstance(pop.neuron, Input):
            self._add_ring(pop, model, state, lif=False, adjoint="", transition="")
        elif pop in state.losses:
            if isinstance(pop.neuron, LeakyIntegrate):
                model = self._build_li_output(pop, model, state)
            else:
                model = self._build_lif_output(pop, model, state)
        else:
            self._build_hidden(pop, model, state)
        state.models[pop] = model
        return model

    def _lif_adjoint_params(self, pop, model, state):
        """Parameters of the LIF adjoint dynamics and of ``I - V``."""
        tau_mem, tau_syn = float(pop.neuron.tau_mem), state.tau_syn[pop]
        model.add_param("Beta", "scalar", np.exp(-self.dt / tau_syn))
        model.add_param("A", "scalar", _adjoint_coupling(tau_mem, tau_syn, self.dt))
        model.add_param("IsynScale", "scalar", self._current_scale(pop, tau_syn))
        model.add_var("LambdaV", "scalar", 0.0)
        model.add_var("LambdaI", "scalar", 0.0)

    def _add_ring(self, pop, model, state, lif: bool, adjoint: str, transition: str,
                  ring_value: str = "(Isyn * IsynScale) - V"):
        """Spike ring buffers, backward spike detection and the adjoint code
        (prepended to the neuron's own sim code)."""
        m, ring = self.max_spikes, 2 * self.max_spikes
        size = self.batch_size * int(np.prod(pop.shape)) * ring
        if size >= 2 ** 32:
            # the engine code indexes the rings with 32-bit unsigned integers
            raise ValueError(
                f"EventPropCompiler: the spike ring buffers of population '{pop.name}' "
                f"would hold batch_size * neurons * 2 * max_spikes = {self.batch_size} * "
                f"{int(np.prod(pop.shape))} * {ring} = {size} entries, more than 32-bit "
                "indices reach (2**32 - 1); lower max_spikes or the batch size")
        for name in ("RingWriteOffset", "RingReadOffset", "RingWriteStartOffset",
                     "RingReadEndOffset"):
            model.add_var(name, _OFFSET, 0)
        model.add_var("BackSpike", "uint8_t", 0)
        model.add_egp("RingSpikeTime", "scalar*", np.zeros(size, dtype=np.float32))
        if lif:
            model.add_egp("RingIMinusV", "scalar*", np.zeros(size, dtype=np.float32))
        if self.strict_buffer_checking:
            model.add_var("RingDropped", _OFFSET, 0)
        model.prepend_sim_code(f"""
            const unsigned int ringOffset = ((batch * num_neurons) + id) * {ring}u;
            const scalar backT = {_lit(self._example_time)} - t - dt;
            {adjoint}
            if (BackSpike) {{
                {transition}
                BackSpike = 0;
            }}
            // a spike of the trial's last step reached nothing: skip it
            if (RingReadOffset != RingReadEndOffset
                && RingSpikeTime[ringOffset + ((RingReadOffset - 1u) % {ring}u)]
                   > (backT - (0.5 * dt))) {{
                RingReadOffset--;
            }}
            if (RingReadOffset != RingReadEndOffset) {{
                const scalar backSpikeT =
                    RingSpikeTime[ringOffset + ((RingReadOffset - 1u) % {ring}u)];
                if (fabs(backT - backSpikeT - dt) < (0.5 * dt)) {{
                    RingReadOffset--;
                    BackSpike = 1;
                }}
            }}
            """)
        i_minus_v = ("\n    RingIMinusV[ringOffset + (RingWriteOffset % "
                     f"{ring}u)] = {ring_value};") if lif else ""
        dropped = "\nelse {\n    RingDropped++;\n}" if self.strict_buffer_checking else ""
        model.prepend_reset_code(
            f"if ((RingWriteOffset - RingWriteStartOffset) < {m}u) {{\n"
            f"    RingSpikeTime[ringOffset + (RingWriteOffset % {ring}u)] = t;{i_minus_v}\n"
            f"    RingWriteOffset++;\n}}{dropped}")
        state.ring_pops.append(pop)

    def _build_hidden(self, pop, model, state):
        alif = isinstance(pop.neuron, AdaptiveLeakyIntegrateFire)
        delta = state.tau_syn[pop] is None
        if alif:
            # ALIF's own params are called A (its adaptation var) and Beta
            tau_mem, tau_syn = float(pop.neuron.tau_mem), state.tau_syn[pop]
            model.add_param("LambdaIDecay", "scalar", np.exp(-self.dt / tau_syn))
            model.add_param("LambdaICoupling", "scalar",
                            _adjoint_coupling(tau_mem, tau_syn, self.dt))
            model.add_param("IsynScale", "scalar", self._current_scale(pop, tau_syn))
            model.add_param("AdaptScale", "scalar", float(pop.neuron.beta) * tau_mem
                            / float(pop.neuron.tau_adapt))
            model.add_var("LambdaV", "scalar", 0.0)
            model.add_var("LambdaI", "scalar", 0.0)
            model.add_var("LambdaA", "scalar", 0.0)
        elif delta:
            model.add_var("LambdaV", "scalar", 0.0)
        else:
            self._lif_adjoint_params(pop, model, state)
        model.add_additional_input_var("RevISyn", "scalar", 0.0)
        reg = ""
        if pop in state.reg:
            upper, lower = state.reg[pop]
            b = self.full_batch_size
            model.add_var("SpikeCount", "scalar", 0.0)
            model.add_var("SpikeCountBackBatch", "scalar", 0.0, VarAccess.READ_ONLY)
            model.add_param("RegNuUpperBatch", "scalar", self.reg_nu_upper * b)
            model.add_param("RegLambdaUpper", "scalar", upper / (b * b))
            model.add_param("RegLambdaLower", "scalar", lower / (b * b))
            model.prepend_reset_code("SpikeCount += 1.0;")
            reg = """
            if (SpikeCountBackBatch > RegNuUpperBatch) {
                LambdaV -= RegLambdaUpper * (SpikeCountBackBatch - RegNuUpperBatch);
            }
            else {
                LambdaV -= RegLambdaLower * (SpikeCountBackBatch - RegNuUpperBatch);
            }"""
        ring = 2 * self.max_spikes
        if alif:
            # the ring keeps tau_mem * (d/dt)(V - Vthresh - Beta * A) before the spike
            self._add_ring(pop, model, state, lif=True, adjoint="""
            LambdaI = (LambdaICoupling * LambdaV) + (LambdaIDecay * LambdaI);
            LambdaV *= Alpha;
            LambdaA *= Rho;""", transition=f"""
            const scalar slope = RingIMinusV[ringOffset + (RingReadOffset % {ring}u)];
            const scalar jump = (((Vthresh - Vreset) * LambdaV) - LambdaA + RevISyn) / slope;
            LambdaV += jump;
            LambdaA -= AdaptScale * jump;{reg}""",
                           ring_value="(Isyn * IsynScale) - V + (AdaptScale * A)")
        elif delta:
            # every spike is caused by a Delta jump and happens at its arrival
            # time: it does not move with the weights, and the absolute reset
            # makes V after it independent of V before it
            self._add_ring(pop, model, state, lif=False, adjoint="""
            LambdaV *= Alpha;""", transition=("" if pop.neuron.relative_reset
                                               else "LambdaV = 0.0;") + reg)
        else:
            self._add_ring(pop, model, state, lif=True, adjoint="""
            LambdaI = (A * LambdaV) + (Beta * LambdaI);
            LambdaV *= Alpha;""", transition=f"""
            const scalar iMinusV = RingIMinusV[ringOffset + (RingReadOffset % {ring}u)];
            LambdaV += (((Vthresh - Vreset) * LambdaV) + RevISyn) / iMinusV;{reg}""")

    def _add_trial(self, model):
        model.add_param("Trial", "int", 0)
        model.set_param_dynamic("Trial")

    def _build_li_output(self, pop, model, state):
        loss = state.losses[pop]
        readout = pop.neuron.readout
        tau_mem, tau_syn = float(pop.neuron.tau_mem), state.tau_syn[pop]
        loss.add_to_neuron(model, pop.shape, self.batch_size, self.example_timesteps)
        max_time = isinstance(readout, MaxVar) and not self.per_timestep_loss
        model = readout.add_readout_logic(model, example_timesteps=self.example_timesteps,
                                          dt=self.dt, max_time_required=max_time)
        self._add_trial(model)
        # Delta synapses (tau_syn None): LambdaI is not read (it follows the drive)
        model.add_param("Beta", "scalar", 0.0 if tau_syn is None
                        else np.exp(-self.dt / tau_syn))
        model.add_param("A", "scalar", 0.0 if tau_syn is None
                        else _adjoint_coupling(tau_mem, tau_syn, self.dt))
        model.add_var("LambdaV", "scalar", 0.0)
        model.add_var("LambdaI", "scalar", 0.0)
        t_total = self._example_time
        b = self.full_batch_size
        per_timestep = self.per_timestep_loss or isinstance(loss, MeanSquareError)
        if per_timestep:
            steps = self.example_timesteps
            n = int(np.prod(pop.shape))
            model.add_egp("RingOutputLossTerm", "scalar*",
                          np.zeros(self.batch_size * n * 2 * steps, dtype=np.float32))
            model.add_param("DriveScale", "scalar", 1.0 / (tau_mem * b * t_total))
            # two halves per neuron: the trial written now and the one read back
            write = f"((((batch * num_neurons) + id) * 2u) + (((int)Trial) & 1)) * {steps}u"
            read = f"((((batch * num_neurons) + id) * 2u) + (1 - (((int)Trial) & 1))) * {steps}u"
            if isinstance(loss, SparseCategoricalCrossentropy):
                # the softmax of V after each step comes from custom updates:
                # its error is stored at the start of the next step (the last
                # step's at the start of the next trial, in the other half)
                model.add_var("Softmax", "scalar", 0.0)
                model.add_var("YTrueBack", "uint8_t", 0)
                store = f"""
                if (step > 0) {{
                    RingOutputLossTerm[{write} + step - 1] =
                        ((id == YTrue) ? 1.0 : 0.0) - Softmax;
                }}
                else {{
                    RingOutputLossTerm[{read} + {steps - 1}] =
                        ((id == YTrueBack) ? 1.0 : 0.0) - Softmax;
                }}"""
                after = ""
            else:
                store = ""
                after = f"RingOutputLossTerm[{write} + step] = yTrue - V;"
            drive = f"""
            const int step = (int)round(t / dt);{store}
            scalar drive = 0.0;
            if (Trial > 0) {{
                drive = RingOutputLossTerm[{read} + {steps - 1} - step] * DriveScale;
            }}"""
        else:
            model.add_var("Softmax", "scalar", 0.0)
            model.add_var("YTrueBack", "uint8_t", 0)
            err = "(((id == YTrueBack) ? 1.0 : 0.0) - Softmax)"
            after = ""
            if isinstance(readout, MaxVar):
                # the max is an impulse at its time: one step of drive D adds
                # (1 - Alpha) * D to LambdaV
                alpha = np.exp(-self.dt / tau_mem)
                model.add_param("DriveScale", "scalar",
                                1.0 / (tau_mem * tau_mem * b * (1.0 - alpha)))
                model.add_var("VMaxTimeBack", "scalar", 0.0)
                cond = "Trial > 0 && fabs(backT - VMaxTimeBack) < (0.5 * dt)"
                value = f"{err} * DriveScale"
            else:
                model.add_param("DriveScale", "scalar", 1.0 / (tau_mem * b * t_total))
                cond = "Trial > 0"
                value = f"{err} * DriveScale"
                if isinstance(readout, AvgVarExpWeight):
                    value += f" * exp(-backT / {_lit(t_total)})"
            drive = f"""
            scalar drive = 0.0;
            if ({cond}) {{
                drive = {value};
            }}"""
        if tau_syn is None:
            # Delta synapses: LambdaI is what moving a V jump in time sees,
            # LambdaV minus the loss drive (the drive of MaxVar is an impulse)
            lambda_i = ("LambdaI = LambdaV;" if isinstance(readout, MaxVar)
                        and not per_timestep else "LambdaI = LambdaV - drive;")
        else:
            lambda_i = "LambdaI = drive + ((LambdaI - drive) * Beta) + (A * (LambdaV - drive));"
        model.prepend_sim_code(f"""
            const scalar backT = {_lit(t_total)} - t - dt;{drive}
            {lambda_i}
            LambdaV = drive + ((LambdaV - drive) * Alpha);
            """)
        if after:
            model.append_sim_code(after)
        return model

    def _build_lif_output(self, pop, model, state):
        loss = state.losses[pop]
        loss.add_to_neuron(model, pop.shape, self.batch_size, self.example_timesteps)
        model = pop.neuron.readout.add_readout_logic(
            model, example_timesteps=self.example_timesteps, dt=self.dt)
        self._add_trial(model)
        self._lif_adjoint_params(pop, model, state)
        model.add_var("YTrueBack", "uint8_t", 0)
        model.add_var("TFirstSpikeBack", "scalar", float(-np.finfo(np.float32).max))
        t_total = self._example_time
        b = self.full_batch_size
        ring = 2 * self.max_spikes
        first = "Trial > 0 && fabs(backT + TFirstSpikeBack) < (0.5 * dt)"
        if isinstance(loss, SparseCategoricalCrossentropy):
            model.add_var("Softmax", "scalar", 0.0)
            model.add_param("TauSoftmax", "scalar", self.softmax_temperature)
            model.add_param("TTFSAlpha", "scalar", self.ttfs_alpha)
            model.add_param("NumBatch", "scalar", float(b))
            adjoint = f"""
            LambdaI = (A * LambdaV) + (Beta * LambdaI);
            LambdaV *= Alpha;
            if (Trial > 0 && t == 0.0 && id == YTrueBack && TFirstSpikeBack < {_lit(-t_total)}) {{
                LambdaV += TTFSAlpha / ({_lit(1e-4 * t_total * t_total)} * NumBatch);
            }}"""
            jump = f"""
            if ({first}) {{
                if (id == YTrueBack) {{
                    const scalar early = {_lit(1.01 * t_total)} + TFirstSpikeBack;
                    LambdaV += (((1.0 - Softmax) / TauSoftmax) + (TTFSAlpha / (early * early)))
                               / (NumBatch * iMinusV);
                }}
                else {{
                    LambdaV -= Softmax / (TauSoftmax * NumBatch * iMinusV);
                }}
            }}"""
        else:
            model.add_var("TFirstSpikeSumBack", "scalar", 0.0)
            model.add_var("TFirstSpikeTrueBack", "scalar", 0.0)
            model.add_param("Delta", "scalar", float(loss.delta))
            n = int(np.prod(pop.shape))
            adjoint = """
            LambdaI = (A * LambdaV) + (Beta * LambdaI);
            LambdaV *= Alpha;"""
            jump = f"""
            if ({first}) {{
                if (id == YTrueBack) {{
                    LambdaV += (TFirstSpikeSumBack - ({float(n)!r} * TFirstSpikeTrueBack)
                                + ({float(n - 1)!r} * Delta)) / iMinusV;
                }}
                else {{
                    LambdaV += (-TFirstSpikeBack + TFirstSpikeTrueBack - Delta) / iMinusV;
                }}
            }}"""
        self._add_ring(pop, model, state, lif=True, adjoint=adjoint, transition=f"""
            const scalar iMinusV = RingIMinusV[ringOffset + (RingReadOffset % {ring}u)];
            LambdaV += ((Vthresh - Vreset) * LambdaV) / iMinusV;{jump}""")
        return model
