"""Few-spike (FS) encoder of ReLU activations (Stoeckl & Maass 2021)."""
from ..utils.checks import check_positive_finite, check_positive_int
from ..utils.model import NeuronModel
from ..utils.snippet import ConstantValueDescriptor
from .input import InputBase
from .neuron import Neuron

# Step within the current presentation of K steps. FewSpikeCompiler resets
# time before each presentation so this is t/dt; taking it modulo K (and
# rounding t/dt) keeps the neuron correct if time keeps running.
PIPE_TIMESTEP_CODE = "const int pipeTimestep = ((int)round(t / dt)) % ((int)K);\n"


class FewSpikeReluInput(Neuron, InputBase):
    """Encodes its input (written into ``V`` by ``set_input``) as ``K``
    spikes/non-spikes, the K-bit binary expansion of ``V / alpha``, MSB first.

    Unsigned: ``Scale = alpha * 2^-K``; at step ``p`` of the presentation the
    threshold is ``h = Scale * 2^(K-1-p)``; spike iff ``V >= h``, then
    ``V -= h``.

    Signed (``signed_input``): ``Scale = alpha * 2^floor(-K/2)``,
    ``H = floor(K/2)``; even steps are positive phases and odd steps negative
    phases of bit ``q = p // 2`` with ``h = Scale * 2^(H-1-q)``; spike iff
    ``V >= h`` (positive) or ``V < -h`` (negative), then ``V -= h`` /
    ``V += h``. Thresholds are computed with ``ldexp`` so they stay exact for
    any ``K`` (upstream shifts an int, undefined for odd ``K``'s last
    fractional bit and for K > 31).

    GeNN names: var ``V``; params ``K``, ``Scale``. Only for FewSpikeCompiler.
    """
    k = ConstantValueDescriptor()
    alpha = ConstantValueDescriptor()

    def __init__(self, k: int = 10, alpha: float = 25, signed_input: bool = False):
        super().__init__(var_name="V")
        self.k = k              # numbers only (RuntimeError otherwise)...
        self.alpha = alpha
        self.k = check_positive_int("FewSpikeReluInput", "k", k)    # ...and meaningful ones
        self.alpha = check_positive_finite("FewSpikeReluInput", "alpha", alpha)
        self.signed_input = signed_input

    def get_model(self, population, dt, batch_size):
        if self.signed_input:
            scale = self.alpha * 2.0 ** (-self.k // 2)
            genn_model = {
                "params": [("K", "scalar"), ("Scale", "scalar")],
                "vars": [("V", "scalar")],
                "sim_code": PIPE_TIMESTEP_CODE + (
                    "const bool positive = (pipeTimestep % 2) == 0;\n"
                    "const scalar hT = ldexp(Scale, (((int)K) / 2) - 1 - "
                    "(pipeTimestep / 2));\n"),
                "threshold_condition_code": "(positive && V >= hT) || (!positive && V < -hT)",
                "reset_code": "if (positive) {\n    V -= hT;\n}\nelse {\n    V += hT;\n}\n"}
        else:
            scale = self.alpha * 2.0 ** (-self.k)
            genn_model = {
                "params": [("K", "scalar"), ("Scale", "scalar")],
                "vars": [("V", "scalar")],
                "sim_code": PIPE_TIMESTEP_CODE + (
                    "const scalar hT = ldexp(Scale, ((int)K) - 1 - pipeTimestep);\n"),
                "threshold_condition_code": "V >= hT",
                "reset_code": "V -= hT;"}
        return NeuronModel(genn_model, None, {"K": self.k, "Scale": scale}, {"V": 0.0})
