"""Few-spike (FS) conversion (Stoeckl & Maass 2021)."""
import warnings

from ml_genn.compilers import FewSpikeCompiler
from ml_genn.neurons import FewSpikeRelu, FewSpikeReluInput

from ml_genn.utils.checks import check_positive_finite, check_positive_int, reject_unknown_kwargs
from .checks import check_bool, check_norm_data
from .converter import Converter, check_compiler_kwargs
from .norm_data import norm_maxima


def signed_input_range(k):
    """Largest value a signed FewSpikeReluInput with ``alpha = 1`` encodes:
    ``2^floor(-k/2) * (2^floor(k/2) - 1)``."""
    return 2.0 ** (-k // 2) * (2.0 ** (k // 2) - 1.0)


class FewSpike(Converter):
    """Every ReLU becomes a ``FewSpikeRelu`` population; evaluate with
    :class:`ml_genn.compilers.FewSpikeCompiler` (``create_compiler``), e.g.
    ``compiler.compile(net, inputs=net_inputs, outputs=net_outputs)``.

    Args:
        k:            time steps per presentation (bits of the code).
        alpha:        value range used where no normalisation data is given.
        signed_input: inputs may be negative.
        norm_data:    data as for :class:`DataNorm`; each population's alpha
                      becomes ``max activation / (1 - 2^-k)`` (the largest
                      value a K-bit code represents is ``alpha (1 - 2^-k)``);
                      the input's ``max x / (1 - 2^-k)`` or, signed,
                      ``max |x| / (2^floor(-k/2) (2^floor(k/2) - 1))``.

    Upstream divides signed inputs by ``1 - 2^(1-k)``, which is larger than
    the signed code's range (``1 - 2^-k/2`` for even ``k``), so the largest
    inputs saturate; the exact range is used here.

    ``post_convert`` gives every group of populations feeding a common
    target the largest alpha among them (``FewSpikeRelu`` needs equal
    source alphas).

    Unknown keyword arguments raise ``TypeError``; invalid values
    ``ValueError``: ``k`` must be a positive integer (at least 2 with
    ``signed_input``, whose code spends every other step on the sign; 8 to
    16 are typical), ``alpha`` a positive finite number.
    """

    def __init__(self, k: int = 10, alpha: float = 25, signed_input: bool = False,
                 norm_data=None, **kwargs):
        reject_unknown_kwargs("FewSpike()", kwargs, ("k", "alpha", "signed_input",
                                                     "norm_data"))
        self.k = check_positive_int("FewSpike", "k", k)
        self.alpha = check_positive_finite("FewSpike", "alpha", alpha)
        self.signed_input = check_bool("FewSpike", "signed_input", signed_input)
        if self.signed_input and self.k < 2:
            raise ValueError("FewSpike: signed_input=True needs k >= 2 (the signed code "
                             "spends every other step on the sign); got k=1")
        self.norm_data = check_norm_data("FewSpike", norm_data)

    def pre_convert(self, tf_model):
        plan = self._network_plan(tf_model)
        if self.norm_data is None:
            return {"alphas": {}, "input_alpha": None}
        maxima, input_max = norm_maxima(plan, self.norm_data, "FewSpike",
                                        abs_input=self.signed_input)
        full = 1.0 - 2.0 ** (-self.k)
        alphas = {}
        for p, m in maxima.items():
            alphas[p.layer] = max(m, 1e-6) / full
        in_range = signed_input_range(self.k) if self.signed_input else full
        return {"alphas": alphas, "input_alpha": max(input_max, 1e-6) / in_range}

    def create_input_neurons(self, pre_convert_output):
        alpha = pre_convert_output["input_alpha"]
        return FewSpikeReluInput(k=self.k, alpha=self.alpha if alpha is None else alpha,
                                 signed_input=self.signed_input)

    def create_neurons(self, tf_layer, pre_convert_output, is_output):
        alpha = pre_convert_output["alphas"].get(tf_layer)
        if alpha is None:
            if self.norm_data is not None:
                warnings.warn(f"FewSpike: no normalisation data for layer {tf_layer.name!r}; "
                              f"using alpha={self.alpha}")
            alpha = self.alpha
        return FewSpikeRelu(k=self.k, alpha=alpha, readout="var" if is_output else None)

    def post_convert(self, network, inputs, outputs):
        # union-find: sources of a common target must share one alpha
        parent = {p: p for p in network.populations}

        def find(p):
            while parent[p] is not p:
                parent[p] = parent[parent[p]]
                p = parent[p]
            return p
        for pop in network.populations:
            sources = [c().source() for c in pop.incoming_connections]
            for s in sources[1:]:
                a, b = find(sources[0]), find(s)
                if a is not b:
                    parent[b] = a
        groups = {}
        for p in network.populations:
            groups.setdefault(find(p), []).append(p)
        for members in groups.values():
            if len(members) > 1:
                alpha = max(p.neuron.alpha for p in members)
                for p in members:
                    p.neuron.alpha = alpha

    def create_compiler(self, **kwargs):
        """``FewSpikeCompiler(k=self.k, **kwargs)``; ``k`` is the converter's."""
        check_compiler_kwargs(self, kwargs, ("k",))
        return FewSpikeCompiler(k=self.k, **kwargs)
