"""Bad input: every public entry point raises a clear, specific error.

Code-string mistakes must come out as one :class:`CodeError` naming the
model, the code field, the line and column, the offending identifier and the
closest valid names, *before* any C compiler runs.  To prove the last point,
every code-error test runs with ``CXX`` pointing at a compiler that does not
exist (and an empty build cache): if the engine reached the compiler, a
BuildError (or worse) would come out instead of the CodeError.

Model-description mistakes raise :class:`ModelError`, calls made in the wrong
state :class:`RuntimeStateError`, and compiler problems :class:`BuildError`.
Only a handful of tests compile a (tiny) model; the rest fail before that.
"""
import re
import uuid

import numpy as np
import pytest

from ml_genn.genn import (BuildError, CodeError, GeNNError, GeNNModel, ModelError,
                          RuntimeStateError, VarAccess, create_custom_update_model,
                          create_neuron_model, create_postsynaptic_model,
                          create_var_ref, create_weight_update_model, init_postsynaptic,
                          init_sparse_connectivity, init_var,
                          init_weight_update)

MISSING_CXX = "/nonexistent/compiler"

LIF_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": -65.0, "Vreset": -65.0, "Vthresh": -50.0,
              "Ioffset": 0.0, "TauRefrac": 2.0}
LIF_VARS = {"V": -65.0, "RefracTime": 0.0}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
@pytest.fixture
def no_compiler(monkeypatch, tmp_path):
    """No C++ compiler and an empty cache: anything that compiles fails."""
    monkeypatch.setenv("CXX", MISSING_CXX)
    monkeypatch.setenv("ML_GENN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def neuron_model(sim_code="", threshold="", reset="", name="BadNeuron"):
    """A neuron model with a parameter, a read-write and a read-only variable."""
    return create_neuron_model(
        name, params=["Vthresh", "tau"],
        vars=[("V", "scalar"), ("R", "scalar", VarAccess.READ_ONLY)],
        sim_code=sim_code, threshold_condition_code=threshold, reset_code=reset)


def build_neuron(sim_code="", threshold="", reset="", name="BadNeuron", pop="Pop"):
    """Build a one-population model around ``neuron_model(...)``; return the error."""
    m = GeNNModel("float", f"errors_{uuid.uuid4().hex[:8]}")
    m.add_neuron_population(pop, 4, neuron_model(sim_code, threshold, reset, name),
                            {"Vthresh": 1.0, "tau": 10.0}, {"V": 0.0, "R": 0.0})
    with pytest.raises(CodeError) as info:
        m.build()
    return info.value


def check_where(err, field, line, column, model="BadNeuron", pop="Pop"):
    """The error names model, population, field, line and column, and quotes the line."""
    assert isinstance(err, CodeError)
    assert err.model is not None and model in err.model
    assert err.field == field
    assert (err.line, err.column) == (line, column), (err.line, err.column)
    msg = str(err)
    assert f"'{model}'" in msg
    assert f"'{pop}'" in msg
    assert f"'{field}'" in msg
    assert f"line {line}, column {column}" in msg
    # the offending source line is quoted with a caret under the column
    src_line = err.source.splitlines()[line - 1]
    assert src_line in msg
    assert "\n    " + " " * (column - 1) + "^" in msg


# ---------------------------------------------------------------------------
# code strings: errors found by the code layer, before the compiler
# ---------------------------------------------------------------------------
def test_unknown_identifier_in_sim_code_suggests_close_match(no_compiler):
    err = build_neuron("V += Isynn * dt;\n")
    assert err.identifier == "Isynn"
    assert err.suggestions and err.suggestions[0] == "Isyn"
    assert re.search(r"unknown identifier 'Isynn'", str(err))
    assert "Did you mean: 'Isyn'" in str(err)
    check_where(err, "sim_code", 1, 6)


def test_unknown_identifier_on_later_line(no_compiler):
    err = build_neuron("V += Isyn * dt;\n\nif (V > 0.0) {\n    V -= taux;\n}\n")
    assert err.identifier == "taux"
    assert "tau" in err.suggestions
    check_where(err, "sim_code", 4, 10)


def test_unknown_identifier_in_threshold_code(no_compiler):
    err = build_neuron("V += Isyn;", threshold="V >= Vthres")
    assert err.identifier == "Vthres"
    assert err.suggestions[0] == "Vthresh"
    assert "unknown identifier 'Vthres'" in str(err)
    check_where(err, "threshold_condition_code", 1, 6)


def test_unknown_identifier_in_reset_code(no_compiler):
    err = build_neuron("V += Isyn;", threshold="V >= Vthresh", reset="V = Vrest;")
    assert err.identifier == "Vrest"
    check_where(err, "reset_code", 1, 5)


def test_unknown_function_suggests_close_match(no_compiler):
    err = build_neuron("V = expp(-dt / tau) * V;")
    assert err.identifier == "expp"
    assert "exp" in err.suggestions
    check_where(err, "sim_code", 1, 5)


def test_code_error_model_attribute_is_the_model_name(no_compiler):
    """``.model`` should be the model's name, not a fragment of the message."""
    err = build_neuron("V += Isynn;")
    assert err.model == "BadNeuron"
    assert "'Pop'" in str(err)


def test_syntax_error_line_and_column(no_compiler):
    err = build_neuron("V += Isyn;\nV = (V * 2.0;\n")
    assert re.search(r"expected '\)'", str(err))
    assert "found ';'" in str(err)
    check_where(err, "sim_code", 2, 13)


def test_missing_semicolon(no_compiler):
    err = build_neuron("V += Isyn\nV *= 0.5;\n")
    assert "expected ';'" in str(err)
    check_where(err, "sim_code", 2, 1)


def test_unbalanced_brace(no_compiler):
    err = build_neuron("if (V > 1.0) {\n    V = 0.0;\n")
    assert "missing '}'" in str(err)
    check_where(err, "sim_code", 1, 14)


def test_unexpected_character(no_compiler):
    err = build_neuron("V += Isyn @ 2.0;")
    assert "unexpected character '@'" in str(err)
    check_where(err, "sim_code", 1, 11)


def test_threshold_trailing_garbage(no_compiler):
    err = build_neuron("V += Isyn;", threshold="V >= Vthresh V")
    assert "after the end of the expression" in str(err)
    check_where(err, "threshold_condition_code", 1, 14)


@pytest.mark.parametrize("code, name, what, column", [
    ("Isyn = 0.0;", "Isyn", "synaptic input", 1),
    ("V = 0.0; tau = 2.0;", "tau", "parameter", 10),
    ("R = 1.0;", "R", "read-only variable", 1),
    ("R += V;", "R", "read-only variable", 1),
    ("t = 0.0;", "t", "time", 1),
    ("dt = 0.1;", "dt", "time step", 1),
    ("V = 1.0; id = 0;", "id", "neuron index", 10),
])
def test_assignment_to_read_only_name(no_compiler, code, name, what, column):
    err = build_neuron(code)
    msg = str(err)
    assert f"cannot assign to '{name}'" in msg
    assert "read-only" in msg and what in msg
    assert "read-only read-only" not in msg          # no stutter for READ_ONLY variables
    check_where(err, "sim_code", 1, column)
    assert err.identifier == name


def test_assignment_to_isyn_explains_injectcurrent(no_compiler):
    err = build_neuron("Isyn += 1.0;")
    assert "injectCurrent" in str(err)


def test_increment_of_read_only_variable(no_compiler):
    err = build_neuron("V += 1.0;\nR++;")
    assert "cannot assign to 'R'" in str(err)
    check_where(err, "sim_code", 2, 1)


@pytest.mark.parametrize("code, func, want, given, column", [
    ("V = exp(1.0, 2.0);", "exp", "1 argument", 2, 5),
    ("V = pow(V);", "pow", "2 arguments", 1, 5),
    ("V = gennrand_uniform(1.0);", "gennrand_uniform", "0 arguments", 1, 5),
    ("V = V + fma(1.0, 2.0);", "fma", "3 arguments", 2, 9),
])
def test_wrong_argument_count(no_compiler, code, func, want, given, column):
    err = build_neuron(code)
    assert f"'{func}' takes {want} but was given {given}" in str(err)
    check_where(err, "sim_code", 1, column)
    assert err.identifier == func


def test_function_used_without_call(no_compiler):
    err = build_neuron("V = exp;")
    assert "'exp' is a maths function and must be called" in str(err)
    check_where(err, "sim_code", 1, 5)


def test_calling_a_variable(no_compiler):
    err = build_neuron("V = V(1.0);")
    assert "'V' is a read-write variable, not a function" in str(err)
    check_where(err, "sim_code", 1, 5)


def test_unsupported_type_in_declaration(no_compiler):
    err = build_neuron("V += Isyn;\nvec3 x = 0.0;")
    assert "unsupported type 'vec3'" in str(err)
    assert "scalar" in str(err)        # lists what is supported
    check_where(err, "sim_code", 2, 1)


def test_unsupported_multiword_type_in_declaration(no_compiler):
    err = build_neuron("long double x = V;\nV = x;")
    assert "unsupported type 'long double'" in str(err)
    check_where(err, "sim_code", 1, 1)


def test_unsupported_type_in_cast(no_compiler):
    err = build_neuron("V = (long double)Isyn;")
    assert "unsupported type 'long double'" in str(err)
    check_where(err, "sim_code", 1, 5)       # the cast's '('



def test_unknown_type_name_in_cast(no_compiler):
    """``(half)Isyn``: a cast to a type the engine does not know."""
    err = build_neuron("V = (half)Isyn;")
    assert "unsupported type 'half'" in str(err)
    check_where(err, "sim_code", 1, 5)


def test_redeclaring_model_variable_as_local(no_compiler):
    err = build_neuron("V += Isyn;\nscalar V = 1.0;")
    assert "cannot declare local 'V'" in str(err)
    assert "read-write variable" in str(err)
    check_where(err, "sim_code", 2, 8)
    assert err.identifier == "V"


def test_redeclaring_parameter_as_local(no_compiler):
    err = build_neuron("scalar tau = 1.0;\nV = tau;")
    assert "cannot declare local 'tau'" in str(err)
    assert "parameter" in str(err)
    check_where(err, "sim_code", 1, 8)


def test_local_starting_with_underscore(no_compiler):
    err = build_neuron("scalar _tmp = V;\nV = _tmp;")
    assert "local name '_tmp' starts with '_'" in str(err)
    assert "reserved" in str(err)
    check_where(err, "sim_code", 1, 8)
    assert err.identifier == "_tmp"


def test_return_in_code(no_compiler):
    err = build_neuron("if (V > 1.0) {\n    return;\n}\nV += Isyn;")
    assert "'return' is not allowed" in str(err)
    check_where(err, "sim_code", 2, 5)


def test_address_of(no_compiler):
    err = build_neuron("V += Isyn;\nscalar x = &V;")
    assert "address-of operator '&'" in str(err)
    check_where(err, "sim_code", 2, 12)


def test_member_access(no_compiler):
    err = build_neuron("V = V.x;")
    assert "member access is not supported" in str(err)
    check_where(err, "sim_code", 1, 6)


def test_postsynaptic_model_code_error(no_compiler):
    psm = create_postsynaptic_model("BadPSM", params=["tau"],
                                    sim_code="injectCurrent(inSyn);\ninSyn *= exp(-dt / tua);")
    m = GeNNModel("float", "errors_psm")
    pre = m.add_neuron_population("Pre", 2, "LIF", LIF_PARAMS, LIF_VARS)
    post = m.add_neuron_population("Post", 2, "LIF", LIF_PARAMS, LIF_VARS)
    m.add_synapse_population("Syn", "DENSE", pre, post,
                             init_weight_update("StaticPulse", {}, {"g": 1.0}),
                             init_postsynaptic(psm, {"tau": 5.0}))
    with pytest.raises(CodeError) as info:
        m.build()
    err = info.value
    assert err.identifier == "tua"
    assert "tau" in err.suggestions
    check_where(err, "sim_code", 2, 20, model="BadPSM", pop="Syn")


def test_add_to_post_wrong_argument_count(no_compiler):
    wum = create_weight_update_model("BadWU", vars=[("g", "scalar", VarAccess.READ_ONLY)],
                                     pre_spike_syn_code="addToPost();")
    m = GeNNModel("float", "errors_wu")
    pre = m.add_neuron_population("Pre", 2, "LIF", LIF_PARAMS, LIF_VARS)
    post = m.add_neuron_population("Post", 2, "LIF", LIF_PARAMS, LIF_VARS)
    m.add_synapse_population("Syn", "DENSE", pre, post, init_weight_update(wum, {}, {"g": 1.0}),
                             init_postsynaptic("DeltaCurr"))
    with pytest.raises(CodeError) as info:
        m.build()
    err = info.value
    assert "'addToPost' takes 1 argument but was given 0" in str(err)
    check_where(err, "pre_spike_syn_code", 1, 1, model="BadWU", pop="Syn")


def test_assign_to_read_only_weight(no_compiler):
    wum = create_weight_update_model("BadWU2", vars=[("g", "scalar", VarAccess.READ_ONLY)],
                                     pre_spike_syn_code="addToPost(g);\ng *= 0.5;")
    m = GeNNModel("float", "errors_wu2")
    pre = m.add_neuron_population("Pre", 2, "LIF", LIF_PARAMS, LIF_VARS)
    post = m.add_neuron_population("Post", 2, "LIF", LIF_PARAMS, LIF_VARS)
    m.add_synapse_population("Syn", "DENSE", pre, post, init_weight_update(wum, {}, {"g": 1.0}),
                             init_postsynaptic("DeltaCurr"))
    with pytest.raises(CodeError) as info:
        m.build()
    err = info.value
    assert "cannot assign to 'g'" in str(err)
    check_where(err, "pre_spike_syn_code", 2, 1, model="BadWU2", pop="Syn")


def test_custom_update_code_error(no_compiler):
    cum = create_custom_update_model("BadCU", var_refs=[("X", "scalar")],
                                     update_code="X = Xs * 0.5;")
    m = GeNNModel("float", "errors_cu")
    pop = m.add_neuron_population("Pop", 3, "LIF", LIF_PARAMS, LIF_VARS)
    m.add_custom_update("Upd", "Reset", cum, {}, {}, {"X": create_var_ref(pop, "V")})
    with pytest.raises(CodeError) as info:
        m.build()
    err = info.value
    assert err.identifier == "Xs"
    assert err.suggestions[0] == "X"
    check_where(err, "update_code", 1, 5, model="BadCU", pop="Upd")


def test_add_to_post_delay_without_dendritic_delay(no_compiler):
    m = GeNNModel("float", "errors_dendritic")
    pre = m.add_neuron_population("Pre", 2, "LIF", LIF_PARAMS, LIF_VARS)
    post = m.add_neuron_population("Post", 2, "LIF", LIF_PARAMS, LIF_VARS)
    m.add_synapse_population("DelaySyn", "DENSE", pre, post,
                             init_weight_update("StaticPulseDendriticDelay", {},
                                                {"g": 1.0, "d": 1}),
                             init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match=r"'DelaySyn' uses addToPostDelay.*"
                                         r"max_dendritic_delay_timesteps"):
        m.build()


def test_code_errors_come_before_the_compiler(no_compiler):
    """With no compiler at all, a bad code string still gives a CodeError."""
    m = GeNNModel("float", "errors_order")
    m.add_neuron_population("Pop", 4, neuron_model("V += Isynn;"),
                            {"Vthresh": 1.0, "tau": 10.0}, {"V": 0.0, "R": 0.0})
    try:
        m.build()
    except CodeError:
        pass
    except BaseException as exc:      # BuildError, FileNotFoundError, ...
        pytest.fail(f"expected CodeError before compiling, got {exc!r}")
    else:
        pytest.fail("bad code string was accepted")
    assert m.source_path is None
    assert not list((no_compiler / "cache").glob("*.cc"))     # nothing written to compile


# ---------------------------------------------------------------------------
# model description
# ---------------------------------------------------------------------------
def test_unknown_builtin_neuron_model_suggests_close_match():
    m = GeNNModel("float", "errors_desc")
    with pytest.raises(ModelError, match=r"unknown neuron model 'LIFF'.*did you mean 'LIF'"):
        m.add_neuron_population("Pop", 4, "LIFF", LIF_PARAMS, LIF_VARS)
    assert "Pop" not in m.neuron_populations


def test_unknown_builtin_postsynaptic_and_weight_update_model():
    with pytest.raises(ModelError, match=r"unknown postsynaptic model 'ExpCur'.*'ExpCurr'"):
        init_postsynaptic("ExpCur", {"tau": 5.0})
    with pytest.raises(ModelError, match=r"unknown weight update model 'StaticPuls'.*"
                                         r"'StaticPulse'"):
        init_weight_update("StaticPuls", {}, {"g": 1.0})
    with pytest.raises(ModelError, match=r"unknown variable initialisation snippet "
                                         r"'Uniformm'.*'Uniform'"):
        init_var("Uniformm", {"min": 0.0, "max": 1.0})


def test_model_of_wrong_kind():
    m = GeNNModel("float", "errors_desc")
    with pytest.raises(ModelError, match=r"expected a neuron model"):
        m.add_neuron_population("Pop", 4, 42, {}, {})


def test_missing_parameter_value():
    m = GeNNModel("float", "errors_desc")
    params = dict(LIF_PARAMS)
    del params["TauM"]
    with pytest.raises(ModelError, match=r"neuron population 'Pop' \(LIF\): missing value "
                                         r"for parameter\(s\) 'TauM'"):
        m.add_neuron_population("Pop", 4, "LIF", params, LIF_VARS)


def test_unknown_parameter_value():
    m = GeNNModel("float", "errors_desc")
    params = dict(LIF_PARAMS, Tau=3.0)
    with pytest.raises(ModelError, match=r"'Pop' \(LIF\): unknown parameter\(s\) 'Tau'; "
                                         r"the model declares: C, TauM"):
        m.add_neuron_population("Pop", 4, "LIF", params, LIF_VARS)


def test_parameter_must_be_a_number():
    m = GeNNModel("float", "errors_desc")
    with pytest.raises(ModelError, match=r"parameter 'TauM' must be a number"):
        m.add_neuron_population("Pop", 4, "LIF", dict(LIF_PARAMS, TauM="20"), LIF_VARS)


def test_missing_and_unknown_snippet_parameters():
    with pytest.raises(ModelError, match=r"'ExpCurr': missing value for parameter\(s\) 'tau'"):
        init_postsynaptic("ExpCurr", {})
    with pytest.raises(ModelError, match=r"'Uniform': unknown parameter\(s\) 'maximum'; the "
                                         r"model declares: min, max"):
        init_var("Uniform", {"min": 0.0, "maximum": 1.0})


def test_missing_variable_value():
    m = GeNNModel("float", "errors_desc")
    with pytest.raises(ModelError, match=r"'Pop' \(LIF\): missing initial value for "
                                         r"variable\(s\) 'RefracTime'"):
        m.add_neuron_population("Pop", 4, "LIF", LIF_PARAMS, {"V": 0.0})


def test_unknown_variable_value():
    m = GeNNModel("float", "errors_desc")
    with pytest.raises(ModelError, match=r"'Pop' \(LIF\): unknown variable\(s\) 'U'; the "
                                         r"model declares: V, RefracTime"):
        m.add_neuron_population("Pop", 4, "LIF", LIF_PARAMS, dict(LIF_VARS, U=0.0))


def test_missing_weight_update_variable():
    with pytest.raises(ModelError, match=r"'StaticPulse': missing value for variable\(s\) 'g'"):
        init_weight_update("StaticPulse", {}, {})


def test_non_numeric_initial_value():
    m = GeNNModel("float", "errors_desc")
    with pytest.raises(ModelError, match=r"'V' has an initial value that is not numeric"):
        m.add_neuron_population("Pop", 4, "LIF", LIF_PARAMS,
                                {"V": ["a", None, 3, {}], "RefracTime": 0.0})


def _two_pops(m):
    return (m.add_neuron_population("Pre", 3, "LIF", LIF_PARAMS, LIF_VARS),
            m.add_neuron_population("Post", 5, "LIF", LIF_PARAMS, LIF_VARS))


def test_bad_matrix_type_string():
    m = GeNNModel("float", "errors_desc")
    pre, post = _two_pops(m)
    with pytest.raises(ModelError, match=r"synapse population 'Syn': unknown matrix type "
                                         r"'DENSE_INDIVIDUAL'; choose one of DENSE, .*SPARSE"):
        m.add_synapse_population("Syn", "DENSE_INDIVIDUAL", pre, post,
                                 init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"))
    assert "Syn" not in m.synapse_populations


def test_dense_with_connectivity_initialiser():
    m = GeNNModel("float", "errors_desc")
    pre, post = _two_pops(m)
    with pytest.raises(ModelError, match=r"'Syn': DENSE connectivity takes no connectivity "
                                         r"initialiser"):
        m.add_synapse_population("Syn", "DENSE", pre, post,
                                 init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"),
                                 init_sparse_connectivity("FixedProbability", {"prob": 0.5}))


def test_toeplitz_without_toeplitz_initialiser():
    m = GeNNModel("float", "errors_desc")
    pre, post = _two_pops(m)
    for conn in (None, init_sparse_connectivity("FixedProbability", {"prob": 0.5})):
        with pytest.raises(ModelError, match=r"'Syn': TOEPLITZ connectivity needs "
                                             r"init_toeplitz_connectivity"):
            m.add_synapse_population("Syn", "TOEPLITZ", pre, post,
                                     init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                     init_postsynaptic("DeltaCurr"), conn)


def test_sparse_connectivity_initialiser_on_procedural_is_required():
    m = GeNNModel("float", "errors_desc")
    pre, post = _two_pops(m)
    with pytest.raises(ModelError, match=r"'Syn': PROCEDURAL connectivity needs "
                                         r"init_sparse_connectivity"):
        m.add_synapse_population("Syn", "PROCEDURAL", pre, post,
                                 init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"))


def test_weight_update_init_of_wrong_kind():
    m = GeNNModel("float", "errors_desc")
    pre, post = _two_pops(m)
    with pytest.raises(ModelError, match=r"weight_update_init must come from "
                                         r"init_weight_update"):
        m.add_synapse_population("Syn", "DENSE", pre, post, "StaticPulse",
                                 init_postsynaptic("DeltaCurr"))


def test_synapse_to_unknown_population():
    m = GeNNModel("float", "errors_desc")
    pre, _ = _two_pops(m)
    with pytest.raises(ModelError, match=r"'Postt' is not a neuron population of model "
                                         r"'errors_desc'"):
        m.add_synapse_population("Syn", "DENSE", pre, "Postt",
                                 init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"))


def test_duplicate_population_name():
    m = GeNNModel("float", "errors_dup")
    pre, post = _two_pops(m)
    with pytest.raises(ModelError, match=r"neuron population name 'Pre' is already used in "
                                         r"model 'errors_dup'"):
        m.add_neuron_population("Pre", 4, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(ModelError, match=r"synapse population name 'Post' is already used"):
        m.add_synapse_population("Post", "DENSE", pre, post,
                                 init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"))
    assert m.neuron_populations["Pre"] is pre


def test_names_that_are_not_c_identifiers():
    """Names are validated, not mangled: 'Pop-1' can never clash with 'Pop_1'."""
    m = GeNNModel("float", "errors_dup")
    with pytest.raises(ModelError, match=r"neuron population name 'Pop-1' is not allowed: "
                                         r"it is not a C identifier"):
        m.add_neuron_population("Pop-1", 4, "LIF", LIF_PARAMS, LIF_VARS)
    m.add_neuron_population("Pop_1", 4, "LIF", LIF_PARAMS, LIF_VARS)


@pytest.mark.parametrize("size", [0, -5, 2.5, "10", None])
def test_bad_population_size(size):
    m = GeNNModel("float", "errors_desc")
    with pytest.raises(ModelError, match=r"neuron population 'Pop': the number of neurons "
                                         r"must be a positive integer, got " + re.escape(repr(size))):
        m.add_neuron_population("Pop", size, "LIF", LIF_PARAMS, LIF_VARS)
    assert not m.neuron_populations


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_population_name(name):
    m = GeNNModel("float", "errors_desc")
    with pytest.raises(ModelError, match=r"name must be a non-empty string"):
        m.add_neuron_population(name, 4, "LIF", LIF_PARAMS, LIF_VARS)


@pytest.mark.parametrize("precision", ["half", "float32", None, 32])
def test_bad_precision(precision):
    with pytest.raises(ModelError, match=r"precision must be 'float' or 'double', got "
                                         + re.escape(repr(precision))):
        GeNNModel(precision, "errors_desc")


def test_bad_time_precision():
    with pytest.raises(ModelError, match=r"time_precision must be 'float' or 'double'"):
        GeNNModel("float", "errors_desc", time_precision="int")


def test_bad_backend():
    with pytest.raises(ModelError, match=r"unknown backend 'opencl'; choose 'cpu' or 'cuda'"):
        GeNNModel("float", "errors_desc", backend="opencl")


@pytest.mark.parametrize("attr, value, pattern", [
    ("dt", 0.0, r"dt must be a positive number"),
    ("dt", -0.1, r"dt must be a positive number"),
    ("batch_size", 0, r"batch_size must be a positive integer"),
])
def test_bad_dt_or_batch_size_at_build(no_compiler, attr, value, pattern):
    m = GeNNModel("float", "errors_desc")
    m.add_neuron_population("Pop", 4, "LIF", LIF_PARAMS, LIF_VARS)
    setattr(m, attr, value)
    with pytest.raises(ModelError, match=pattern):
        m.build()


def test_sparse_without_connectivity(no_compiler):
    m = GeNNModel("float", "errors_desc")
    pre, post = _two_pops(m)
    m.add_synapse_population("Syn", "SPARSE", pre, post,
                             init_weight_update("StaticPulse", {}, {"g": 1.0}),
                             init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match=r"'Syn' is SPARSE: give init_sparse_connectivity"):
        m.build()


def test_set_sparse_connections_mismatched_lengths():
    m = GeNNModel("float", "errors_desc")
    pre, post = _two_pops(m)
    sg = m.add_synapse_population("Syn", "SPARSE", pre, post,
                                  init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                  init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match=r"set_sparse_connections on 'Syn': pre_indices "
                                         r"\(3\) and post_indices \(2\) differ in length"):
        sg.set_sparse_connections([0, 1, 2], [0, 1])


@pytest.mark.parametrize("pre, post, which, limit", [
    ([0, 3], [0, 1], "pre", 2),
    ([0, -1], [0, 1], "pre", 2),
    ([0, 1], [0, 5], "post", 4),
    ([0, 1], [-2, 0], "post", 4),
])
def test_set_sparse_connections_out_of_range(pre, post, which, limit):
    m = GeNNModel("float", "errors_desc")
    pre_pop, post_pop = _two_pops(m)
    sg = m.add_synapse_population("Syn", "SPARSE", pre_pop, post_pop,
                                  init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                  init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match=rf"set_sparse_connections on 'Syn': {which} index "
                                         rf"out of range 0\.\.{limit}"):
        sg.set_sparse_connections(pre, post)


def test_set_sparse_connections_on_dense():
    m = GeNNModel("float", "errors_desc")
    pre, post = _two_pops(m)
    sg = m.add_synapse_population("Syn", "DENSE", pre, post,
                                  init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                  init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match=r"only SPARSE synapse populations .*DENSE"):
        sg.set_sparse_connections([0], [0])


def test_custom_update_var_refs_mismatch():
    cum = create_custom_update_model("Scale", params=["f"], var_refs=[("X", "scalar")],
                                     update_code="X *= f;")
    m = GeNNModel("float", "errors_desc")
    pop = m.add_neuron_population("Pop", 3, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(ModelError, match=r"custom update 'Upd' \(Scale\): unknown variable "
                                         r"reference\(s\) 'Y'; the model declares: X"):
        m.add_custom_update("Upd", "Scale", cum, {"f": 2.0}, {},
                            {"Y": create_var_ref(pop, "V")})
    with pytest.raises(ModelError, match=r"missing value for variable reference\(s\) 'X'"):
        m.add_custom_update("Upd", "Scale", cum, {"f": 2.0}, {}, {})
    assert not m.custom_updates


def test_var_ref_to_unknown_variable():
    m = GeNNModel("float", "errors_desc")
    pop = m.add_neuron_population("Pop", 3, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(ModelError, match=r"'Vm' of 'Pop'"):
        create_var_ref(pop, "Vm")


def test_custom_update_bad_group_name():
    cum = create_custom_update_model("Scale", var_refs=[("X", "scalar")],
                                     update_code="X *= 2.0;")
    m = GeNNModel("float", "errors_desc")
    pop = m.add_neuron_population("Pop", 3, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(ModelError, match=r"custom update group name 'my group' is not "
                                         r"allowed: it is not a C identifier"):
        m.add_custom_update("Upd", "my group", cum, {}, {}, {"X": create_var_ref(pop, "V")})


def test_adding_after_build_is_refused(built):
    m = built
    with pytest.raises(RuntimeStateError, match=r"adding a neuron population must happen "
                                                r"before build\(\)"):
        m.add_neuron_population("Late", 2, "LIF", LIF_PARAMS, LIF_VARS)


# ---------------------------------------------------------------------------
# state: build / load / run / recording
# ---------------------------------------------------------------------------
def test_load_before_build():
    m = GeNNModel("float", "errors_state")
    m.add_neuron_population("Pop", 4, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(RuntimeStateError, match=r"call build\(\) before load\(\)"):
        m.load()


def test_run_before_load():
    m = GeNNModel("float", "errors_state")
    m.add_neuron_population("Pop", 4, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(RuntimeStateError, match=r"run: the model is not loaded; call build\(\) "
                                                r"and load\(\) first"):
        m.run(10)
    with pytest.raises(RuntimeStateError, match=r"not loaded"):
        m.step_time()


def test_custom_update_before_load():
    m = GeNNModel("float", "errors_state")
    with pytest.raises(RuntimeStateError, match=r"custom_update: the model is not loaded"):
        m.custom_update("Reset")


def test_spike_recording_data_before_load():
    m = GeNNModel("float", "errors_state")
    pop = m.add_neuron_population("Pop", 4, "LIF", LIF_PARAMS, LIF_VARS)
    pop.spike_recording_enabled = True
    with pytest.raises(RuntimeStateError, match=r"spike_recording_data: the model is not "
                                                r"loaded"):
        pop.spike_recording_data


RESET = create_custom_update_model("ResetV", var_refs=[("X", "scalar")],
                                   update_code="X = 0.0;")


@pytest.fixture(scope="module")
def built():
    """A tiny compiled model: 'Rec' records spikes, 'NoRec' does not."""
    m = GeNNModel("float", "errors_built")
    rec = m.add_neuron_population("Rec", 3, "LIF", dict(LIF_PARAMS, Ioffset=20.0), LIF_VARS)
    rec.spike_recording_enabled = True
    norec = m.add_neuron_population("NoRec", 3, "LIF", LIF_PARAMS, LIF_VARS)
    m.add_custom_update("Zero", "Reset", RESET, {}, {}, {"X": create_var_ref(norec, "V")})
    m.build()
    return m


def test_recording_enabled_but_no_recording_timesteps(built):
    with pytest.raises(RuntimeStateError, match=r"spike recording is enabled: pass "
                                                r"load\(num_recording_timesteps=N\)"):
        built.load()
    with pytest.raises(RuntimeStateError, match=r"num_recording_timesteps"):
        built.load(num_recording_timesteps=0)


def test_spike_recording_data_when_recording_disabled(built):
    built.load(num_recording_timesteps=10)
    built.run(10)
    times, ids = built.neuron_populations["Rec"].spike_recording_data[0]   # fine
    with pytest.raises(RuntimeStateError, match=r"spike recording is not enabled for 'NoRec': "
                                                r"set spike_recording_enabled = True before "
                                                r"build\(\)"):
        built.neuron_populations["NoRec"].spike_recording_data


def test_spike_recording_data_before_recording_finished(built):
    built.load(num_recording_timesteps=10)
    built.run(4)
    with pytest.raises(RuntimeStateError, match=r"only 4 of the 10 recorded steps have run"):
        built.neuron_populations["Rec"].spike_recording_data


def test_custom_update_unknown_group(built):
    built.load(num_recording_timesteps=10)
    built.custom_update("Reset")        # the real group works
    with pytest.raises(ModelError, match=r"no custom update group 'Rest'; groups: Reset"):
        built.custom_update("Rest")


def test_negative_run(built):
    built.load(num_recording_timesteps=10)
    with pytest.raises(ModelError, match=r"n_steps must be >= 0, got -1"):
        built.run(-1)


def test_negative_recording_timesteps(built):
    with pytest.raises(ModelError, match=r"num_recording_timesteps"):
        built.load(num_recording_timesteps=-5)


def test_enabling_recording_after_build(built):
    """Recording switched on after build() has no buffer: say so, do not KeyError."""
    pop = built.neuron_populations["NoRec"]
    try:
        with pytest.raises(RuntimeStateError, match=r"'NoRec'.*before build\(\)"):
            pop.spike_recording_enabled = True
            built.load(num_recording_timesteps=10)
            built.run(10)
            pop.spike_recording_data
    finally:
        pop.spike_recording_enabled = False


def test_set_values_of_wrong_size(built):
    built.load(num_recording_timesteps=10)
    with pytest.raises(ModelError, match=r"'V'.*7.*3"):
        built.neuron_populations["NoRec"].vars["V"].set_values(np.zeros(7))


def test_run_with_non_integer_steps(built):
    built.load(num_recording_timesteps=10)
    with pytest.raises(ModelError, match=r"n_steps"):
        built.run(2.5)
    assert built.timestep == 0


def test_derived_parameter_failure_names_the_parameter(no_compiler):
    # a user model: built-in LIF rejects TauM = 0 before its derived parameters
    leaky = create_neuron_model(
        "Leaky", params=["Tau"], vars=[("V", "scalar")],
        derived_params=[("Decay", lambda pars, dt: dt / pars["Tau"])],
        sim_code="V -= Decay * V;")
    m = GeNNModel("float", "errors_desc")
    m.add_neuron_population("Pop", 4, leaky, {"Tau": 0.0}, {"V": 0.0})
    with pytest.raises(ModelError, match=r"neuron model 'Leaky': derived parameter 'Decay' "
                                         r"could not be computed: ZeroDivisionError"):
        m.build()


def test_builtin_lif_rejects_zero_time_constant(no_compiler):
    m = GeNNModel("float", "errors_tau0")
    m.add_neuron_population("Pop", 4, "LIF", dict(LIF_PARAMS, TauM=0.0), LIF_VARS)
    with pytest.raises(ModelError, match=r"'Pop'.*'LIF'.*'TauM' = 0.0 must be a finite "
                                         r"number > 0"):
        m.build()


def test_initial_values_of_wrong_size_raise_at_load():
    m = GeNNModel("float", "errors_initsize")
    m.add_neuron_population("Pop", 5, "LIF", LIF_PARAMS,
                            {"V": np.zeros(3), "RefracTime": 0.0})
    m.build()
    with pytest.raises(ModelError, match=r"neuron population 'Pop': initial values of 'V' "
                                         r"have 3 elements but 5 are needed"):
        m.load()


# ---------------------------------------------------------------------------
# the compiler itself
# ---------------------------------------------------------------------------
def test_missing_compiler_raises_build_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CXX", MISSING_CXX)
    monkeypatch.setenv("ML_GENN_CACHE_DIR", str(tmp_path / "cache"))
    m = GeNNModel("float", "errors_nocxx")
    # a unique parameter value, so no cache anywhere can already hold this model
    m.add_neuron_population("Pop", 4, "LIF",
                            dict(LIF_PARAMS, Ioffset=float(uuid.uuid4().int % 10**6) / 7.0),
                            LIF_VARS)
    with pytest.raises(BuildError) as info:
        m.build()
    msg = str(info.value)
    assert MISSING_CXX in msg
    assert "not found" in msg
    assert "CXX" in msg
    assert m._built is None
    with pytest.raises(RuntimeStateError, match=r"build\(\) before load\(\)"):
        m.load()


def test_errors_share_a_base_class():
    for cls in (CodeError, ModelError, BuildError, RuntimeStateError):
        assert issubclass(cls, GeNNError)
    assert issubclass(ModelError, ValueError)
    assert issubclass(RuntimeStateError, RuntimeError)


def test_array_used_without_subscript(no_compiler):
    bad = create_neuron_model("BadNeuron", vars=[("V", "scalar")],
                              extra_global_params=[("Table", "scalar*")],
                              sim_code="V = Table;")
    m = GeNNModel("float", "errors_array")
    m.add_neuron_population("Pop", 2, bad, {}, {"V": 0.0})
    with pytest.raises(CodeError, match=r"'Table' is an array .*Table\[index\]") as info:
        m.build()
    assert info.value.identifier == "Table"
    assert (info.value.line, info.value.column) == (1, 5)
