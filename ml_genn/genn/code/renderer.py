"""Render a parsed code string into C/C++/CUDA against an Environment.

Rendering is also the check: an unknown identifier, a write to a read-only
name, a wrong argument count or an unsupported type raises
:class:`~ml_genn.genn.errors.CodeError` here, before any compiler runs.
"""
from ..errors import CodeError
from ..types import NUMERIC_TYPES
from .environment import Environment, Function, Local, Value
from .parser import parse_expression, parse_statements

INDENT = "    "


def type_to_c(words, pointer, tok=None):
    """Map declaration words (e.g. ['const', 'unsigned', 'int']) to C."""
    core = [w for w in words if w != "const"]
    name = " ".join(core)
    if name == "signed":
        name = "int"
    elif name.startswith("signed "):
        name = name[len("signed "):]
    if name not in NUMERIC_TYPES:
        raise CodeError(f"unsupported type '{' '.join(words)}'; supported types: "
                        + ", ".join(sorted(NUMERIC_TYPES)),
                        line=tok.line if tok else None,
                        column=tok.col if tok else None)
    text = ("const " if "const" in words else "") + name
    return text + ("*" if pointer else "")


class Renderer:
    """Turns AST nodes into C text.

    ``precision`` is "float" or "double": unsuffixed floating literals take
    it.  ``hooks`` maps statement keywords (``for_each_synapse``) to
    callables producing lines.
    """

    def __init__(self, precision, hooks=None):
        self.precision = precision
        self.hooks = hooks or {}

    # -- public ---------------------------------------------------------
    def statements(self, code, env, indent=1, context=None, new_scope=False):
        """Render a statement code string; returns a list of lines."""
        with _context(context, code):
            ast = parse_statements(code)
            scope = env.child() if new_scope else env
            lines = []
            for stmt in ast.children:
                lines.extend(self.stmt(stmt, scope, indent))
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
            return []
        if k == "expr":
            expr = node.children[0]
            if expr.kind == "call":
                sym = env.lookup(expr.text)
                if isinstance(sym, Function) and sym.statement:
                    return [pad + self.call(expr, env, as_statement=True)]
            return [pad + self.expr(expr, env) + ";"]
        if k == "decl":
            return [pad + self.decl(node, env) + ";"]
        if k == "if":
            cond, then, els = node.children
            lines = [pad + f"if ({self.expr(cond, env)})"]
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
            return [pad + f"while ({self.expr(cond, env)})"] + self._body(body, env, indent)
        if k == "do":
            body, cond = node.children
            lines = [pad + "do"] + self._body(body, env, indent)
            lines.append(pad + f"while ({self.expr(cond, env)});")
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
            cond_text = self.expr(cond, scope) if cond is not None else ""
            step_text = self.expr(step, scope) if step is not None else ""
            return ([pad + f"for ({init_text}; {cond_text}; {step_text})"]
                    + self._body(body, scope, indent))
        if k in ("break", "continue"):
            return [pad + k + ";"]
        if k == "return":
            raise CodeError("'return' is not allowed in code strings",
                            line=node.tok.line, column=node.tok.col)
        if k == "for_each_synapse":
            hook = self.hooks.get("for_each_synapse")
            if hook is None:
                raise CodeError("'for_each_synapse' is only available in toeplitz "
                                "diagonal_build_code", line=node.tok.line,
                                column=node.tok.col)
            return hook(self, node.children[0], env, indent)
        raise CodeError(f"unsupported statement '{k}'", line=node.tok.line,
                        column=node.tok.col)

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
                raise CodeError(f"local name '{name}' starts with '_', which is reserved "
                                "for generated code; choose another name",
                                line=d.tok.line, column=d.tok.col, identifier=name)
            existing = env.lookup(name)
            if existing is not None and not isinstance(existing, Local):
                raise CodeError(f"cannot declare local '{name}': it already names a "
                                f"{existing.description}; choose another name",
                                line=d.tok.line, column=d.tok.col, identifier=name)
            init = d.children[0]
            init_text = (" = " + self.expr(init, env)) if init is not None else ""
            env.define(name, Local(name, writable=not const, pointer=pointer))
            parts.append(name + init_text)
        return ctype + " " + ", ".join(parts)

    # -- expressions ----------------------------------------------------
    def expr(self, node, env):
        k = node.kind
        if k == "number":
            return self.literal(node.text)
        if k == "string":
            return node.text
        if k == "name":
            sym = self.resolve(node, env)
            if isinstance(sym, Function):
                raise CodeError(f"'{node.text}' is a {sym.description} and must be called "
                                "with '(...)'", line=node.tok.line, column=node.tok.col)
            if sym.pointer and not isinstance(sym, Local):
                raise CodeError(f"'{node.text}' is an array ({sym.description}); read one "
                                f"element with {node.text}[index]", line=node.tok.line,
                                column=node.tok.col, identifier=node.text)
            return sym.text
        if k == "paren":
            return "(" + self.expr(node.children[0], env) + ")"
        if k == "unary":
            return node.text + self.expr(node.children[0], env)
        if k == "binary":
            sep = ", " if node.text == "," else f" {node.text} "
            return self.expr(node.children[0], env) + sep + self.expr(node.children[1], env)
        if k == "ternary":
            c, a, b = (self.expr(x, env) for x in node.children)
            return f"{c} ? {a} : {b}"
        if k == "cast":
            words, pointer = node.extra
            return f"({type_to_c(words, pointer, node.tok)})" + self.expr(node.children[0], env)
        if k == "assign":
            target = self.lvalue(node.children[0], env, node.tok)
            return f"{target} {node.text} {self.expr(node.children[1], env)}"
        if k == "preinc":
            return node.text + self.lvalue(node.children[0], env, node.tok)
        if k == "postinc":
            return self.lvalue(node.children[0], env, node.tok) + node.text
        if k == "index":
            return self.index(node, env, write=False)
        if k == "call":
            return self.call(node, env)
        raise CodeError(f"unsupported expression '{k}'", line=node.tok.line,
                        column=node.tok.col)

    def literal(self, text):
        low = text.lower()
        if low in ("true", "false") or low.startswith("0x"):
            return text
        is_float = ("." in text) or ("e" in low and not low.startswith("0x"))
        if low.endswith("d"):
            return text[:-1] if is_float else text
        if low.endswith("f"):
            return text
        if is_float and self.precision == "float":
            return text + "f"
        return text

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
        if node.kind == "paren":
            return "(" + self.lvalue(node.children[0], env, op_tok) + ")"
        if node.kind == "index":
            return self.index(node, env, write=True)
        if node.kind != "name":
            raise CodeError("the left side of an assignment must be a variable",
                            line=op_tok.line, column=op_tok.col)
        sym = self.resolve(node, env)
        if isinstance(sym, Function) or not sym.writable:
            desc = sym.description
            raise CodeError(f"cannot assign to '{node.text}': it is read-only ({desc})."
                            + (f" {sym.read_only_hint}" if getattr(sym, "read_only_hint", "")
                               else ""),
                            line=node.tok.line, column=node.tok.col, identifier=node.text)
        env.mark_written(node.text)
        return sym.text

    def index(self, node, env, write):
        base, idx = node.children
        if base.kind != "name":
            raise CodeError("only named arrays can be subscripted", line=node.tok.line,
                            column=node.tok.col)
        sym = self.resolve(base, env)
        if isinstance(sym, Function) or not (sym.pointer or sym.index):
            raise CodeError(f"'{base.text}' is a {sym.description}, not an array, and "
                            "cannot be subscripted", line=base.tok.line, column=base.tok.col,
                            identifier=base.text)
        if write and not sym.writable:
            raise CodeError(f"cannot assign to elements of '{base.text}': it is read-only",
                            line=base.tok.line, column=base.tok.col, identifier=base.text)
        if write:
            env.mark_written(base.text)
        idx_text = self.expr(idx, env)
        if sym.index is not None:
            return sym.index(idx_text)
        return f"{sym.text}[{idx_text}]"

    def call(self, node, env, as_statement=False):
        sym = self.resolve(node, env)
        if getattr(sym, "statement", False) and not as_statement:
            raise CodeError(f"'{node.text}' must be called as a statement of its own, "
                            "not inside an expression", line=node.tok.line,
                            column=node.tok.col)
        if not isinstance(sym, Function):
            raise CodeError(f"'{node.text}' is a {sym.description}, not a function",
                            line=node.tok.line, column=node.tok.col, identifier=node.text)
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
        return sym.render([self.expr(a, env) for a in node.children])


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
