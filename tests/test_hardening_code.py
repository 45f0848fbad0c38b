"""Hostile and mistaken names and code strings (issue 7: names, code strings).

Every name that reaches generated C++ is validated where it is given
(ModelError naming the kind, the name and why); every code string the checker
cannot prove safe raises CodeError before the C++ compiler runs.  Almost all
cases here are caught before any compiler is involved; the few positive
tests build and run small models.
"""
import ctypes
import re
import uuid

import numpy as np
import pytest

from ml_genn.genn import (CodeError, GeNNModel, ModelError, create_current_source_model,
                          create_custom_update_model, create_neuron_model,
                          create_postsynaptic_model, create_var_init_snippet, create_var_ref,
                          create_weight_update_model, init_postsynaptic, init_var,
                          init_weight_update)
from ml_genn.genn.backends.cpu import CPUBackend
from ml_genn.genn.names import (KEYWORDS, check_name, identifier_problem, safe_identifier,
                                valid_identifier)

LIF_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0,
              "Ioffset": 0.0, "TauRefrac": 2.0}
LIF_VARS = {"V": 0.0, "RefracTime": 0.0}


def _model(name=None):
    return GeNNModel("float", name or f"hard_{uuid.uuid4().hex[:8]}")


def _wu_model(pre_spike_syn_code):
    """Two LIF populations joined DENSE by a weight update running the code."""
    m = _model()
    pre = m.add_neuron_population("Pre", 2, "LIF", LIF_PARAMS, LIF_VARS)
    post = m.add_neuron_population("Post", 2, "LIF", LIF_PARAMS, LIF_VARS)
    wu = create_weight_update_model("W", vars=[("g", "scalar")],
                                    pre_spike_syn_code=pre_spike_syn_code)
    sg = m.add_synapse_population("S", "DENSE", pre, post,
                                  init_weight_update(wu, {}, {"g": 1.0}),
                                  init_postsynaptic("DeltaCurr"))
    return m, sg


def _code_error(sim_code="", threshold="", vars=(("V", "scalar"), ("I", "int"),
                                                 ("B", "bool")),
                egps=(("E", "scalar*"),)):
    """Render a neuron model around the code; return the CodeError."""
    nm = create_neuron_model("Hostile", params=[("a", "scalar")], vars=list(vars),
                             extra_global_params=list(egps), sim_code=sim_code,
                             threshold_condition_code=threshold)
    m = _model()
    m.add_neuron_population("Pop", 2, nm, {"a": 1.0}, {v[0]: 0 for v in vars})
    with pytest.raises(CodeError) as info:
        m.build()
    return info.value


def _renders(sim_code, vars=(("V", "scalar"), ("I", "int"))):
    nm = create_neuron_model("Fine", vars=list(vars), sim_code=sim_code)
    m = _model()
    m.add_neuron_population("Pop", 2, nm, {}, {v[0]: 0 for v in vars})
    return CPUBackend(m).generate()


# ---------------------------------------------------------------------------
# names of groups and of the model
# ---------------------------------------------------------------------------
INJECTION = 'P\n#include <cstdlib>\nstatic int x = std::system("touch /tmp/pwned");\n//'


def test_population_name_with_code_injection_is_rejected():
    m = _model()
    with pytest.raises(ModelError) as info:
        m.add_neuron_population(INJECTION, 4, "LIF", LIF_PARAMS, LIF_VARS)
    msg = str(info.value)
    assert "neuron population name" in msg and repr(INJECTION) in msg
    assert "not a C identifier" in msg and "ASCII letters, digits and '_'" in msg
    assert not m.neuron_populations


@pytest.mark.parametrize("name,reason", [
    ("../x", "not a C identifier"), ("a\nb", "not a C identifier"), ("", "empty"),
    ("x" * 300, "longer than"), ("Pöp", "not a C identifier"),
    ("1abc", "not a C identifier")])
def test_bad_model_names(name, reason):
    with pytest.raises(ModelError, match=r"model name .* is not allowed: .*" + reason):
        GeNNModel("float", name)


def test_model_name_may_be_a_keyword_because_it_only_names_a_folder():
    assert GeNNModel("float", "signed").model_name == "signed"


@pytest.mark.parametrize("name,reason", [
    ("Pöp", "not a C identifier"),          # str.isidentifier() would accept it
    ("_hidden", "starting with '_' are reserved"),
    ("mg_run", "'mg_'/'MG_' are reserved"), ("MG_HD", "'mg_'/'MG_' are reserved"),
    ("class", r"C/C\+\+ keyword"), ("bitand", r"C/C\+\+ keyword"),
    ("_Bool", r"C/C\+\+ keyword"),
    ("a b", "not a C identifier"), ("x;y", "not a C identifier")])
def test_bad_neuron_population_names(name, reason):
    m = _model()
    with pytest.raises(ModelError, match=r"neuron population name " + re.escape(repr(name))
                       + r" is not allowed: .*" + reason):
        m.add_neuron_population(name, 4, "LIF", LIF_PARAMS, LIF_VARS)


def test_bad_synapse_current_source_and_custom_update_names():
    m = _model()
    pre = m.add_neuron_population("Pre", 2, "LIF", LIF_PARAMS, LIF_VARS)
    post = m.add_neuron_population("Post", 2, "LIF", LIF_PARAMS, LIF_VARS)
    with pytest.raises(ModelError, match=r"synapse population name '\.\./syn' is not allowed"):
        m.add_synapse_population("../syn", "DENSE", pre, post,
                                 init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelError, match=r"current source name 'cs 1' is not allowed"):
        m.add_current_source("cs 1", "DC", pre, {"amp": 1.0})
    cu = create_custom_update_model("Scale", var_refs=[("X", "scalar")],
                                    update_code="X *= 2.0;")
    with pytest.raises(ModelError, match=r"custom update name 'new' is not allowed: it is a "
                                         r"C/C\+\+ keyword"):
        m.add_custom_update("new", "G", cu, {}, {}, {"X": create_var_ref(pre, "V")})
    with pytest.raises(ModelError, match=r"custom update 'Upd': custom update group name "
                                         r"'a\\nb' is not allowed"):
        m.add_custom_update("Upd", "a\nb", cu, {}, {}, {"X": create_var_ref(pre, "V")})


# ---------------------------------------------------------------------------
# names declared by models
# ---------------------------------------------------------------------------
def test_model_class_name_injection_is_rejected_at_creation():
    with pytest.raises(ModelError, match=r"neuron model: class name 'a\\n#include <cstdlib>' "
                                         r"is not allowed: it is not a C identifier"):
        create_neuron_model("a\n#include <cstdlib>", vars=[("V", "scalar")])
    with pytest.raises(ModelError, match=r"variable initialisation snippet: class name "
                                         r"'x y' is not allowed"):
        create_var_init_snippet("x y", var_init_code="value = 1.0;")


@pytest.mark.parametrize("kwargs,kind,name,reason", [
    (dict(vars=[("t", "scalar")]), "variable", "t", "shadow the built-in code-string name"),
    (dict(vars=[("Isyn", "scalar")]), "variable", "Isyn", "shadow the built-in"),
    (dict(vars=[("errno", "int")]), "variable", "errno", "macro of the C/C\\+\\+ headers"),
    (dict(vars=[("M_PI", "scalar")]), "variable", "M_PI", "macro"),
    (dict(vars=[("spkCnt", "scalar")]), "variable", "spkCnt", "array the engine creates"),
    (dict(vars=[("step", "scalar")]), "variable", "step", "generated C\\+\\+ code uses"),
    (dict(vars=[("exp", "scalar")]), "variable", "exp", "built-in code-string function"),
    (dict(params=["dt"]), "parameter", "dt", "shadow the built-in"),
    (dict(params=["printf"]), "parameter", "printf", "built-in code-string function"),
    (dict(derived_params=[("new", lambda p, dt: 1.0)]), "derived parameter", "new",
     "keyword"),
    (dict(extra_global_params=[("gennrand", "scalar*")]), "extra global parameter",
     "gennrand", "function"),
    (dict(additional_input_vars=[("int", "scalar", 0.0)]), "additional input variable",
     "int", "keyword"),
    (dict(vars=[("Vé", "scalar")]), "variable", "Vé", "not a C identifier"),
    (dict(vars=[("_v", "scalar")]), "variable", "_v", "reserved for generated code"),
])
def test_bad_names_declared_by_neuron_models(kwargs, kind, name, reason):
    with pytest.raises(ModelError, match=r"neuron model 'M': " + kind + r" name "
                       + re.escape(repr(name)) + r" is not allowed: .*" + reason):
        create_neuron_model("M", **kwargs)


def test_bad_names_declared_by_other_models():
    with pytest.raises(ModelError, match=r"weight update model 'W': presynaptic variable "
                                         r"name 'id_pre' is not allowed"):
        create_weight_update_model("W", pre_vars=[("id_pre", "scalar")])
    with pytest.raises(ModelError, match=r"custom update model 'C': variable reference name "
                                         r"'batch' is not allowed"):
        create_custom_update_model("C", var_refs=[("batch", "scalar")])
    with pytest.raises(ModelError, match=r"postsynaptic model 'P': neuron variable reference "
                                         r"name 'inSyn' is not allowed"):
        create_postsynaptic_model("P", neuron_var_refs=[("inSyn", "scalar")])
    with pytest.raises(ModelError, match=r"current source model 'S': extra global parameter "
                                         r"name 'NULL' is not allowed: .*macro"):
        create_current_source_model("S", extra_global_params=[("NULL", "scalar*")])
    with pytest.raises(ModelError, match=r"unsupported type 'int; system\(0\)'"):
        create_neuron_model("M", additional_input_vars=[("x", "int; system(0)", 0.0)])


def test_parameters_may_share_names_with_maths_functions_like_genn_uniform():
    """GeNN's Uniform declares 'min' and 'max': parameters become literals,
    and inside such a model calling min() is a clear CodeError."""
    snippet = create_var_init_snippet("MyUniform", params=["min", "max"],
                                      var_init_code="value = min + (max - min) * 0.5;")
    assert [p.name for p in snippet.params] == ["min", "max"]
    bad = create_var_init_snippet("Calls", params=["min"],
                                  var_init_code="value = min(1.0, 2.0);")
    m = _model()
    nm = create_neuron_model("N", vars=[("V", "scalar")])
    m.add_neuron_population("Pop", 2, nm, {}, {"V": init_var(bad, {"min": 0.0})})
    with pytest.raises(CodeError, match=r"'min' is a parameter, not a function"):
        m.build()


def test_parameters_may_use_names_of_the_generated_code_and_its_headers():
    """Parameters become literals (dynamic ones array elements), never C
    identifiers: 'step', 'timestep' (the generated code's own names),
    'spkCnt' (an engine array), 'NULL' and 'CLOCK_REALTIME' (header macros)
    are theirs to use, as in GeNN; variables named so are still refused."""
    names = ["step", "timestep", "rec_slot", "spkCnt", "NULL", "CLOCK_REALTIME"]
    nm = create_neuron_model(
        "Named", params=names, vars=[("x", "scalar")],
        derived_params=[("main", lambda p, dt: p["step"] * 10.0)],
        sim_code="x += " + " + ".join(names) + " + main;")
    m = _model()
    pop = m.add_neuron_population("Pop", 2, nm, {n: float(i + 1) for i, n in enumerate(names)},
                                  {"x": 0.0})
    pop.set_param_dynamic("step")
    m.build()
    m.load()
    m.run(2)                                  # 2 x (1 + 2 + ... + 6 + 10)
    pop.set_dynamic_param_value("step", 4.0)
    m.run(1)                                  # + (4 + 2 + ... + 6) + 40
    np.testing.assert_allclose(pop.vars["x"].values, 2 * 31.0 + 64.0)
    with pytest.raises(ModelError, match="generated C\\+\\+ code uses this name"):
        create_neuron_model("M", vars=[("step", "scalar")])


def test_macro_defined_by_the_compiler_but_not_in_the_static_list():
    nm = create_neuron_model("Clock", vars=[("CLOCK_REALTIME", "scalar")],
                             sim_code="CLOCK_REALTIME += 1.0;")
    m = _model()
    m.add_neuron_population("Pop", 2, nm, {}, {"CLOCK_REALTIME": 0.0})
    with pytest.raises(ModelError, match=r"variable name 'CLOCK_REALTIME' is not allowed: "
                                         r"the C\+\+ compiler .* defines it as a macro"):
        m.build()


# ---------------------------------------------------------------------------
# array keys and C names
# ---------------------------------------------------------------------------
def test_prefixed_field_names_cannot_share_an_array():
    """A weight-update variable 'psm_x' and a postsynaptic variable 'x' both map
    to the array key 'psm_x': a ModelError, never one shared array."""
    m = _model()
    pre = m.add_neuron_population("Pre", 2, "LIF", LIF_PARAMS, LIF_VARS)
    post = m.add_neuron_population("Post", 2, "LIF", LIF_PARAMS, LIF_VARS)
    wu = create_weight_update_model("WU", vars=[("psm_x", "scalar")],
                                    pre_spike_syn_code="addToPost(psm_x);")
    ps = create_postsynaptic_model("PS", vars=[("x", "scalar")],
                                   sim_code="injectCurrent(inSyn + x); inSyn = 0;")
    m.add_synapse_population("S", "DENSE", pre, post, init_weight_update(wu, {}, {"psm_x": 1.0}),
                             init_postsynaptic(ps, {}, {"x": 0.0}))
    with pytest.raises(ModelError, match=r"'S': .*variable 'psm_x'.* and .*variable 'x'.* "
                                         r"would share the array 'psm_x'"):
        m.build()


def test_array_c_names_are_unique_by_construction():
    """Group 'A' variable 'B_C' and group 'A_B' variable 'C' used to share the
    C name 'A_B_C'."""
    nm1 = create_neuron_model("N1", vars=[("B_C", "scalar")], sim_code="B_C += 1.0;")
    nm2 = create_neuron_model("N2", vars=[("C", "scalar")], sim_code="C += 2.0;")
    m = _model()
    m.add_neuron_population("A", 2, nm1, {}, {"B_C": 0.0})
    m.add_neuron_population("A_B", 2, nm2, {}, {"C": 0.0})
    backend = CPUBackend(m)
    backend.generate()
    names = [a.c_name for a in backend.layout]
    assert len(names) == len(set(names))
    assert backend._spec("A", "B_C").c_name != backend._spec("A_B", "C").c_name
    assert all(n.startswith("mg_") for n in names)


# ---------------------------------------------------------------------------
# code strings: pointers, strings, literals, types
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("code,message", [
    ("int* p;", "pointer types are not supported"),
    ("V = *(int*)V;", "dereference operator '\\*' is not supported"),
    ("V = (int*)V;", "pointer types are not supported"),
    ("V = (float*)&V;", "pointer types are not supported"),
    ("V = &V;", "address-of operator '&' is not supported"),
    ("V = *E;", "dereference operator '\\*' is not supported"),
    ("V = E + 1;", "'E' is an array .*read one element with E\\[index\\]"),
    ("V = V[0];", "'V' is a read-write variable, not an array"),
    ("V = E[0.5f];", "index of 'E\\[...\\]' must be an integer"),
])
def test_pointers_in_code_strings(code, message):
    err = _code_error(code)
    assert re.search(message, str(err)), str(err)
    assert "model 'Hostile'" in str(err) and "field 'sim_code'" in str(err)


def test_code_strings_write_elements_of_extra_global_parameters():
    """As in GeNN, code may write an EGP's elements (EventProp keeps spike
    times in them); writes are bounds-checked like reads (see
    test_hardening_runtime's native error cases)."""
    nm = create_neuron_model("Writer", vars=[("V", "scalar")],
                             extra_global_params=[("E", "scalar*")],
                             sim_code="V += 1.0f; E[(batch * num_neurons) + id] = V * 10.0f;")
    m = _model()
    m.batch_size = 2
    pop = m.add_neuron_population("Pop", 3, nm, {}, {"V": 0.0})
    pop.extra_global_params["E"].set_init_values(np.zeros(6))
    m.build()
    m.load()
    m.run(2)
    pop.extra_global_params["E"].pull_from_device()
    np.testing.assert_array_equal(pop.extra_global_params["E"].view, np.full(6, 20.0))


@pytest.mark.parametrize("code,message", [
    ('V = "text";', "string literals are only allowed as the first argument of printf"),
    ('printf("%s", V);', "conversion '%s' is not supported"),
    ('printf("%n", I);', "conversion '%n' is not supported"),
    ('printf("%p", V);', "conversion '%p' is not supported"),
    ('printf("%*d", I, I);', "conversion '%\\*' is not supported"),
    ('printf("%ld", I);', "conversion '%l' is not supported"),
    ('printf("%d %d", I);', "format has 2 conversions but 1 argument follows"),
    ('printf("%f");', "format has 1 conversion but 0 arguments follow"),
    ('printf("\\x41");', "escape '\\\\x' is not supported"),
    ('printf(V);', "first argument of printf must be a format string literal"),
])
def test_strings_and_printf_formats(code, message):
    err = _code_error(code)
    assert re.search(message, str(err)), str(err)


@pytest.mark.parametrize("code,message", [
    ("I = 18446744073709551616;", "integer literal '18446744073709551616' is out of range"),
    ("I = 9223372036854775808;", "does not fit in a signed 64-bit integer"),
    ("I = 1uLuL;", "invalid integer suffix 'uLuL'"),
    ("I = 1lL;", "invalid integer suffix 'lL'"),
    ("I = 09;", "invalid octal literal '09'"),
    ("V = 1e39f;", "floating-point literal '1e39f' is out of range for float"),
    ("V = 1e400;", "floating-point literal '1e400' is out of range"),
])
def test_out_of_range_and_malformed_literals(code, message):
    err = _code_error(code)
    assert message in str(err), str(err)


@pytest.mark.parametrize("code,message", [
    ("V = V % 2;", "operator '%' needs integer operands, but the left operand is "
                   "floating-point (use fmod(a, b)"),
    ("V %= 2;", "operator '%=' needs integer operands, but the variable is floating-point"),
    ("I = I << 1.5f;", "operator '<<' needs integer operands, but the right operand"),
    ("I = ~V;", "operator '~' needs an integer operand"),
    ("B++;", "operator '++' cannot be applied to a bool"),
    ("(V + 1)++;", "the operand of '++' must be a variable"),
    ("break;", "'break' is only allowed inside a loop of the code string"),
    ("continue;", "'continue' is only allowed inside a loop"),
    ("int x = 1; int x = 2;", "local 'x' is declared twice in the same scope"),
    ("for (int i = 0; i < 2; i++) { int i = 3; }", "local 'i' is declared twice"),
    ("int new = 1;", "local name 'new' is not allowed: it is a C/C++ keyword"),
    ("scalar t = 1.0;", "cannot declare local 't': it already names a time"),
    ("const int q;", "constant local 'q' needs an initial value"),
    ("scalar y = 1.0; { scalar y = y + 1.0; }", "local 'y' is used in its own initialiser"),
    ("V = assert(V > 0);", "'assert' must be called as a statement of its own"),
    ("V = gennrand_gamma(E);", "'E' is an array"),
    ("V = " + "(" * 100 + "V" + ")" * 100 + ";", "nested too deeply"),
    ("V = " + " + ".join(["V"] * 500) + ";", "nested too deeply"),
])
def test_type_and_statement_checks(code, message):
    err = _code_error(code)
    assert message in str(err), str(err)


def test_add_to_post_in_an_expression_and_delay_with_float():
    m, _ = _wu_model("g = addToPost(g) * 2.0;")
    with pytest.raises(CodeError, match=r"'addToPost' must be called as a statement"):
        m.build()
    m, sg = _wu_model("addToPostDelay(g, 1.5f);")
    sg.max_dendritic_delay_timesteps = 4
    with pytest.raises(CodeError, match=r"argument 2 of 'addToPostDelay' must be an integer"):
        m.build()


def test_variable_named_t_can_no_longer_replace_time():
    with pytest.raises(ModelError, match=r"variable name 't' is not allowed: it would shadow "
                                         r"the built-in code-string name"):
        create_neuron_model("Timer", vars=[("t", "scalar")], sim_code="t = t + 1;")


def test_break_in_weight_update_code_cannot_leave_the_generated_loop():
    m, _ = _wu_model("if (g > 1.0) break; addToPost(g);")
    with pytest.raises(CodeError, match=r"'break' is only allowed inside a loop"):
        m.build()


# ---------------------------------------------------------------------------
# positive: what is allowed renders, compiles and runs
# ---------------------------------------------------------------------------
def test_locals_named_like_macros_are_safe_under_their_prefix():
    """Code-string locals render as _u_<name>: a local called EOF or errno can
    never meet the macro."""
    src = _renders("int EOF = 2; scalar errno = 1.5f; V = EOF + errno;")
    assert "int _u_EOF = 2;" in src and "_u_errno" in src


def test_literals_are_rendered_canonically():
    src = _renders("I = 010 + 0XFFu + 7LU + 12ll; V = .5 + 2.5d + 1e3;")
    assert "I = 010 + 0xffu + 7ul + 12ll;" in src
    assert "V = 0.5f + 2.5 + 1e3f;" in src


def test_valid_printf_renders_with_casts_compiles_and_prints(capfd):
    nm = create_neuron_model(
        "Printer", vars=[("V", "scalar"), ("I", "int")],
        sim_code='V += 0.25f;\nif (id == 1) printf("id=%d V=%5.2f hex=%x%%\\n", id, V, I);')
    m = _model()
    m.add_neuron_population("Pop", 2, nm, {}, {"V": 1.0, "I": 255})
    m.build()
    with open(m.source_path) as f:
        src = f.read()
    assert ('printf("id=%lld V=%5.2f hex=%llx%%\\n", (long long)(id), (double)(V), '
            '(unsigned long long)(I))') in src
    m.load()
    m.step_time()
    ctypes.CDLL(None).fflush(None)
    out = capfd.readouterr().out
    assert "id=1 V= 1.25 hex=ff%" in out


def test_existing_models_still_build_and_run():
    m = _model()
    pre = m.add_neuron_population("Pre", 3, "LIF", dict(LIF_PARAMS, Ioffset=2.0), LIF_VARS)
    post = m.add_neuron_population("Post", 3, "LIF", LIF_PARAMS, LIF_VARS)
    m.add_synapse_population("S", "DENSE", pre, post,
                             init_weight_update("StaticPulse", {}, {"g": 0.5}),
                             init_postsynaptic("ExpCurr", {"tau": 5.0}))
    m.add_current_source("CS", "DC", post, {"amp": 0.1})
    m.build()
    m.load()
    for _ in range(20):
        m.step_time()
    pre.vars["V"].pull_from_device()
    assert np.all(np.isfinite(pre.vars["V"].view))


# ---------------------------------------------------------------------------
# the helpers other layers use to derive names
# ---------------------------------------------------------------------------
def test_name_helpers_for_other_layers():
    assert valid_identifier("dense_1")
    assert not valid_identifier("dense 1") and not valid_identifier("Pöp")
    assert not valid_identifier("t", declared=True) and valid_identifier("t")
    assert identifier_problem("and") == "it is a C/C++ keyword"
    assert {"and", "bitand", "co_await", "_Atomic", "restrict", "char8_t"} <= KEYWORDS
    taken = {"dense_1_relu"}
    assert safe_identifier("dense 1/relu", taken) == "dense_1_relu_1"
    for text in ["", "1st layer", "class", "_x", "mg_a", "ü", "t", "a\n#include"]:
        name = safe_identifier(text)
        assert valid_identifier(name, declared=True), (text, name)
    assert check_name("ok_name", "thing") == "ok_name"


def test_backend_records_which_egps_the_code_reads():
    """Only name[index] reaches an EGP, and every such use is recorded, so the
    runtime can insist that these EGPs are set before run()."""
    m = _model()
    m.add_neuron_population("Src", 2, "SpikeSourceArray", {},
                            {"startSpike": [0, 1], "endSpike": [1, 2]})
    nm = create_neuron_model("Unread", vars=[("V", "scalar")],
                             extra_global_params=[("E", "scalar*")], sim_code="V += 1.0;")
    m.add_neuron_population("Other", 2, nm, {}, {"V": 0.0})
    backend = CPUBackend(m)
    backend.generate()
    assert ("Src", "spikeTimes") in backend.egps_read
    assert ("Other", "E") not in backend.egps_read


def test_generated_comments_never_carry_raw_text():
    from ml_genn.genn.names import comment
    assert comment("a\nb\\c??=d\x00é") == "a?b?c?_=d?_"
    assert "\n" not in comment("x" * 500) and len(comment("x" * 500)) == 200


def test_postsynaptic_variables_get_their_own_locals():
    """A postsynaptic variable named like a neuron variable (or an additional
    input) no longer shares or shadows its C++ local."""
    nm = create_neuron_model("N", vars=[("x", "scalar")],
                             additional_input_vars=[("Iextra", "scalar", 0.0)],
                             sim_code="x += Isyn + Iextra;")
    ps = create_postsynaptic_model("PS", vars=[("x", "scalar"), ("Iextra", "scalar")],
                                   sim_code="injectCurrent(inSyn + x + Iextra); inSyn = 0;")
    m = _model()
    pre = m.add_neuron_population("Pre", 2, "LIF", LIF_PARAMS, LIF_VARS)
    post = m.add_neuron_population("Post", 2, nm, {}, {"x": 0.0})
    m.add_synapse_population("S", "DENSE", pre, post,
                             init_weight_update("StaticPulse", {}, {"g": 1.0}),
                             init_postsynaptic(ps, {}, {"x": 1.0, "Iextra": 2.0}))
    src = CPUBackend(m).generate()
    assert "Isyn += (inSyn + _psm_x + _psm_Iextra);" in src


@pytest.mark.parametrize("code", ["I = I / 0;", "I = I % (0);", "I /= 0u;", "I %= 0x0;"])
def test_integer_division_by_a_literal_zero(code):
    """Integer division by zero traps (SIGFPE; g++ even turns a literal one
    into an illegal instruction): a literal zero divisor is a CodeError."""
    e = _code_error(code)
    assert "by zero" in str(e) and ("division" in str(e) or "remainder" in str(e))


@pytest.mark.parametrize("code,count", [("I = I << 64;", "64"), ("I = 1 >> -1;", "-1"),
                                        ("I <<= (70);", "70"), ("I >>= 0x40;", "64")])
def test_constant_shift_counts_outside_0_to_63(code, count):
    """Shifting by a negative count or by the type's width or more is
    undefined in C++ for every integer type: refused before the compiler."""
    e = _code_error(code)
    assert f"shift count {count}" in str(e) and "outside 0..63" in str(e)


def test_shift_counts_inside_the_range_render():
    src = _renders("I = I << 3; I >>= 63; I = I << I;")
    assert "I = I << 3;" in src and "I >>= 63;" in src


def test_integer_division_by_a_variable_goes_through_the_checked_helper():
    src = _renders("I = I / I; I %= I; I = I / 2; V = V / 0.0;")
    assert "I = mg_idiv((I), (I));" in src
    assert "mg_imod_assign(I, (I));" in src
    assert "I = I / 2;" in src         # a non-zero literal divisor stays a plain division
    assert "V = V / 0.0f;" in src      # floating-point division is never wrapped


@pytest.mark.parametrize("code,message", [
    ("V = 1e-999;", "floating-point literal '1e-999' is too small for float: it would "
                    "silently become 0"),
    ("V = 1e-50f;", "'1e-50f' is too small for float"),
    ("V = 1e-400d;", "'1e-400d' is too small for double"),
])
def test_literals_that_underflow_to_zero(code, message):
    assert message in str(_code_error(code))


def test_small_and_zero_literals_that_are_fine():
    src = _renders("V = 0.0e-999; V = 1e-40f; V = 1e-300d; V = 0e5;")
    assert "1e-40f" in src and "1e-300" in src


def test_long_else_if_chain_names_the_limit():
    from ml_genn.genn.code.parser import MAX_NESTING, parse_statements
    chain = " else ".join(f"if (x == {i}) {{ y = {i}; }}" for i in range(MAX_NESTING + 5))
    with pytest.raises(CodeError, match=r"nested too deeply.*each 'else if' of a chain "
                                        r"counts as one level"):
        parse_statements(chain)
    short = " else ".join(f"if (x == {i}) {{ y = {i}; }}" for i in range(MAX_NESTING - 5))
    assert parse_statements(short).children


def test_names_cannot_be_changed_past_their_checks():
    m = GeNNModel("float", "renames")
    pop = m.add_neuron_population("P", 2, "Poisson", {"rate": 1.0}, {"timeStepToSpike": 0.0})
    with pytest.raises(AttributeError):
        pop.name = "a-b"                       # the model's tables are keyed by it
    with pytest.raises(AttributeError):
        pop.snippet.class_name = "x\n#include <cstdlib>"
    with pytest.raises(ModelError, match=r"model name .*'\.\./x'"):
        m.model_name = "../x"
    m.model_name = "renamed_ok"
    assert m.model_name == "renamed_ok" and pop.name == "P"
