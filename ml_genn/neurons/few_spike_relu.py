"""Few-spike (FS) ReLU neuron (Stoeckl & Maass 2021)."""
from ..utils.checks import check_positive_finite, check_positive_int
from ..utils.model import NeuronModel
from ..utils.snippet import ConstantValueDescriptor
from .few_spike_relu_input import PIPE_TIMESTEP_CODE, FewSpikeReluInput
from .neuron import Neuron


class FewSpikeRelu(Neuron):
    """Hidden/output FS neuron: decodes the spikes of FS sources into ``Fx``
    and re-encodes ``relu`` of the previous presentation's ``Fx`` as spikes.

    At step ``p`` the spikes arriving (``Isyn``) were sent at step
    ``s = (p - 1) mod K``, so ``Fx += Isyn * d`` with ``d`` the weight of the
    bit sent at step ``s``: ``SrcScale * 2^(K-1-s)`` for unsigned sources and
    ``+-SrcScale * 2^(H-1-s//2)`` (sign ``+`` for even ``s``) for signed input
    sources. At ``p == 0`` ``V <- Fx`` and ``Fx <- 0``. Threshold/reset as the
    unsigned FewSpikeReluInput (``Scale = alpha * 2^-K``).

    For signed sources upstream uses ``d = s_p * SrcScale * 2^(((K-p) mod K)
    div 2)`` with ``s_p = -1`` for even ``p``: that equals the rule above for
    even ``K`` only; for odd ``K`` it decodes the wrong bit weights and signs.
    This implementation decodes correctly for any ``K``.

    GeNN names: vars ``Fx``, ``V``; params ``K``, ``Scale``, ``SrcScale``.
    Output var ``Fx``.
    """
    k = ConstantValueDescriptor()
    alpha = ConstantValueDescriptor()
    pipelined = True

    def __init__(self, k: int = 10, alpha: float = 25, readout=None):
        super().__init__(readout)
        self.k = k              # numbers only (RuntimeError otherwise)...
        self.alpha = alpha
        self.k = check_positive_int("FewSpikeRelu", "k", k)    # ...and meaningful ones
        self.alpha = check_positive_finite("FewSpikeRelu", "alpha", alpha)

    def _source_properties(self, population):
        """-> (source alpha, sources are signed inputs), validating sources."""
        src_alpha = None
        src_signed = None
        for conn_ref in population.incoming_connections:
            conn = conn_ref()
            source = conn.source()
            src = source.neuron
            if not isinstance(src, (FewSpikeRelu, FewSpikeReluInput)):
                raise ValueError(f"FewSpikeRelu population '{population.name}' can only be "
                                 f"connected from FewSpikeRelu or FewSpikeReluInput "
                                 f"populations; '{source.name}' is "
                                 f"{type(src).__name__}")
            if src.k != self.k:
                raise ValueError(f"FewSpikeRelu population '{population.name}' has k="
                                 f"{self.k} but its source '{source.name}' has k={src.k}")
            if src_alpha is None:
                src_alpha = src.alpha
            elif src.alpha != src_alpha:
                raise ValueError(f"sources of FewSpikeRelu population '{population.name}' "
                                 f"have different alpha values ({src_alpha}, {src.alpha})")
            signed = isinstance(src, FewSpikeReluInput) and src.signed_input
            if src_signed is None:
                src_signed = signed
            elif signed != src_signed:
                raise ValueError(f"sources of FewSpikeRelu population '{population.name}' "
                                 "mix signed and unsigned inputs")
        return (self.alpha if src_alpha is None else src_alpha), bool(src_signed)

    def get_model(self, population, dt, batch_size):
        src_alpha, src_signed = self._source_properties(population)
        if src_signed:
            src_scale = src_alpha * 2.0 ** (-self.k // 2)
            decode = ("const int sentTimestep = (pipeTimestep + ((int)K) - 1) % ((int)K);\n"
                      "const scalar d = ((sentTimestep % 2) == 0 ? 1.0 : -1.0) * "
                      "ldexp(SrcScale, (((int)K) / 2) - 1 - (sentTimestep / 2));\n")
        else:
            src_scale = src_alpha * 2.0 ** (-self.k)
            decode = ("const scalar d = ldexp(SrcScale, "
                      "(((int)K) - pipeTimestep) % ((int)K));\n")
        genn_model = {
            "params": [("K", "scalar"), ("Scale", "scalar"), ("SrcScale", "scalar")],
            "vars": [("Fx", "scalar"), ("V", "scalar")],
            "sim_code": PIPE_TIMESTEP_CODE + decode + (
                "const scalar hT = ldexp(Scale, ((int)K) - 1 - pipeTimestep);\n"
                "Fx += Isyn * d;\n"
                "if (pipeTimestep == 0) {\n"
                "    V = Fx;\n"
                "    Fx = 0.0;\n"
                "}\n"),
            "threshold_condition_code": "V >= hT",
            "reset_code": "V -= hT;"}
        return NeuronModel(genn_model, "Fx",
                           {"K": self.k, "Scale": self.alpha * 2.0 ** (-self.k),
                            "SrcScale": src_scale},
                           {"Fx": 0.0, "V": 0.0})

    def add_bias(self, model, bias):
        """``Fx`` restarts every presentation at ``bias`` instead of 0, so the
        re-encoded value is ``relu(decoded input + bias)`` and an output's
        ``Fx`` readout includes the bias."""
        model.append_sim_code(f"if (pipeTimestep == 0) {{\n    Fx = {bias};\n}}")
