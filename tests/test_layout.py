"""The layout table: one entry per state array, read by generators and runtime."""
import numpy as np
import pytest

from ml_genn.genn import GeNNModel, ModelError
from ml_genn.genn.layout import Layout, recording_words


def test_names_are_unique_and_keys_are_found():
    layout = Layout("float")
    a = layout.add("P", "V", "scalar", 10, origin="variable 'V'")
    b = layout.add("P", "spkCnt", "uint32_t", 2)
    assert layout.add("P", "V", "scalar", 10, origin="variable 'V'") is a
    assert [s.c_name for s in layout] == ["mg_0_P_V", "mg_1_P_spkCnt"]
    assert layout["P", "spkCnt"] is b and layout.get("P", "x") is None
    assert ("P", "V") in layout and len(layout) == 2
    assert a.dtype == np.float32 and b.dtype == np.uint32


def test_two_declarations_of_one_array_are_an_error():
    layout = Layout("double")
    layout.add("P", "spkCnt", "uint32_t", 2)
    with pytest.raises(ModelError, match=r"'P': variable 'spkCnt' and the engine's own "
                                         r"'spkCnt' array would share the array"):
        layout.add("P", "spkCnt", "scalar", 4, origin="variable 'spkCnt'")


def test_fill_value_and_recording_sizes():
    layout = Layout("float")
    st = layout.add("P", "st", "timepoint", 3, fill="-max")
    assert st.fill_value == np.finfo(np.float32).min
    assert [recording_words(n) for n in (1, 32, 33, 64, 65)] == [1, 1, 2, 2, 3]
    model = GeNNModel("float", "layout_rec")
    model.batch_size = 3
    model.add_neuron_population("P", 40, "Poisson", {"rate": 1.0}, {"timeStepToSpike": 0.0})
    rec = layout.add("P", "recSpk", "uint32_t", 0)
    assert Layout.load_size(rec, model, 7) == 7 * 3 * 2     # steps x batch x words
    assert Layout.load_size(st, model, 7) == 3
    assert layout.records()
