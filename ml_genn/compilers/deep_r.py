"""Deep-R rewiring (Bellec et al. 2018) of SPARSE connections, shared by the
e-prop and EventProp compilers.

Every *potential* synapse ``(i, j)`` of a connection has a fixed sign: a bit
of the ``Inhibitory`` bitmask (``NumRowWords = ceil(num_post / 32)`` 32-bit
words per presynaptic neuron, bit ``j % 32`` of word ``i * NumRowWords +
j // 32``).  A synapse whose weight ``g`` leaves the sign of its flag
(``g > 0`` while inhibitory, ``g < 0`` while excitatory) becomes dormant: it
is removed, and the same number of synapses is created at random
unconnected positions, so the number of synapses stays constant.

Custom update groups (all Deep-R connections of a model share them):

``DeepRInit``
    Runs on the host, in Python (:meth:`DeepR.initialise`): the engine's
    code strings cannot write extra global parameters, and this runs once.
    Draws every bit at random (NumPy generator seeded from the compiler's
    ``rng_seed`` and the synapse population's name), then sets
    inhibitory = ``g < 0`` for existing synapses (``g == 0``: excitatory).
    Each call draws new bits.  It is therefore no engine
    group: trigger it with the callback :func:`deep_r_callbacks` returns, or
    by calling :meth:`DeepR.initialise`.
``DeepRL1`` (only when ``l1_strength > 0``)
    Custom update adding ``-C`` to the gradient of inhibitory synapses and
    ``+C`` to that of excitatory ones (the optimiser subtracts the gradient,
    so this pulls weights towards 0).  It adds ``C`` to each batch element's
    gradient, so the batch-reduced gradient gets ``batch_size * C``: an L1
    term per example, like the loss gradients it is summed with.
``DeepR1``
    Custom connectivity update removing every synapse whose sign disagrees
    with its flag (``g == 0`` agrees with both), counting removals per row
    (``NumDormant``) and recording each row's spare capacity
    (``min(max_row_length, num_post) - row_length``).
``DeepR2``
    Two custom connectivity updates: ``DeepR2Rows<syn>``, whose host code
    (one thread, where the state is) draws, for each dormant synapse, a row
    uniformly among those with spare capacity (a failure when there is
    none), then ``DeepR2<syn>``, whose row update creates the synapses, each
    at a column drawn uniformly among the row's unconnected ones.  They are
    two updates because the engine's host code once drew row 0's random
    numbers (fixed since; one update with host and row code would now do).
    Random numbers come from the engine's Philox
    streams (the model's seed): the same seed gives the same rewiring.  New synapses start at
    ``g = 0`` (as re-activated connections in Bellec et al. 2018) and every
    other per-synapse variable (gradients, eligibility traces, optimiser
    moments...) at 0, except those ``add_deep_r``'s ``new_synapse_values``
    gives an expression (e-prop's random feedback weights draw new ones);
    removed synapses take all of theirs with them.

Since DeepR1 frees at least one slot per removed synapse, failures only
happen if something else changes the rows between DeepR1 and DeepR2.

There is no connectivity bitmask: DeepR2 finds free columns by scanning the
row (``O(row_length)`` per step of a short fixed-point search), which needs
no writable device array.
"""
import math
import numbers
import zlib
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from ..callbacks.callback import Callback
from ..callbacks.custom_update import CustomUpdateOnBatchEnd
from ..genn import (SynapseMatrixConnectivity, SynapseMatrixType, VarAccessMode,
                    create_custom_connectivity_update_model, create_custom_update_model,
                    create_egp_ref, create_pre_var_ref)
from ..genn.groups import SynapseGroup
from ..utils.checks import check_key

_L1_MODEL = create_custom_update_model(
    "DeepRL1",
    params=[("C", "scalar"), ("NumRowWords", "unsigned int")],
    var_refs=[("Gradient", "scalar", VarAccessMode.READ_WRITE)],
    extra_global_param_refs=[("Inhibitory", "uint32_t*")],
    update_code="""
    const uint32_t word = Inhibitory[(id_pre * NumRowWords) + (id_post / 32u)];
    if ((word & (1u << (id_post % 32u))) != 0u) {
        Gradient -= C;
    }
    else {
        Gradient += C;
    }
    """)

_REMOVE_MODEL = create_custom_connectivity_update_model(
    "DeepR1",
    params=[("NumRowWords", "unsigned int")],
    pre_vars=[("NumDormant", "unsigned int"), ("RowSpare", "unsigned int")],
    var_refs=[("g", "scalar", VarAccessMode.READ_ONLY)],
    extra_global_params=[("Inhibitory", "uint32_t*")],
    row_update_code="""
    NumDormant = 0;
    for_each_synapse {
        const uint32_t word = Inhibitory[(id_pre * NumRowWords) + (id_post / 32u)];
        const bool inhibitory = (word & (1u << (id_post % 32u))) != 0u;
        if ((inhibitory && g > 0.0) || (!inhibitory && g < 0.0)) {
            remove_synapse();
            NumDormant++;
        }
    }
    RowSpare = min(row_stride, num_post) - row_length;
    """)

# rows for the dormant synapses: uniformly among those with spare capacity,
# by rejection (a few tries: O(1) while most rows have room), else by
# counting to a uniformly drawn open row (O(num_pre)); a mixture of two
# uniform draws is uniform.  (gennrand() % n: bias below n / 2^32.)
_PLAN_MODEL = create_custom_connectivity_update_model(
    "DeepR2Rows",
    pre_vars=[("NumActivations", "unsigned int")],
    pre_var_refs=[("NumDormant", "unsigned int", VarAccessMode.READ_ONLY),
                  ("RowSpare", "unsigned int", VarAccessMode.READ_ONLY)],
    host_update_code="""
    unsigned int numDormant = 0;
    unsigned int numOpenRows = 0;
    for (unsigned int i = 0; i < num_pre; i++) {
        numDormant += NumDormant[i];
        NumActivations[i] = 0;
        if (RowSpare[i] > 0) {
            numOpenRows++;
        }
    }
    for (unsigned int k = 0; k < numDormant && numOpenRows > 0; k++) {
        unsigned int row = num_pre;
        for (unsigned int attempt = 0; attempt < 8 && row == num_pre; attempt++) {
            const unsigned int i = gennrand() % num_pre;
            if (NumActivations[i] < RowSpare[i]) {
                row = i;
            }
        }
        if (row == num_pre) {
            unsigned int r = gennrand() % numOpenRows;
            for (unsigned int i = 0; i < num_pre; i++) {
                if (NumActivations[i] < RowSpare[i]) {
                    if (r == 0) {
                        row = i;
                        break;
                    }
                    r--;
                }
            }
        }
        NumActivations[row]++;
        if (NumActivations[row] == RowSpare[row]) {
            numOpenRows--;
        }
    }
    """)

# The r-th free column (r uniform) is the least fixed point of
# j = r + #{connected columns <= j}, reached by iterating from j = r.
# NumActivations is rewritten with the number actually created.
_ADD_CODE = """
    unsigned int added = 0;
    for (unsigned int k = 0; k < NumActivations; k++) {
        if (row_length >= num_post || row_length >= row_stride) {
            break;
        }
        const unsigned int r = gennrand() % (num_post - row_length);
        unsigned int j = r;
        unsigned int previous = num_post;
        while (j != previous) {
            previous = j;
            unsigned int connected = 0;
            for_each_synapse {
                if (id_post <= previous) {
                    connected++;
                }
            }
            j = r + connected;
        }
        add_synapse(j{values});
        added++;
    }
    NumActivations = added;
    """
_ADD_MODEL = create_custom_connectivity_update_model(
    "DeepR2",
    pre_var_refs=[("NumActivations", "unsigned int", VarAccessMode.READ_WRITE)],
    row_update_code=_ADD_CODE.replace("{values}", ""))


def _add_model_with_values(names, expressions):
    """``DeepR2`` whose new synapses give the referenced per-synapse
    variables ``names`` the values of the C ``expressions``."""
    return create_custom_connectivity_update_model(
        "DeepR2",
        pre_var_refs=[("NumActivations", "unsigned int", VarAccessMode.READ_WRITE)],
        var_refs=[(n, "scalar", VarAccessMode.READ_ONLY) for n in names],
        row_update_code=_ADD_CODE.replace(
            "{values}", "".join(f", {e}" for e in expressions)))


def _matrix_type_name(matrix_type) -> str:
    try:
        return SynapseMatrixType(int(matrix_type)).name
    except (TypeError, ValueError):
        return str(matrix_type)


def check_deep_r_connection(conn, matrix_type) -> None:
    """Refuse Deep-R on a connection that did not get SPARSE connectivity:
    only SPARSE rows can lose and gain synapses.

    Args:
        conn: the Connection (or anything with a ``name``)
        matrix_type: the engine matrix type chosen for it
            (``SynapseMatrixType`` or its integer value)

    Raises:
        RuntimeError: naming the connection and the fix
    """
    try:
        sparse = bool(int(matrix_type) & int(SynapseMatrixConnectivity.SPARSE))
    except (TypeError, ValueError):
        sparse = False
    if not sparse:
        name = getattr(conn, "name", repr(conn))
        raise RuntimeError(
            f"Deep-R connection '{name}' uses {_matrix_type_name(matrix_type)} connectivity, "
            "but Deep-R rewires SPARSE connectivity only: give the connection sparse "
            "connectivity, e.g. FixedProbability(p, weight)")


def _check_wu_ref(ref, sg, what):
    if getattr(ref, "kind", None) != "wu" or ref.group is not sg:
        raise ValueError(f"add_deep_r on '{sg.name}': {what} must be "
                         f"create_wu_var_ref('{sg.name}' synapse group, variable), got {ref!r}")
    if getattr(ref, "transpose_group", None) is not None:
        raise ValueError(f"add_deep_r on '{sg.name}': {what} must not have a transpose")


class DeepR:
    """The Deep-R updates of one SPARSE synapse population.

    Args:
        synapse_group: the engine synapse population being rewired
        weight_var: its weight variable (an engine ``Variable``)
        remove: the ``DeepR1`` custom connectivity update (owns the
            ``Inhibitory`` bitmask and ``NumDormant``)
        plan: the host part of ``DeepR2`` (owns ``NumActivations``)
        add: the row part of ``DeepR2``
        l1: the ``DeepRL1`` custom update, or None
        rng: host generator for ``DeepRInit``
    """

    def __init__(self, synapse_group, weight_var, remove, plan, add, l1,
                 rng: np.random.Generator):
        self.synapse_group = synapse_group
        self.weight_var = weight_var
        self.remove = remove
        self.plan = plan
        self.add = add
        self.l1 = l1
        self.num_row_words = math.ceil(synapse_group.trg.num_neurons / 32)
        self._rng = rng

    @property
    def inhibitory(self):
        """The ``Inhibitory`` bitmask (extra global parameter)."""
        return self.remove.extra_global_params["Inhibitory"]

    def get_inhibitory(self) -> np.ndarray:
        """Sign flags of every potential synapse, ``(num_pre, num_post)`` bools."""
        egp = self.inhibitory
        egp.pull_from_device()
        npre, npost = self.synapse_group.src.num_neurons, self.synapse_group.trg.num_neurons
        words = np.asarray(egp.view, dtype=np.uint32).reshape(npre, self.num_row_words, 1)
        bits = (words >> np.arange(32, dtype=np.uint32)) & np.uint32(1)
        return bits.reshape(npre, -1)[:, :npost].astype(bool)

    def initialise(self) -> None:
        """``DeepRInit``: random sign flags for every potential synapse, then
        inhibitory = ``g < 0`` for existing ones (host, see module doc)."""
        sg = self.synapse_group
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        flags = self._rng.integers(0, 2, size=(npre, npost), dtype=np.uint8).astype(bool)
        sg.pull_connectivity_from_device()
        self.weight_var.pull_from_device()
        pre = sg.get_sparse_pre_inds().astype(np.int64)
        post = sg.get_sparse_post_inds().astype(np.int64)
        flags[pre, post] = np.asarray(self.weight_var.values).reshape(-1) < 0.0
        padded = np.zeros((npre, self.num_row_words * 32), dtype=np.uint32)
        padded[:, :npost] = flags
        words = np.bitwise_or.reduce(padded.reshape(npre, self.num_row_words, 32)
                                     << np.arange(32, dtype=np.uint32), axis=2)
        egp = self.inhibitory
        egp.view[:] = words.reshape(-1)
        egp.push_to_device()

    def get_rewiring_counts(self) -> Tuple[int, int]:
        """``(num_rewirings, num_failed_rewirings)`` of the last ``DeepR2``:
        synapses created, and dormant synapses that found no place."""
        dormant = self.remove.pre_vars["NumDormant"]
        created = self.plan.pre_vars["NumActivations"]
        dormant.pull_from_device()
        created.pull_from_device()
        num_dormant = int(np.sum(dormant.view, dtype=np.int64))
        num_created = int(np.sum(created.view, dtype=np.int64))
        return num_created, num_dormant - num_created


def add_deep_r(synapse_group, genn_model, compiler, l1_strength: float,
               delta_weight_ref, weight_ref, new_synapse_values: Optional[dict] = None
               ) -> DeepR:
    """Add Deep-R rewiring of a SPARSE synapse population to an engine model
    (before build).

    Args:
        synapse_group: engine SPARSE synapse population whose weights are
            ``weight_ref``
        genn_model: the engine model it belongs to
        compiler: the compiler (its ``rng_seed`` seeds ``DeepRInit``'s flags)
        l1_strength: ``C`` of the L1 term added to the gradient (0: none)
        delta_weight_ref: ``create_wu_var_ref`` to the per-batch-element
            gradient the optimiser reads (``DeltaG``, ``Gradient``)
        weight_ref: ``create_wu_var_ref`` to the weight (``g``), shared by
            the batch
        new_synapse_values: ``{name: (create_wu_var_ref, C expression)}``:
            per-synapse variables (shared by the batch) that a synapse
            ``DeepR2`` creates sets to the expression (which may draw random
            numbers, e.g. ``gennrand_normal()``) instead of 0

    Returns:
        the :class:`DeepR` handle (for :func:`deep_r_callbacks` and
        :class:`RewiringRecord`)
    """
    if not isinstance(synapse_group, SynapseGroup):
        raise TypeError(f"add_deep_r: expected an engine synapse population, got "
                        f"{synapse_group!r}")
    sg = synapse_group
    if not sg.is_sparse:
        raise RuntimeError(f"Deep-R on synapse population '{sg.name}': it has "
                           f"{sg.matrix_type.name} connectivity, but Deep-R rewires SPARSE "
                           "connectivity only: give the connection sparse connectivity, e.g. "
                           "FixedProbability(p, weight)")
    if sg.genn_model is not genn_model:
        raise ValueError(f"add_deep_r: synapse population '{sg.name}' belongs to another "
                         "model")
    if isinstance(l1_strength, bool) or not isinstance(l1_strength, numbers.Real) or \
            not math.isfinite(l1_strength) or l1_strength < 0.0:
        raise ValueError(f"add_deep_r on '{sg.name}': l1_strength must be a finite number "
                         f">= 0, got {l1_strength!r}")
    _check_wu_ref(weight_ref, sg, "weight_ref")
    _check_wu_ref(delta_weight_ref, sg, "delta_weight_ref")
    weight_var = sg.vars[weight_ref.var_name]
    if genn_model.batch_size > 1 and weight_var.batched:
        raise ValueError(f"add_deep_r on '{sg.name}': weight variable '{weight_var.name}' has "
                         "a copy per batch element; Deep-R needs weights shared by the batch "
                         "(VarAccess.READ_ONLY)")

    num_row_words = math.ceil(sg.trg.num_neurons / 32)
    remove = genn_model.add_custom_connectivity_update(
        f"DeepR1{sg.name}", "DeepR1", sg, _REMOVE_MODEL, {"NumRowWords": num_row_words},
        {}, {"NumDormant": 0, "RowSpare": 0}, {}, {"g": weight_ref})
    remove.extra_global_params["Inhibitory"].set_init_values(
        np.zeros(sg.src.num_neurons * num_row_words, dtype=np.uint32))
    plan = genn_model.add_custom_connectivity_update(
        f"DeepR2Rows{sg.name}", "DeepR2", sg, _PLAN_MODEL, {}, {}, {"NumActivations": 0},
        pre_var_refs={"NumDormant": create_pre_var_ref(remove, "NumDormant"),
                      "RowSpare": create_pre_var_ref(remove, "RowSpare")})
    # a separate update from the host part: they would share one random stream
    add_model, add_refs = _ADD_MODEL, None
    if new_synapse_values:
        for name, (ref, _) in new_synapse_values.items():
            _check_wu_ref(ref, sg, f"new_synapse_values[{name!r}]")
        add_model = _add_model_with_values(list(new_synapse_values),
                                           [e for _, e in new_synapse_values.values()])
        add_refs = {name: ref for name, (ref, _) in new_synapse_values.items()}
    add = genn_model.add_custom_connectivity_update(
        f"DeepR2{sg.name}", "DeepR2", sg, add_model, {}, var_refs=add_refs,
        pre_var_refs={"NumActivations": create_pre_var_ref(plan, "NumActivations")})
    l1 = None
    if l1_strength > 0.0:
        l1 = genn_model.add_custom_update(
            f"DeepRL1{sg.name}", "DeepRL1", _L1_MODEL,
            {"C": float(l1_strength), "NumRowWords": num_row_words}, {},
            {"Gradient": delta_weight_ref},
            {"Inhibitory": create_egp_ref(remove, "Inhibitory")})

    seed = getattr(compiler, "rng_seed", 0)
    # seed 0 means "random" to the engine: likewise here
    rng = np.random.default_rng([int(seed), zlib.crc32(sg.name.encode())] if seed else None)
    return DeepR(sg, weight_var, remove, plan, add, l1, rng)


class DeepRInit(Callback):
    """Run ``DeepRInit`` (:meth:`DeepR.initialise`) for every Deep-R
    connection at the start of the epochs ``filter_fn`` selects.

    Args:
        deep_rs: the :class:`DeepR` handles
        filter_fn: ``filter_fn(epoch) -> bool``; None: only epoch 0
    """

    def __init__(self, deep_rs: Sequence[DeepR],
                 filter_fn: Optional[Callable[[int], bool]] = None):
        self.deep_rs = list(deep_rs)
        self.filter_fn = filter_fn

    def on_epoch_begin(self, epoch: int):
        if (epoch == 0) if self.filter_fn is None else self.filter_fn(epoch):
            for d in self.deep_rs:
                d.initialise()


class RewiringRecord(Callback):
    """Record ``(num_rewirings, num_failed_rewirings)`` of one Deep-R
    connection after every batch (synapses re-created by ``DeepR2``, and
    dormant synapses that found no place).

    Args:
        deep_r: the connection's :class:`DeepR` handle
        key: key of the data in the callback data dict
    """

    def __init__(self, deep_r: DeepR, key=None):
        if not isinstance(deep_r, DeepR):
            raise TypeError(f"RewiringRecord: expected the DeepR handle add_deep_r returned, "
                            f"got {deep_r!r}")
        self.deep_r = deep_r
        self.key = check_key("RewiringRecord", key)
        self._data = []

    def set_params(self, **kwargs):
        self._data = []

    def on_batch_end(self, batch: int, metrics):
        self._data.append(self.deep_r.get_rewiring_counts())

    def get_data(self):
        return self.key, self._data


def deep_r_callbacks(deep_rs: Sequence[Tuple[object, DeepR]], record_rewirings: dict,
                     l1_filter: Optional[Callable[[int], bool]] = None
                     ) -> Tuple[List[Callback], List[Callback]]:
    """The training callbacks of the Deep-R connections of a model.

    Args:
        deep_rs: ``[(Connection, DeepR)]``
        record_rewirings: ``{Connection: callback-data key}`` of the
            connections whose rewirings are recorded (:class:`RewiringRecord`)
        l1_filter: ``filter_fn(batch)`` selecting the batches whose gradient
            gets the L1 term (None: all)

    Returns:
        ``(before_reduce, after_learn)``: callbacks to place before the
        gradient batch reduction (``DeepRL1`` at batch end, if any
        connection has ``l1_strength > 0``), and after the optimiser and
        resets (``DeepRInit`` at the start of epoch 0, ``DeepR1`` and
        ``DeepR2`` at batch end, then the :class:`RewiringRecord`\\ s)
    """
    deep_rs = list(deep_rs)
    if not deep_rs:
        return [], []
    handles = {}
    for conn, d in deep_rs:
        if not isinstance(d, DeepR):
            raise TypeError(f"deep_r_callbacks: expected (Connection, DeepR) pairs, got "
                            f"{(conn, d)!r}")
        handles[conn] = d
    unknown = [c for c in record_rewirings if c not in handles]
    if unknown:
        raise ValueError("deep_r_record_rewirings names connections without Deep-R: "
                         + ", ".join(repr(getattr(c, "name", c)) for c in unknown)
                         + "; add them to deep_r_conns")
    before_reduce = []
    if any(d.l1 is not None for d in handles.values()):
        before_reduce.append(CustomUpdateOnBatchEnd("DeepRL1", l1_filter))
    after_learn = [DeepRInit(list(handles.values())),
                   CustomUpdateOnBatchEnd("DeepR1"),
                   CustomUpdateOnBatchEnd("DeepR2")]
    after_learn += [RewiringRecord(handles[c], key) for c, key in record_rewirings.items()]
    return before_reduce, after_learn


__all__ = ["DeepR", "DeepRInit", "RewiringRecord", "add_deep_r", "check_deep_r_connection",
           "deep_r_callbacks"]
