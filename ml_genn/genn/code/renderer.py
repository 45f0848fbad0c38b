"""Render a parsed code string into C/C++/CUDA against an Environment.

Rendering is also the check: an unknown identifier, a write to a read-only
name, a wrong argument count, an unsupported type, an operator applied to
the wrong kind of operand, a string literal outside ``printf`` or a literal
out of range raises :class:`~ml_genn.genn.errors.CodeError` here, before any
compiler runs.  Whatever renders must compile: a compiler error on rendered
code is a bug of this module (``tests/test_code_fuzz.py`` checks it).

Every expression gets a type class: ``bool``, ``int`` (any integer type),
``float`` (any floating type) or ``void`` (statement-only functions).
Locals declared by a code string are rendered as ``_u_<name>``: no macro of
the included headers, no generated name and no model name can take that
form (user names may not start with ``_``), so a local can never collide
with anything in the generated C++.
"""
import math
import re

import numpy as np

from ..errors import CodeError
from ..names import identifier_problem
from ..types import NUMERIC_TYPES
from .environment import Environment, Function, Local, Value
from .parser import parse_expression, parse_statements

INDENT = "    "
LOCAL_PREFIX = "_u_"

_FLOAT_TYPES = {"float", "double", "scalar", "timepoint"}
_INT_ONLY_OPS = {"%", "&", "|", "^", "<<", ">>", "%=", "&=", "|=", "^=", "<<=", ">>="}
_U64_MAX = 2 ** 64 - 1
_I64_MAX = 2 ** 63 - 1
_FLT_MAX = 3.4028234663852886e38

# printf: conversions we accept, and the argument cast and length modifier
# each one is rendered with, so no format/argument mismatch can reach printf.
_CONVERSION = re.compile(r"%([-+ #0]*)([0-9]*)((?:\.[0-9]+)?)([a-zA-Z%*]?)")
_PRINTF_CASTS = {**{c: ("long long", "ll") for c in "di"},
                 **{c: ("unsigned long long", "ll") for c in "ouxX"},
                 **{c: ("double", "") for c in "eEfgG"},
                 "c": ("int", "")}


def type_class(ctype):
    """'bool', 'int', 'float' or 'void' for a C type name."""
    t = (ctype or "scalar").replace("const ", "").strip()
    if t == "void":
        return "void"
    if t == "bool":
        return "bool"
    if t in _FLOAT_TYPES:
        return "float"
    return "int"


def _is_integer(t):
    return t in ("bool", "int")


def type_to_c(words, pointer, tok=None):
    """Map declaration words (e.g. ['const', 'unsigned', 'int']) to C."""
    core = [w for w in words if w != "const"]
    name = " ".join(core)
    if name == "signed":
        name = "int"
    elif name.startswith("signed "):
        name = name[len("signed "):]
    if name not in NUMERIC_TYPES or pointer:
        raise CodeError(f"unsupported type '{' '.join(words)}'; supported types: "
                        + ", ".join(sorted(NUMERIC_TYPES)),
                        line=tok.line if tok else None,
                        column=tok.col if tok else None)
    return ("const " if "const" in words else "") + name


def _mentions(node, name):
    """Whether the expression ``node`` uses the identifier ``name``."""
    todo = [node]
    while todo:
        n = todo.pop()
        if n is None:
            continue
        if n.kind in ("name", "call") and n.text == name:
            return True
        todo.extend(n.children)
    return False


def _err(msg, tok, identifier=None):
    return CodeError(msg, line=tok.line, column=tok.col, identifier=identifier)


class Renderer:
    """Turns AST nodes into C text.

    ``precision`` is "float" or "double": unsuffixed floating literals take
    it.  ``hooks`` maps statement keywords (``for_each_synapse``) to
    callables producing lines.
    """

    def __init__(self, precision, hooks=None):
        self.precision = precision
        self.hooks = hooks or {}
        self.loops = 0          # loops of the code string around the statement

    # -- public ---------------------------------------------------------
    def statements(self, code, env, indent=1, context=None, new_scope=False):
        """Render a statement code string; returns a list of lines."""
        with _context(context, code):
            ast = parse_statements(code)
            scope = env.child() if new_scope else env
            lines = []
            saved, self.loops = self.loops, 0
            try:
                for stmt in ast.children:
                    lines.extend(self.stmt(stmt, scope, indent))
            finally:
                self.loops = saved
            return lines

    def expression(self, code, env, context=None):
        with _context(context, code):
            return self.expr(parse_expression(code), env)

    # -- statements -----------------------------------------------------
    def stmt(self, node, env, indent):
        pad = INDENT * indent
        k = node.kind
        if k == "block":
            inner = env.child()
            lines = [pad + "{"]
            for s in node.children:
                lines.extend(self.stmt(s, inner, indent + 1))
            lines.append(pad + "}")
            return lines
        if k == "empty":
            return [pad + ";"]
        if k == "expr":
            expr = node.children[0]
            if expr.kind == "call":
                sym = env.lookup(expr.text)
                if isinstance(sym, Function) and sym.statement:
                    text = self.call(expr, env, as_statement=True)[0]
                    return [pad + text + ("" if text.endswith("}") else ";")]
            return [pad + self.expr(expr, env) + ";"]
        if k == "decl":
            return [pad + self.decl(node, env) + ";"]
        if k == "if":
            cond, then, els = node.children
            lines = [pad + f"if ({self.cond(cond, env)})"]
            lines.extend(self._body(then, env, indent))
            if els is not None:
                if els.kind == "if":      # keep "else if" chains flat
                    chained = self.stmt(els, env, indent)
                    lines.append(pad + "else " + chained[0].lstrip())
                    lines.extend(chained[1:])
                else:
                    lines.append(pad + "else")
                    lines.extend(self._body(els, env, indent))
            return lines
        if k == "while":
            cond, body = node.children
            head = pad + f"while ({self.cond(cond, env)})"
            return [head] + self._loop_body(body, env, indent)
        if k == "do":
            body, cond = node.children
            lines = [pad + "do"] + self._loop_body(body, env, indent)
            lines.append(pad + f"while ({self.cond(cond, env)});")
            return lines
        if k == "for":
            init, cond, step, body = node.children
            scope = env.child()
            if init.kind == "decl":
                init_text = self.decl(init, scope)
            elif init.kind == "expr":
                init_text = self.expr(init.children[0], scope)
            else:
                init_text = ""
            cond_text = self.cond(cond, scope) if cond is not None else ""
            step_text = self.expr(step, scope) if step is not None else ""
            head = pad + f"for ({init_text}; {cond_text}; {step_text})"
            # C++: the body's outermost scope shares the declarative region of
            # the for-init, so it may not redeclare the loop variable.
            inner = scope.child()
            inner.for_init = scope
            return [head] + self._loop_body(body, inner, indent, same_scope=True)
        if k in ("break", "continue"):
            if self.loops == 0:
                raise _err(f"'{k}' is only allowed inside a loop of the code string", node.tok)
            return [pad + k + ";"]
        if k == "return":
            raise _err("'return' is not allowed in code strings", node.tok)
        if k == "for_each_synapse":
            hook = self.hooks.get("for_each_synapse")
            if hook is None:
                raise _err("'for_each_synapse { ... }' is only available in row_update_code "
                           "of custom connectivity updates (host_update_code loops over "
                           "row_length[i] and ind[i * row_stride + j] itself) and in "
                           "diagonal_build_code of toeplitz connectivity", node.tok)
            saved, self.loops = self.loops, 0
            try:
                return hook(self, node.children[0], env, indent)
            finally:
                self.loops = saved
        raise _err(f"unsupported statement '{k}'", node.tok)

    def _loop_body(self, node, env, indent, same_scope=False):
        self.loops += 1
        try:
            if same_scope:
                pad = INDENT * indent
                lines = [pad + "{"]
                for s in (node.children if node.kind == "block" else [node]):
                    lines.extend(self.stmt(s, env, indent + 1))
                return lines + [pad + "}"]
            return self._body(node, env, indent)
        finally:
            self.loops -= 1

    def _body(self, node, env, indent):
        if node.kind == "block":
            return self.stmt(node, env, indent)
        return self.stmt(node, env.child(), indent + 1)

    def decl(self, node, env):
        words, pointer = node.extra
        ctype = type_to_c(words, pointer, node.tok)
        const = "const" in words
        parts = []
        for d in node.children:
            name = d.text
            if name.startswith("_"):
                raise _err(f"local name '{name}' starts with '_', which is reserved for "
                           "generated code; choose another name", d.tok, name)
            problem = identifier_problem(name)
            if problem is not None:
                raise _err(f"local name '{name}' is not allowed: {problem}; choose "
                           "another name", d.tok, name)
            existing = env.lookup(name)
            if existing is not None and not isinstance(existing, Local):
                raise _err(f"cannot declare local '{name}': it already names a "
                           f"{existing.description}; choose another name", d.tok, name)
            for_init = getattr(env, "for_init", None)
            if env.lookup_local_scope(name) is not None or (
                    for_init is not None and for_init.lookup_local_scope(name) is not None):
                raise _err(f"local '{name}' is declared twice in the same scope; choose "
                           "another name or assign to the existing one", d.tok, name)
            init = d.children[0]
            if init is None and const:
                raise _err(f"constant local '{name}' needs an initial value "
                           f"('const ... {name} = value;')", d.tok, name)
            init_text = ""
            if init is not None:
                if _mentions(init, name):
                    # C++ would read the new, uninitialised local here
                    raise _err(f"local '{name}' is used in its own initialiser; choose "
                               "another name for the new local", d.tok, name)
                text, t = self._expr(init, env)
                self._value(t, init)
                init_text = " = " + text
            # defined after its initialiser: 'int x = x;' names the outer x
            env.define(name, Local(LOCAL_PREFIX + name, writable=not const, ctype=ctype))
            parts.append(LOCAL_PREFIX + name + init_text)
        return ctype + " " + ", ".join(parts)

    # -- expressions ----------------------------------------------------
    def expr(self, node, env):
        """C text of an expression (checked)."""
        text, t = self._expr(node, env)
        return text

    def cond(self, node, env):
        text, t = self._expr(node, env)
        self._value(t, node)
        return text

    @staticmethod
    def _value(t, node, what="a value"):
        if t == "void":
            raise _err(f"this expression has no value and cannot be used as {what}",
                       node.tok)
        if t == "string":
            raise _err("string literals are only allowed as the format of printf(...)",
                       node.tok)

    def _expr(self, node, env):
        k = node.kind
        if k == "number":
            return self.literal(node.text, node.tok)
        if k == "string":
            raise _err("string literals are only allowed as the first argument of "
                       "printf(...)", node.tok)
        if k == "name":
            sym = self.resolve(node, env)
            if isinstance(sym, Function):
                raise _err(f"'{node.text}' is a {sym.description} and must be called "
                           "with '(...)'", node.tok, node.text)
            if sym.pointer:
                raise _err(f"'{node.text}' is an array ({sym.description}); read one "
                           f"element with {node.text}[index]", node.tok, node.text)
            return sym.text, type_class(sym.ctype)
        if k == "paren":
            text, t = self._expr(node.children[0], env)
            return "(" + text + ")", t
        if k == "unary":
            text, t = self._expr(node.children[0], env)
            self._value(t, node)
            op = node.text
            if op == "~" and not _is_integer(t):
                raise _err("operator '~' needs an integer operand, not a floating-point "
                           "one; cast it first, e.g. ~(int)x", node.tok)
            sep = " " if text[:1] in ("+", "-") else ""
            out_t = "bool" if op == "!" else ("int" if t == "bool" else t)
            return op + sep + text, out_t
        if k == "binary":
            (a, ta), (b, tb) = (self._expr(c, env) for c in node.children)
            op = node.text
            if op == ",":
                self._value(ta, node.children[0])
                self._value(tb, node.children[1])
                return a + ", " + b, tb
            self._value(ta, node.children[0])
            self._value(tb, node.children[1])
            if op in _INT_ONLY_OPS and not (_is_integer(ta) and _is_integer(tb)):
                hint = " (use fmod(a, b) for a floating-point remainder)" if op == "%" else ""
                raise _err(f"operator '{op}' needs integer operands, but "
                           f"{'the left' if not _is_integer(ta) else 'the right'} operand is "
                           f"floating-point{hint}", node.tok)
            if op in ("==", "!=", "<", ">", "<=", ">=", "&&", "||"):
                t = "bool"
            elif "float" in (ta, tb):
                t = "float"
            else:
                t = "int"
            if op in ("<<", ">>"):
                self._check_shift(op, node.children[1], node.tok)
            if op in ("/", "%") and _is_integer(ta) and _is_integer(tb):
                return self._int_division(op, a, b, node.children[1], node.tok), t
            return f"{a} {op} {b}", t
        if k == "ternary":
            (c, tc), (a, ta), (b, tb) = (self._expr(x, env) for x in node.children)
            for t, child in zip((tc, ta, tb), node.children):
                self._value(t, child)
            t = "float" if "float" in (ta, tb) else ("bool" if ta == tb == "bool" else "int")
            return f"{c} ? {a} : {b}", t
        if k == "cast":
            words, pointer = node.extra
            ctype = type_to_c(words, pointer, node.tok)
            text, t = self._expr(node.children[0], env)
            self._value(t, node.children[0])
            return f"({ctype})" + text, type_class(ctype)
        if k == "assign":
            checked = self._checked_store(node.children[0], env)
            if checked is not None:
                return self._render_store(checked, node, env)
            target, tt = self.lvalue(node.children[0], env, node.tok)
            value, tv = self._expr(node.children[1], env)
            self._value(tv, node.children[1])
            op = node.text
            if op in _INT_ONLY_OPS and not (_is_integer(tt) and _is_integer(tv)):
                raise _err(f"operator '{op}' needs integer operands, but "
                           f"{'the variable' if not _is_integer(tt) else 'the value'} is "
                           "floating-point", node.tok)
            if op in ("<<=", ">>="):
                self._check_shift(op, node.children[1], node.tok)
            if op in ("/=", "%=") and _is_integer(tt) and _is_integer(tv):
                return self._int_division(op, target, value, node.children[1], node.tok), tt
            return f"{target} {op} {value}", tt
        if k in ("preinc", "postinc"):
            checked = self._checked_store(node.children[0], env)
            if checked is not None:
                return self._render_store(checked, node, env)
            target, tt = self.lvalue(node.children[0], env, node.tok)
            if tt == "bool":
                raise _err(f"operator '{node.text}' cannot be applied to a bool", node.tok)
            return (node.text + target if k == "preinc" else target + node.text), tt
        if k == "index":
            return self.index(node, env, write=False)
        if k == "call":
            return self.call(node, env)
        raise _err(f"unsupported expression '{k}'", node.tok)

    def _constant_int(self, node):
        """The value of an integer literal (in parentheses, possibly negated),
        or None when ``node`` is not one."""
        sign = 1
        while node.kind in ("paren", "unary") and (node.kind == "paren" or
                                                   node.text in ("+", "-")):
            if node.kind == "unary" and node.text == "-":
                sign = -sign
            node = node.children[0]
        m = self._INT_LITERAL.match(node.text) if node.kind == "number" else None
        if m is None:
            return None
        digits = m.group(1)
        value = int(digits, 16) if digits[:2].lower() == "0x" else \
            int(digits, 8) if len(digits) > 1 and digits[0] == "0" else int(digits)
        return sign * value

    def _check_shift(self, op, count, tok):
        """A constant shift count outside 0..63 is undefined behaviour for
        every integer type (the compiler may do anything): refused."""
        value = self._constant_int(count)
        if value is not None and not 0 <= value < 64:
            raise _err(f"shift count {value} of '{op}' is outside 0..63 (undefined in "
                       "C++ for every integer type)", tok)

    def _int_division(self, op, a, b, divisor, tok):
        """Integer ``/`` and ``%`` (and ``/=``, ``%=``): a zero divisor (and
        INT_MIN / -1) would trap and kill the process (SIGFPE), so unless the
        divisor is a non-zero literal the division goes through a helper that
        records the error (raised in Python after the step) instead."""
        while divisor.kind == "paren":
            divisor = divisor.children[0]
        if divisor.kind == "number" and self._INT_LITERAL.match(divisor.text):
            digits = self._INT_LITERAL.match(divisor.text).group(1)
            value = int(digits, 16) if digits[:2].lower() == "0x" else \
                int(digits, 8) if len(digits) > 1 and digits[0] == "0" else int(digits)
            if value == 0:
                raise _err(f"integer {'division' if op[0] == '/' else 'remainder'} by zero "
                           f"('{op} 0')", tok)
            return f"{a} {op} {b}"
        helper = {"/": "mg_idiv", "%": "mg_imod", "/=": "mg_idiv_assign",
                  "%=": "mg_imod_assign"}[op]
        return f"{helper}(({a}), ({b}))" if op[-1] != "=" else f"{helper}({a}, ({b}))"

    _INT_LITERAL = re.compile(r"(0[xX][0-9a-fA-F]+|[0-9]+)([uUlL]*)\Z")
    _INT_SUFFIXES = {"": "", "u": "u", "l": "l", "ul": "ul", "lu": "ul", "ll": "ll",
                     "ull": "ull", "llu": "ull"}

    def literal(self, text, tok=None):
        """(C text, type class) of a literal, checked and written canonically."""
        tok = tok or _NoTok
        low = text.lower()
        if low in ("true", "false"):
            return low, "bool"
        m = self._INT_LITERAL.match(text)
        if m:
            digits, suffix = m.groups()
            canon = self._INT_SUFFIXES.get(suffix.lower())
            if canon is None or "lL" in suffix or "Ll" in suffix:
                raise _err(f"invalid integer suffix '{suffix}' in '{text}'; use u, l, ul, "
                           "ll or ull", tok)
            if digits[:2].lower() == "0x":
                value = int(digits, 16)
                out = "0x" + digits[2:].lower()
            elif len(digits) > 1 and digits[0] == "0":
                if not set(digits) <= set("01234567"):
                    raise _err(f"invalid octal literal '{text}' (a leading 0 means octal: "
                               "digits 0-7 only); remove the leading 0", tok)
                value = int(digits, 8)
                out = "0" + digits.lstrip("0") if value else "0"
            else:
                value = int(digits)
                out = str(value)
            if value > _U64_MAX:
                raise _err(f"integer literal '{text}' is out of range (largest: "
                           f"{_U64_MAX})", tok)
            if value > _I64_MAX and "u" not in canon and not out.startswith("0"):
                # C++ would give it an implementation-defined 128-bit type
                raise _err(f"integer literal '{text}' does not fit in a signed 64-bit "
                           f"integer (largest: {_I64_MAX}); add the suffix 'u' to make it "
                           "unsigned", tok)
            return out + canon, "int"
        # floating literal: digits with '.', exponent; suffix f/F or d/D
        body, suffix = text, ""
        if low[-1] in "fd":
            body, suffix = text[:-1], low[-1]
        try:
            value = float(body)
        except ValueError:
            raise _err(f"invalid number '{text}'", tok) from None
        single = suffix == "f" or (suffix == "" and self.precision == "float")
        limit = _FLT_MAX if single else 1.7976931348623157e308
        if math.isinf(value) or abs(value) > limit:
            raise _err(f"floating-point literal '{text}' is out of range for "
                       f"{'float' if single else 'double'}", tok)
        mantissa = re.split(r"[eE]", body)[0]
        rounded = float(np.float32(value)) if single else value
        if rounded == 0.0 and re.search(r"[1-9]", mantissa):
            raise _err(f"floating-point literal '{text}' is too small for "
                       f"{'float' if single else 'double'}: it would silently become 0",
                       tok)
        out = body.lower()
        if out.startswith("."):
            out = "0" + out
        if "." not in out and "e" not in out:
            out += ".0"
        return out + ("f" if single else ""), "float"

    def resolve(self, node, env):
        name = node.text
        sym = env.lookup(name)
        if sym is None:
            raise CodeError(f"unknown identifier '{name}'.", line=node.tok.line,
                            column=node.tok.col, identifier=name,
                            candidates=env.all_names(),
                            preferred=env.all_names(include_root=False))
        env.mark_used(name)
        return sym

    def lvalue(self, node, env, op_tok):
        """(C text, type class) of an assignable expression."""
        if node.kind == "paren":
            text, t = self.lvalue(node.children[0], env, op_tok)
            return "(" + text + ")", t
        if node.kind == "index":
            return self.index(node, env, write=True)
        if node.kind != "name":
            raise _err(f"the operand of '{op_tok.text}' must be a variable (or an element "
                       "name[index])", op_tok)
        sym = self.resolve(node, env)
        if isinstance(sym, Function) or not sym.writable:
            desc = sym.description
            raise CodeError(f"cannot assign to '{node.text}': it is read-only ({desc})."
                            + (f" {sym.read_only_hint}" if getattr(sym, "read_only_hint", "")
                               else ""),
                            line=node.tok.line, column=node.tok.col, identifier=node.text)
        if sym.pointer:
            raise _err(f"'{node.text}' is an array ({sym.description}); assign one "
                       f"element with {node.text}[index] = ...", node.tok, node.text)
        env.mark_written(node.text)
        return sym.text, type_class(sym.ctype)

    def _checked_store(self, node, env):
        """(symbol, index node) when ``node`` is an element of an array
        whose writes are checked (a symbol with ``store``), else None."""
        while node.kind == "paren":
            node = node.children[0]
        if node.kind != "index" or node.children[0].kind != "name":
            return None
        sym = env.lookup(node.children[0].text)
        if isinstance(sym, Function) or sym is None or getattr(sym, "store", None) is None:
            return None
        return sym, node

    def _render_store(self, checked, node, env):
        """An assignment (``=``, ``+=``, ``-=``) or increment of an element
        of a checked array, through its ``store``."""
        sym, target = checked
        base, idx = target.children
        name = base.text
        if not sym.writable:
            raise _err(f"cannot assign to elements of '{name}': it is read-only",
                       base.tok, name)
        self.resolve(base, env)
        env.mark_written(name)
        idx_text, ti = self._expr(idx, env)
        self._value(ti, idx)
        if not _is_integer(ti):
            raise _err(f"the index of '{name}[...]' must be an integer, not floating-point; "
                       "cast it, e.g. (unsigned int)x", idx.tok)
        if node.kind in ("preinc", "postinc"):
            op = "+=" if node.text == "++" else "-="
            value, tv = "1", "int"
        else:
            op = node.text
            if op not in ("=", "+=", "-="):
                raise _err(f"'{op}' cannot be applied to elements of '{name}' ({sym.description}:"
                           f" every write is range-checked); write {name}[i] = ... "
                           "(or use += / -=)", node.tok, name)
            value, tv = self._expr(node.children[1], env)
            self._value(tv, node.children[1])
        if not _is_integer(tv):
            raise _err(f"elements of '{name}' ({sym.description}) are integers: the value "
                       "written must be an integer, not floating-point; cast it, e.g. "
                       "(unsigned int)x", node.tok, name)
        return sym.store(idx_text, op, value, node.kind == "postinc"), type_class(sym.ctype)

    def index(self, node, env, write):
        base, idx = node.children
        if base.kind != "name":
            raise _err("only arrays (extra global parameters) can be subscripted: "
                       "write name[index]", node.tok)
        sym = self.resolve(base, env)
        if isinstance(sym, Function) or not (sym.pointer or sym.index):
            raise _err(f"'{base.text}' is a {sym.description}, not an array, and "
                       "cannot be subscripted", base.tok, base.text)
        if write and not sym.writable:
            raise _err(f"cannot assign to elements of '{base.text}': it is read-only",
                       base.tok, base.text)
        if write:
            env.mark_written(base.text)
        idx_text, t = self._expr(idx, env)
        self._value(t, idx)
        if not _is_integer(t):
            raise _err(f"the index of '{base.text}[...]' must be an integer, not "
                       "floating-point; cast it, e.g. (unsigned int)x", idx.tok)
        if sym.index is not None:
            return sym.index(idx_text), type_class(sym.ctype)
        return f"{sym.text}[{idx_text}]", type_class(sym.ctype)

    def call(self, node, env, as_statement=False):
        """(C text, type class) of a call."""
        sym = self.resolve(node, env)
        if not isinstance(sym, Function):
            raise _err(f"'{node.text}' is a {sym.description}, not a function", node.tok,
                       node.text)
        if sym.statement and not as_statement:
            raise _err(f"'{node.text}' must be called as a statement of its own, "
                       "not inside an expression", node.tok, node.text)
        n = len(node.children)
        if not sym.min_args <= n <= sym.max_args:
            if sym.min_args == sym.max_args:
                want = f"{sym.min_args}"
            elif sym.max_args >= 99:
                want = f"at least {sym.min_args}"
            else:
                want = f"{sym.min_args} to {sym.max_args}"
            raise CodeError(f"'{node.text}' takes {want} argument"
                            f"{'' if want == '1' else 's'} but was given {n}",
                            line=node.tok.line, column=node.tok.col, identifier=node.text)
        if sym.returns == "printf":
            return self._printf(node, env, sym)
        args, types = [], []
        for i, a in enumerate(node.children):
            text, t = self._expr(a, env)
            self._value(t, a, f"an argument of '{node.text}'")
            if i in sym.int_args and not _is_integer(t):
                raise _err(f"argument {i + 1} of '{node.text}' must be an integer, not "
                           "floating-point; cast it, e.g. (unsigned int)x", a.tok, node.text)
            args.append(text)
            types.append(t)
        if sym.returns == "args":
            t = "float" if "float" in types else "int"
        else:
            t = type_class(sym.returns)
        return sym.render(args), t

    def _printf(self, node, env, sym):
        fmt_node, *rest = node.children
        if fmt_node.kind != "string":
            raise _err("the first argument of printf must be a format string literal",
                       fmt_node.tok)
        raw = fmt_node.text[1:-1]
        for i, ch in enumerate(raw):
            if not " " <= ch <= "~":
                raise _err(f"printf format: character {ch!r} is not printable ASCII",
                           fmt_node.tok)
        # escapes
        i = 0
        while i < len(raw):
            if raw[i] == "\\":
                nxt = raw[i + 1:i + 2]
                if nxt not in ("n", "t", "\\", '"'):
                    raise _err(f"printf format: escape '\\{nxt}' is not supported (use "
                               r"\n, \t, \\ or \")", fmt_node.tok)
                i += 2
            else:
                i += 1
        out, convs = [], []
        i = 0
        while i < len(raw):
            if raw[i] != "%":
                out.append(raw[i])
                i += 1
                continue
            m = _CONVERSION.match(raw, i)
            flags, width, prec, conv = m.groups()
            if conv == "%" and not (flags or width or prec):
                out.append("%%")
                i = m.end()
                continue
            if conv not in _PRINTF_CASTS:
                raise _err(f"printf format: conversion '{raw[i:m.end()]}' is not supported; "
                           "use %d %i %u %o %x %X %c %e %E %f %g %G with optional flags "
                           "[-+ #0], width and .precision (no '*', no length modifiers, no "
                           "%s %p %n)", fmt_node.tok)
            cast, length = _PRINTF_CASTS[conv]
            convs.append(cast)
            out.append("%" + flags + width + prec + length + conv)
            i = m.end()
        if len(convs) != len(rest):
            raise _err(f"printf format has {len(convs)} conversion"
                       f"{'' if len(convs) == 1 else 's'} but {len(rest)} argument"
                       f"{'' if len(rest) == 1 else 's'} follow{'s' if len(rest) == 1 else ''}",
                       node.tok, "printf")
        args = ['"' + "".join(out) + '"']
        for cast, a in zip(convs, rest):
            text, t = self._expr(a, env)
            self._value(t, a, "an argument of 'printf'")
            args.append(f"({cast})({text})")
        return sym.render(args), "int"


class _NoTok:
    line = None
    col = None


class _context:
    """Attach model/field/source to CodeErrors raised while rendering."""

    def __init__(self, context, source):
        self.context = context
        self.source = source

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is CodeError and self.context is not None and exc.model is None:
            model, field, *group = self.context
            raise exc.with_context(model, field, self.source,
                                   group[0] if group else None) from None
        return False


__all__ = ["Renderer", "Environment", "Value", "Function", "Local", "type_to_c"]
