"""The shared Philox4x32-10 generator against an independent Python version
and the published known-answer vectors (Salmon et al. 2011, Random123)."""
import numpy as np
import pytest

from ml_genn.genn import GeNNModel, create_neuron_model

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK, p1 & MASK, \
            ((p0 >> 32) ^ c3 ^ k1) & MASK, p0 & MASK
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return [c0, c1, c2, c3]


@pytest.mark.parametrize("ctr, key, expected", [
    ([0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
    ([MASK] * 4, [MASK] * 2, [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]),
    ([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0],
     [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]),
])
def test_python_reference_matches_known_answers(ctr, key, expected):
    assert philox4x32_10(ctr, key) == expected


RAW = create_neuron_model(
    "Raw", vars=[("R0", "uint32_t"), ("R1", "uint32_t"), ("R4", "uint32_t"), ("U", "scalar")],
    sim_code="""
        R0 = gennrand();
        R1 = gennrand();
        gennrand(); gennrand();
        R4 = gennrand();
        U = gennrand_uniform();
        """)


def test_neuron_random_numbers_are_philox_streams():
    """gennrand() in neuron code draws counter (element, stream, step, block)
    with key (seed low, seed high): check against the Python version."""
    seed = 0x0123456789ABCDEF
    model = GeNNModel("float", "rng_raw")
    model.batch_size = 2
    model.seed = seed
    pop = model.add_neuron_population("P", 5, RAW, {},
                                      {"R0": 0, "R1": 0, "R4": 0, "U": 0.0})
    model.build()
    model.load()
    model.run(3)          # values from the last step (step index 2)
    stream = 1            # the first (and only) random stream of this model
    key = [seed & MASK, seed >> 32]
    for b in range(2):
        for i in range(5):
            element = b * 5 + i
            block0 = philox4x32_10([element, stream, 2, 0], key)
            block1 = philox4x32_10([element, stream, 2, 1], key)
            assert pop.vars["R0"].view[b, i] == block0[0]
            assert pop.vars["R1"].view[b, i] == block0[1]
            assert pop.vars["R4"].view[b, i] == block1[0]
            # uniform on (0, 1]: top 24 bits plus one, times 2^-24
            assert pop.vars["U"].view[b, i] == np.float32(((block1[1] >> 8) + 1) * 2.0 ** -24)
