"""Identifier validation: which names may reach generated code.

Every name a user gives (model, populations, model classes, parameters,
variables, EGPs, references, code-string locals) ends up in generated C++,
either as an identifier of its own or as part of one.  This module is the
single place that decides whether a name is acceptable:

* an ASCII C identifier ``[A-Za-z_][A-Za-z0-9_]*`` (Python's
  ``str.isidentifier`` also accepts Unicode letters: we do not);
* not a C or C++ keyword or alternative token (``and``, ``bitand``...);
* not starting with ``_`` (reserved for generated code) or ``mg_``/``MG_``
  (the prefix of every generated global);
* names declared by models (parameters, variables, EGPs, references...)
  additionally must not shadow a built-in name of code strings (``t``,
  ``dt``, ``id``, ``Isyn``, ``addToPost``...), a name the generated C++ uses
  as a plain identifier (``step``, ``std``, ``size_t``...), a field name of a
  generated array (``spkCnt``, ``inSyn``...) or a macro of the headers the
  generated code includes (``errno``, ``EOF``, ``M_PI``...).  The static
  macro list is completed at build time by :func:`check_macro_clashes`,
  which asks the compiler for the macros it really defines.

:func:`valid_identifier` and :func:`identifier_problem` let other layers
(the ``ml_genn`` API, the converter) derive safe names from arbitrary
user-facing ones; :func:`safe_identifier` does that derivation.
"""
import functools
import os
import re
import subprocess
import tempfile

from .errors import ModelError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)

#: Longest accepted name (the model name becomes a directory name).
MAX_LENGTH = 200

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto
if inline int long register restrict return short signed sizeof static struct switch
typedef union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex
_Generic _Imaginary _Noreturn _Static_assert _Thread_local
""".split())

CXX_KEYWORDS = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t
char16_t char32_t class compl concept const consteval constexpr constinit const_cast
continue co_await co_return co_yield decltype default delete do double dynamic_cast else
enum explicit export extern false float for friend goto if inline int long mutable
namespace new noexcept not not_eq nullptr operator or or_eq private protected public
register reinterpret_cast requires return short signed sizeof static static_assert
static_cast struct switch template this thread_local throw true try typedef typeid
typename union unsigned using virtual void volatile wchar_t while xor xor_eq
override final import module
""".split())

#: Every word that cannot be an identifier in C or C++.
KEYWORDS = C_KEYWORDS | CXX_KEYWORDS

#: Names with a meaning inside code strings (values and functions).
CODE_VALUE_NAMES = frozenset("""
t dt id id_pre id_post id_syn id_kernel id_diag id_thread id_post_begin batch num_batch
num_neurons num_pre num_post num_threads Isyn inSyn st st_pre st_post value
row_length row_stride
prev_st set prev_set prev_st_pre set_pre prev_set_pre prev_st_post set_post prev_set_post
""".split())
CODE_FUNCTION_NAMES = frozenset("""
addToPost addToPre addToPostDelay addToInSyn addToInSynDelay injectCurrent addSynapse
for_each_synapse add_synapse remove_synapse printf assert min max abs
gennrand gennrand_uniform gennrand_normal gennrand_exponential gennrand_log_normal
gennrand_gamma gennrand_binomial
cos sin tan acos asin atan cosh sinh tanh acosh asinh atanh exp expm1 exp2 log log1p
log2 log10 sqrt cbrt ceil floor round rint trunc nearbyint fabs erf erfc tgamma lgamma
logb ilogb atan2 pow hypot fmod remainder fdim fmax fmin copysign nextafter ldexp scalbn
fma
""".split())

#: Plain identifiers (not ``mg_``/``_`` prefixed) the generated C++ uses,
#: and type names of code strings.
GENERATED_NAMES = frozenset("""
step timestep rec_slot std size_t scalar timepoint nullptr uint8_t int8_t uint16_t
int16_t uint32_t int32_t uint64_t int64_t uintptr_t intptr_t ptrdiff_t memset memcpy
INFINITY NAN main omp_get_thread_num omp_get_max_threads
""".split())

#: Array fields the engine creates per group (keys ``(group, field)``).
INTERNAL_FIELDS = frozenset("""
spkCnt spk dyn psm_dyn recSpk recSpkEvnt st inSyn evntCnt evnt outPre denDelay
rowLength ind timers postEvntCnt postEvnt colStart remap gp
""".split())

#: Standard macros of C/C++ headers (the generated prelude includes some of
#: them) that a user could plausibly pick.  Completed at build time by the
#: compiler's own list for the prelude's real ``#include``s.
STATIC_MACROS = frozenset("""
NULL EOF BUFSIZ FILENAME_MAX FOPEN_MAX L_tmpnam TMP_MAX SEEK_SET SEEK_CUR SEEK_END
stdin stdout stderr errno assert NDEBUG offsetof setjmp va_arg va_start va_end va_copy
_IOFBF _IOLBF _IONBF
INFINITY NAN HUGE_VAL HUGE_VALF HUGE_VALL FP_NAN FP_INFINITE FP_ZERO FP_SUBNORMAL
FP_NORMAL FP_ILOGB0 FP_ILOGBNAN FP_FAST_FMA FP_FAST_FMAF FP_FAST_FMAL MATH_ERRNO
MATH_ERREXCEPT math_errhandling M_E M_LOG2E M_LOG10E M_LN2 M_LN10 M_PI M_PI_2 M_PI_4
M_1_PI M_2_PI M_2_SQRTPI M_SQRT2 M_SQRT1_2 isnan isinf isfinite isnormal signbit
fpclassify isgreater isgreaterequal isless islessequal islessgreater isunordered
FLT_RADIX FLT_ROUNDS FLT_EVAL_METHOD DECIMAL_DIG FLT_DIG DBL_DIG LDBL_DIG FLT_EPSILON
DBL_EPSILON LDBL_EPSILON FLT_MANT_DIG DBL_MANT_DIG LDBL_MANT_DIG FLT_MAX DBL_MAX LDBL_MAX
FLT_MIN DBL_MIN LDBL_MIN FLT_MAX_EXP DBL_MAX_EXP LDBL_MAX_EXP FLT_MIN_EXP DBL_MIN_EXP
LDBL_MIN_EXP FLT_MAX_10_EXP DBL_MAX_10_EXP LDBL_MAX_10_EXP FLT_MIN_10_EXP DBL_MIN_10_EXP
LDBL_MIN_10_EXP FLT_TRUE_MIN DBL_TRUE_MIN LDBL_TRUE_MIN FLT_DECIMAL_DIG DBL_DECIMAL_DIG
INT8_MIN INT16_MIN INT32_MIN INT64_MIN INT8_MAX INT16_MAX INT32_MAX INT64_MAX UINT8_MAX
UINT16_MAX UINT32_MAX UINT64_MAX INTPTR_MIN INTPTR_MAX UINTPTR_MAX INTMAX_MIN INTMAX_MAX
UINTMAX_MAX PTRDIFF_MIN PTRDIFF_MAX SIZE_MAX SIG_ATOMIC_MIN SIG_ATOMIC_MAX WCHAR_MIN
WCHAR_MAX WINT_MIN WINT_MAX INT8_C INT16_C INT32_C INT64_C UINT8_C UINT16_C UINT32_C
UINT64_C INTMAX_C UINTMAX_C CHAR_BIT CHAR_MIN CHAR_MAX SCHAR_MIN SCHAR_MAX UCHAR_MAX
SHRT_MIN SHRT_MAX USHRT_MAX INT_MIN INT_MAX UINT_MAX LONG_MIN LONG_MAX ULONG_MAX
LLONG_MIN LLONG_MAX ULLONG_MAX MB_LEN_MAX RAND_MAX EXIT_SUCCESS EXIT_FAILURE
CLOCKS_PER_SEC TIME_UTC EDOM ERANGE EILSEQ unix linux i386
""".split())


def identifier_problem(name, declared=False, only_identifier=False, literal=False,
                       code_values=CODE_VALUE_NAMES):
    """Why ``name`` may not be used, or ``None`` when it may.

    ``declared`` adds the rules for names declared by models (parameters,
    variables, EGPs, references) which are visible in code strings;
    ``literal``: a parameter, which code strings see but which becomes a
    literal (or an array element), never a C identifier, so the names of
    the generated code, its arrays and its headers' macros are free for it;
    ``code_values``: the built-in value names the model's code strings see
    (a declared name may not shadow them);
    ``only_identifier`` checks just the form (the model name, which only
    appears in a comment and a directory name, may be ``signed``)."""
    if not isinstance(name, str):
        return f"it must be a string, not {type(name).__name__}"
    if not name:
        return "it is empty"
    if len(name) > MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH} characters"
    if not _IDENT.fullmatch(name):
        return ("it is not a C identifier: use only ASCII letters, digits and '_', "
                "not starting with a digit")
    if only_identifier:
        return None
    if name in KEYWORDS:
        return "it is a C/C++ keyword"
    if name.startswith("_"):
        return "names starting with '_' are reserved for generated code"
    if name[:3] in ("mg_", "MG_"):
        return "names starting with 'mg_'/'MG_' are reserved for generated code"
    if declared:
        if name in code_values:
            return "it would shadow the built-in code-string name of the same name"
        if name in CODE_FUNCTION_NAMES:
            return "it would shadow the built-in code-string function of the same name"
        if literal:
            return None
        if name in GENERATED_NAMES:
            return "the generated C++ code uses this name itself"
        if name in INTERNAL_FIELDS:
            return "it names an array the engine creates for every group"
        if name in STATIC_MACROS:
            return "it is a macro of the C/C++ headers the generated code includes"
    return None


def valid_identifier(name, declared=False):
    """True when ``name`` passes :func:`identifier_problem`."""
    return identifier_problem(name, declared) is None


#: Names a parameter may share with a code-string function: parameters become
#: literals, and GeNN's own ``Uniform`` declares ``min`` and ``max``.  Inside
#: such a model the name means the parameter; calling it is a CodeError.
_PARAM_MAY_SHADOW = CODE_FUNCTION_NAMES - {"printf", "assert", "addToPost", "addToPre",
                                           "addToPostDelay", "addToInSyn",
                                           "addToInSynDelay", "injectCurrent",
                                           "addSynapse", "for_each_synapse",
                                           "add_synapse", "remove_synapse"}


def check_name(name, kind, owner=None, declared=False, allow_function_names=False,
               only_identifier=False, code_values=CODE_VALUE_NAMES, c_free=None):
    """Raise :class:`ModelError` unless ``name`` is acceptable as a ``kind``.

    ``allow_function_names``: a parameter, which may share a maths
    function's name; ``c_free``: the name never becomes a C identifier (a
    parameter's literal, a custom update's prefixed local; see
    :func:`identifier_problem`), default ``allow_function_names``.  The
    message names the kind, the value (``repr``), the owner, why, and how to
    fix it."""
    problem = identifier_problem(name, declared, only_identifier,
                                 literal=allow_function_names if c_free is None else c_free,
                                 code_values=code_values)
    if (problem is not None and allow_function_names and isinstance(name, str)
            and name in _PARAM_MAY_SHADOW):
        problem = None
    if problem is None:
        return name
    where = f"{owner}: " if owner else ""
    raise ModelError(f"{where}{kind} name {name!r} is not allowed: {problem}. Choose "
                     "another name made of ASCII letters, digits and '_' (starting with "
                     "a letter)" + (", not a built-in name of code strings" if declared
                                    else ""))


def safe_identifier(text, taken=(), prefix="n"):
    """A valid, not ``taken`` identifier derived from any string ``text``.

    For layers that accept arbitrary user-facing names and keep the original
    for display: ``"dense 1/relu"`` -> ``"dense_1_relu"``."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(text), flags=re.ASCII).strip("_")
    s = re.sub(r"_+", "_", s)[:MAX_LENGTH - 12]
    if not s or s[0].isdigit() or not valid_identifier(s, declared=True):
        s = f"{prefix}_{s}" if s else prefix
        if not valid_identifier(s, declared=True):
            s = prefix
    candidate, i = s, 1
    while candidate in taken or not valid_identifier(candidate, declared=True):
        candidate = f"{s}_{i}"
        i += 1
    return candidate


def comment(text):
    """Text safe inside a ``//`` comment of generated code: one line of
    printable ASCII, no ``\\`` (line continuation) and no trigraphs."""
    s = "".join(c if " " <= c <= "~" and c != "\\" else "?" for c in str(text))
    return s.replace("??", "?_")[:200]


# ---------------------------------------------------------------------------
# build time: the macros the compiler really defines
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def compiler_macros(cxx, includes, flags=()):
    """Names of every macro ``cxx`` (with ``flags``) defines after
    ``#include``-ing ``includes``.

    Falls back to :data:`STATIC_MACROS` when the compiler cannot be run
    (the build then reports the missing compiler itself)."""
    src = "".join(f"#include <{h}>\n" for h in includes)
    try:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.cc")
            with open(path, "w") as f:
                f.write(src)
            proc = subprocess.run([cxx, "-std=c++17", *flags, "-dM", "-E", path],
                                  capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return STATIC_MACROS
    if proc.returncode != 0:
        return STATIC_MACROS
    names = set(STATIC_MACROS)
    for line in proc.stdout.splitlines():
        m = re.match(r"#define\s+([A-Za-z_][A-Za-z0-9_]*)", line)
        if m:
            names.add(m.group(1))
    return frozenset(names)


def check_macro_clashes(named, cxx, includes, flags=()):
    """``named``: iterable of (kind, name, owner).  Raise ModelError for the
    first name that the compiler defines as a macro."""
    macros = compiler_macros(cxx, tuple(includes), tuple(flags))
    for kind, name, owner in named:
        if name in macros:
            where = f"{owner}: " if owner else ""
            raise ModelError(f"{where}{kind} name {name!r} is not allowed: the C++ "
                             f"compiler ({os.path.basename(cxx)}) defines it as a macro in "
                             "the headers the generated code includes. Choose another name")


__all__ = ["KEYWORDS", "C_KEYWORDS", "CXX_KEYWORDS", "CODE_VALUE_NAMES",
           "CODE_FUNCTION_NAMES", "GENERATED_NAMES", "INTERNAL_FIELDS", "STATIC_MACROS",
           "identifier_problem", "valid_identifier", "check_name", "safe_identifier",
           "comment", "compiler_macros", "check_macro_clashes", "MAX_LENGTH"]
