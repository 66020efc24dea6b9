"""The command line: printed values and gradients, one-line errors, no user code ever run."""

import json
import math
import shlex
import subprocess
import sys
import warnings
from pathlib import Path
from xml.etree import ElementTree

import pytest

from autograd.cli import main


def run(capsys, *argv):
    """main(argv) -> (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def table(out: str) -> dict[str, float]:
    """'value  1.0\\nd/dx  2.0' -> {'value': 1.0, 'd/dx': 2.0}; the numbers must be full-precision reprs."""
    rows = {}
    for line in out.splitlines():
        label, number = line.split()
        assert repr(float(number)) == number
        rows[label] = float(number)
    return rows


def test_readme_example_prints_exact_full_precision_numbers(capsys):
    status, out, err = run(capsys, "grad", "x*y + sin(x)", "--at", "x=1,y=2")
    assert (status, err) == (0, "")
    assert out.splitlines() == ["value  2.8414709848078967", "d/dx   2.5403023058681398", "d/dy   1.0"]


def test_python_dash_m_autograd_subprocess():
    argv = [sys.executable, "-m", "autograd", "grad", "x*y + sin(x)", "--at", "x=1", "--at", "y=2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["value", "2.8414709848078967", "d/dx", "2.5403023058681398", "d/dy", "1.0"]
    assert done.stderr == ""


def test_lecture_x_plus_y_times_z(capsys):
    status, out, _ = run(capsys, "grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4")
    assert status == 0
    assert table(out) == {"value": -12.0, "d/dx": -4.0, "d/dy": -4.0, "d/dz": 3.0}


def test_lecture_sigmoid_neuron(capsys):
    status, out, _ = run(capsys, "grad", "1/(1+exp(-(w0*x0+w1*x1+w2)))",
                         "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3")
    assert status == 0
    rows = table(out)
    assert list(rows) == ["value", "d/dw0", "d/dx0", "d/dw1", "d/dx1", "d/dw2"]  # --at order
    expected = {"value": 0.7310585786300049, "d/dw0": -0.19661193324148185, "d/dx0": 0.3932238664829637,
                "d/dw1": -0.3932238664829637, "d/dx1": -0.5898357997244456, "d/dw2": 0.19661193324148185}
    for label, number in expected.items():
        assert rows[label] == pytest.approx(number, abs=1e-12), label


def test_gradients_follow_at_order_and_accept_repeated_negative_scientific_values(capsys):
    status, out, _ = run(capsys, "grad", "a*b", "--at", "b=-2.5e-1", "--at", " a = 4 ")
    assert status == 0
    assert out.splitlines() == ["value  -1.0", "d/db   4.0", "d/da   -0.25"]


@pytest.mark.parametrize("expr, at, value, grad", [
    ("x*x", "x=3", 9.0, 6.0),                      # one leaf used twice: both paths add
    ("x*x*x", "x=-2", -8.0, 12.0),
    ("x + x + x", "x=5", 15.0, 3.0),
    ("x**2", "x=-3", 9.0, -6.0),                    # constant exponent: a negative base is fine
    ("2**x", "x=3", 8.0, 8.0 * math.log(2)),
    ("x**x", "x=2", 4.0, 4.0 * (math.log(2) + 1)),
    ("-x", "x=2", -2.0, -1.0),
    ("+x", "x=2", 2.0, 1.0),
    ("x / 4 - 1", "x=2", -0.5, 0.25),
    ("max(x, 1) + min(x, 1)", "x=3", 4.0, 1.0),
    ("relu(x) + abs(x)", "x=-2", 2.0, -1.0),
    ("tanh(x) + sigmoid(x) + cos(x)", "x=0", 1.5, 1.25),
    ("sqrt(x) * log(x)", "x=1", 0.0, 1.0),
    ("x", "x=1e-3", 0.001, 1.0),
])
def test_values_and_gradients(capsys, expr, at, value, grad):
    status, out, err = run(capsys, "grad", expr, "--at", at)
    assert status == 0, err
    rows = table(out)
    assert rows["value"] == pytest.approx(value, abs=1e-12)
    assert rows["d/dx"] == pytest.approx(grad, abs=1e-12)


def test_constant_expression_has_no_gradient_rows(capsys):
    assert run(capsys, "grad", "2**10 - 1e3 / 8")[:2] == (0, "value  899.0\n")


def test_json_output(capsys):
    status, out, _ = run(capsys, "grad", "x*y + sin(x)", "--at", "x=1,y=2", "--json")
    assert status == 0
    assert json.loads(out) == {"value": 2.8414709848078967,
                               "gradients": {"x": 2.5403023058681398, "y": 1.0}}


@pytest.mark.parametrize("argv", [
    ["-x*x", "--at", "x=2"], ["--at", "x=2", "-x*x"], ["--at", "x=2", "--", "-x*x"],
])
def test_expression_starting_with_minus_is_not_an_option(capsys, argv):
    assert run(capsys, "grad", *argv)[:2] == (0, "value  -4.0\nd/dx   -4.0\n")


BAD = {
    # syntax and structure
    "syntax": (["x*"], "syntax error"),
    "unclosed": (["sin(x"], "never closed"),
    "empty": (["  "], "empty expression"),
    "unknown name": (["x + q", "--at", "x=1"], "no value for variable 'q' at column 5"),
    "unknown function": (["eval(x)"], "unknown function 'eval' at column 1"),
    "attribute": (["x.real"], "attribute access '.real'"),
    "subscript": (["x[0]"], "subscripts"),
    "lambda": (["(lambda: 1)()"], "lambdas"),
    "call of a call": (["exp(x)(x)"], "only the listed functions"),
    "keyword argument": (["sin(x=1)"], "keyword"),
    "wrong arity 1": (["sin(x, x)"], "sin() takes 1 argument, got 2"),
    "wrong arity 2": (["max(x)"], "max() takes 2 arguments, got 1"),
    "starred": (["max(*x)"], "takes 2 arguments"),
    "floor division": (["x // 2"], "//"),
    "xor for power": (["x ^ 2"], "use **"),
    "comparison": (["x > 1"], "comparisons"),
    "string": (["'a' * x"], "only real numbers"),
    "bool": (["True * x"], "only real numbers are allowed, not bool True"),
    "complex": (["1j * x"], "complex"),
    "huge literal": (["1e999 * x"], "out of range"),
    "function as variable": (["exp * x"], "'exp' is a function"),
    "walrus": (["(y := x)"], "assignment expressions"),
    "fstring": (["f'{x}'"], "f-strings"),
    "string with a bad escape": (["'\\d' * x"], "only real numbers"),  # and no DeprecationWarning line
    # --at
    "missing value": (["x*y", "--at", "x=1"], "no value for variable 'y' at column 3"),
    "unused value": (["x", "--at", "x=1,z=2"], "'z', which is not in the expression"),
    "malformed at": (["x", "--at", "x"], "malformed --at item 'x'"),
    "empty at item": (["x", "--at", "x=1,"], "malformed --at item ''"),
    "non-numeric at": (["x", "--at", "x=abc"], "'abc' is not a number"),
    "non-finite at": (["x", "--at", "x=nan"], "not a finite number"),
    "duplicate at": (["x", "--at", "x=1", "--at", "x=2"], "'x' twice"),
    "at names a function": (["x", "--at", "x=1,log=2"], "function name"),
    # domain errors and overflow
    "log": (["log(x)", "--at", "x=-1"], "log: -1.0 is outside its domain x > 0 at column 1"),
    "division": (["1/x", "--at", "x=0"], "division by zero"),
    "sqrt": (["sqrt(x)", "--at", "x=-1"], "sqrt: -1.0 is outside its domain"),
    "zero to negative power": (["0**-1"], "pow: 0.0 ** -1.0"),
    "negative base fractional power": (["x**0.5", "--at", "x=-1"], "negative base"),
    "overflow": (["exp(exp(x))", "--at", "x=7"], "overflow: exp(exp(x)) is inf"),
    "power overflow": (["10**400"], "overflow"),
    "infinite gradient": (["sqrt(x)", "--at", "x=0"], "d/dx is inf"),
    # the command line itself
    "too deep": (["+".join(["x"] * 5000), "--at", "x=1"], "too large or too deeply nested"),
    "unknown flag": (["x", "--at", "x=1", "--bogus"], "unrecognized arguments"),
}


@pytest.mark.parametrize("argv, expected", BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_line_on_stderr_and_status_1(capsys, argv, expected):
    status, out, err = run(capsys, "grad", *argv)
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert expected in err


@pytest.mark.parametrize("argv", [[], ["grad"], ["frobnicate", "x"]])
def test_usage_errors_are_one_line_too(capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == "" and err.count("\n") == 1 and err.startswith("error: ")


@pytest.mark.parametrize("expr", [
    "__import__('os').system('touch {path}')",
    "eval(\"__import__('os').system('touch {path}')\")",
    "exec('open(\"{path}\", \"w\")')",
    "open('{path}', 'w')",
    "(1).__class__.__base__.__subclasses__()",
    "().__class__",
    "[c for c in ().__class__.__bases__]",
    "x.__class__",
    "getattr(x, '__class__')",
    "(lambda: open('{path}', 'w'))()",
])
def test_code_in_the_expression_is_rejected_and_never_run(capsys, tmp_path, expr):
    target = tmp_path / "pwned"
    status, out, err = run(capsys, "grad", expr.format(path=target), "--at", "x=1")
    assert status == 1 and out == "" and err.count("\n") == 1
    assert not target.exists()


def test_parser_warnings_never_add_a_second_line(capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, _, err = run(capsys, "grad", "'\\d' * (1 is 1) * x", "--at", "x=1")
    assert status == 1 and err.count("\n") == 1
    assert caught == []


def test_security_message_points_at_the_attribute(capsys):
    _, _, err = run(capsys, "grad", "(1).__class__")
    assert err == "error: attribute access '.__class__' is not allowed at column 5\n"


def test_graph_writes_an_svg_naming_the_variables(capsys, tmp_path):
    path = tmp_path / "neuron.svg"
    status, out, err = run(capsys, "grad", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1", "--graph", str(path))
    assert status == 0, err
    assert table(out)["value"] == 0.0
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {"".join(element.itertext()).strip() for element in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"w", "x", "b", "tanh"} <= texts


def test_graph_to_an_unwritable_place_is_one_line(capsys, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / "a-file" / "g.svg"
    status, out, err = run(capsys, "grad", "x", "--at", "x=1", "--graph", str(path))
    assert status == 1 and out == "" and err.count("\n") == 1 and "could not write the graph" in err


def test_help_shows_usage_and_examples(capsys):
    for argv in (["--help"], ["grad", "--help"]):
        status, out, _ = run(capsys, *argv)
        assert status == 0
        assert "usage: chainrule" in out and "examples:" in out
        assert 'chainrule grad "x*y + sin(x)" --at x=1,y=2' in out


def test_console_script_is_declared():
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert 'chainrule = "autograd.cli:main"' in text


@pytest.mark.parametrize("argv, expected", [
    (("grad", "--x+1", "--at", "x=1"), "'--x+1' is no option: an EXPR that starts with -- goes after a lone --"),
    (("grad", "x\udcff", "--at", "x=1"), "the expression is not valid UTF-8 text"),
    (("grad", "x\0", "--at", "x=1"), "the expression contains a NUL byte"),
    (("grad", "2x", "--at", "x=1"), "write 2*x for a product"),
    (("grad", "\r", "--at", "x=1"), "empty expression"),
])
def test_edge_inputs_get_a_message_that_says_what_to_do(capsys, argv, expected):
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == "" and expected in err and err.count("\n") == 1


def test_ctrl_c_is_one_line_and_status_130(capsys, monkeypatch):
    import autograd.cli as cli

    def interrupted(*_):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "gradients", interrupted)
    status, out, err = run(capsys, "grad", "x", "--at", "x=1")
    assert (status, out, err) == (130, "", "interrupted\n")


def test_a_long_power_chain_is_built_in_one_pass_and_right(capsys):
    # x ** x ** 1 ** 1 ** ... (right-associative): each exponent's constness is known from its operands,
    # not by walking its subtree again (that walk made this quadratic).
    chain = "**".join(["x", "x"] + ["1"] * 2000)
    status, out, _ = run(capsys, "grad", chain, "--at", "x=1.5")
    rows = table(out)
    assert status == 0 and rows["value"] == pytest.approx(1.5 ** 1.5, rel=1e-12)
    assert rows["d/dx"] == pytest.approx(1.5 ** 1.5 * (math.log(1.5) + 1), rel=1e-12)


@pytest.mark.parametrize("name, expected", [
    ("notes.txt", "ends in .txt, which is not a picture format Graphviz writes"),
    ("model.npz", "ends in .npz, which is not a picture format Graphviz writes"),
    ("", "the file name is empty"),
    ("folder/", "is a folder"),
    ("read-only.svg", "is read-only; it was left as it is"),
])
def test_graph_refuses_what_it_must_not_overwrite_and_changes_nothing(capsys, tmp_path, monkeypatch, name, expected):
    monkeypatch.chdir(tmp_path)
    for existing in ("notes.txt", "model.npz", "read-only.svg"):
        (tmp_path / existing).write_bytes(b"the user's own bytes")
    (tmp_path / "read-only.svg").chmod(0o444)
    status, out, err = run(capsys, "grad", "x*x", "--at", "x=2", "--graph", name)
    assert status == 1 and expected in err and err.count("\n") == 1
    kept = ("notes.txt", "model.npz", "read-only.svg")
    assert all((tmp_path / f).read_bytes() == b"the user's own bytes" for f in kept)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "notes.txt", "read-only.svg"]


def test_graph_says_where_it_went_and_makes_missing_folders(capsys, tmp_path):
    status, out, err = run(capsys, "grad", "x*x", "--at", "x=2", "--graph", str(tmp_path / "new" / "deeper" / "g"))
    assert status == 0 and err == (f"graph written to {tmp_path / 'new' / 'deeper' / 'g.svg'} (--graph had no "
                                   "suffix, so SVG was added; end the name in .svg, .png or .pdf to choose)\n")
    assert (tmp_path / "new" / "deeper" / "g.svg").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- constants, a forgotten command, where the graph went -------------------------------------------

@pytest.mark.parametrize("expr, at, expected", [
    ("pi*x", "x=1", "value  3.141592653589793\nd/dx   3.141592653589793\n"),
    ("e**x", "x=1", "value  2.718281828459045\nd/dx   2.718281828459045\n"),
    ("x**e", "x=0", "value  0.0\nd/dx   0.0\n"),  # a constant exponent: no log(0) for the exponent's gradient
    ("sin(pi/2) + e*x", "x=2", "value  6.43656365691809\nd/dx   2.718281828459045\n"),
])
def test_pi_and_e_are_constants_without_a_gradient_row(capsys, expr, at, expected):
    assert run(capsys, "grad", expr, "--at", at) == (0, expected, "")


def test_a_variable_named_pi_or_e_wins_with_a_one_line_note(capsys):
    status, out, err = run(capsys, "grad", "pi*x", "--at", "x=1,pi=2")
    assert (status, out) == (0, "value  2.0\nd/dx   2.0\nd/dpi  1.0\n")
    assert err == "note: pi is the variable given with --at (2.0), not the constant 3.141592653589793\n"
    status, out, err = run(capsys, "grad", "e*pi", "--at", "e=3")
    assert (status, out) == (0, "value  9.42477796076938\nd/de   3.141592653589793\n")
    assert err == "note: e is the variable given with --at (3.0), not the constant 2.718281828459045\n"


@pytest.mark.parametrize("argv, expected", [
    (["x*y", "--at", "x=1,y=2"],
     "error: the command is missing: write grad EXPR, as in chainrule grad 'x*y' --at x=1,y=2\n"),
    (["--at", "x=1", "x"], "error: the command is missing: write grad EXPR, as in chainrule grad --at x=1 x\n"),
    (["-x", "--at", "x=1"], "error: the command is missing: write grad EXPR, as in chainrule grad -x --at x=1\n"),
    (["grd", "x", "--at", "x=1"], "error: unknown command 'grd': did you mean grad? write grad EXPR, as in "
                                  "chainrule grad \"x*y + sin(x)\" --at x=1,y=2\n"),
    ([], "error: no command given: write grad EXPR, as in chainrule grad \"x*y + sin(x)\" --at x=1,y=2\n"),
])
def test_leaving_out_grad_says_to_write_it(capsys, argv, expected):
    assert run(capsys, *argv) == (1, "", expected)


def test_the_suggested_command_runs(capsys):
    _, _, err = run(capsys, "x*y", "--at", "x=1,y=2")
    suggested = err.split("as in chainrule ")[1].strip()
    assert run(capsys, *shlex.split(suggested)) == (0, "value  2.0\nd/dx   2.0\nd/dy   1.0\n", "")


def test_graph_without_a_suffix_names_the_absolute_path_and_why(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "grad", "x*x", "--at", "x=2", "--graph", "g")
    assert status == 0 and out == "value  4.0\nd/dx   4.0\n"
    assert err == (f"graph written to {tmp_path / 'g.svg'} (--graph had no suffix, so SVG was added; "
                   "end the name in .svg, .png or .pdf to choose)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.svg"]
    status, _, err = run(capsys, "grad", "x*x", "--at", "x=2", "--graph", "pics/g.png")
    assert status == 0 and err == f"graph written to {tmp_path / 'pics' / 'g.png'}\n"
    assert (tmp_path / "pics" / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_dash_m_autograd_cli_runs_the_command_line():
    argv = [sys.executable, "-m", "autograd.cli", "grad", "pi*x", "--at", "x=2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    expected = (0, "value  6.283185307179586\nd/dx   3.141592653589793\n", "")
    assert (done.returncode, done.stdout, done.stderr) == expected
