"""The code writer: scoped blocks indent what is written inside them."""
from ml_genn.genn.backends.writer import CodeWriter


def test_blocks_indent_their_body_and_close_it():
    w = CodeWriter()
    w.comment("model 'P'")
    with w.block("void f()"):
        w.line("int a = 0;")
        with w.block("for (int i = 0; i < 3; i++)"):
            w.line("a += i;")
        with w.block():
            w.lines(["{", "    nested;", "}"])
        w.line()
    assert w.text() == (
        "// model 'P'\n"
        "void f() {\n"
        "    int a = 0;\n"
        "    for (int i = 0; i < 3; i++) {\n"
        "        a += i;\n"
        "    }\n"
        "    {\n"
        "        {\n"
        "            nested;\n"
        "        }\n"
        "    }\n"
        "\n"
        "}\n")


def test_multi_line_text_is_indented_line_by_line():
    w = CodeWriter()
    with w.block("if (x)", tail="} // if"):
        w.line("a;\nb;")
    assert w.result() == ["if (x) {", "    a;", "    b;", "} // if"]


def test_comments_never_carry_raw_user_text():
    w = CodeWriter()
    w.comment("pop 'a\n#include <cstdlib>\\'")
    (line,) = w.result()
    assert line.startswith("// ") and "\n" not in line and "\\" not in line
