"""Op records (record.py) and needed-gradients-only (the core calls only the derivatives it needs)."""

import copy
import pickle

import numpy as np
import pytest

from autograd import Tensor, Value, derivatives
from autograd.derivatives import Derivatives
from autograd.record import Op
from autograd.tensor_class import _result as tensor_result


def never(*_):
    raise AssertionError("computed a gradient that no input needs")


def test_the_core_calls_only_the_derivatives_of_inputs_that_need_a_gradient():
    x, c = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    y = tensor_result(x._data * c._data, (x, c), (lambda g, out, a, b: g * b, never), "mul")
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_x_times_a_mask_never_computes_the_masks_gradient(monkeypatch):
    monkeypatch.setattr(derivatives, "MUL", Derivatives((derivatives.MUL.each[0], never), derivatives.MUL.all))
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    mask = Tensor(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    (x * mask).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), mask.numpy())
    with pytest.raises(AssertionError, match="no input needs"):  # both need one: the mask's is computed
        (x * Tensor(mask.numpy(), requires_grad=True)).sum().backward()


def test_value_and_tensor_share_one_formula():
    a, b = Value(3.0), Value(-2.0)
    x, y = Tensor([3.0], requires_grad=True), Tensor([-2.0], requires_grad=True)
    (a / b).backward()
    (x / y).sum().backward()
    assert (a.grad, b.grad) == (x.grad.item(), y.grad.item()) == (-0.5, -0.75)
    assert (a / b).op.backward is derivatives.DIV.all and (x / y).op == "/"


def test_a_record_reads_as_its_name_and_holds_the_rest():
    x = Value(3.0, label="x")
    square, leaky = x ** 2, x.leaky_relu(0.1)
    assert square.op == "**2" and "**2" == square.op and f"{square.op}" == "**2" and repr(square.op) == "'**2'"
    assert {square.op: 1}["**2"] == 1 and str(leaky.op) == "leaky_relu(0.1)" and x._op == "" and square._op == "**2"
    assert square.op.params == (2,) and leaky.op.params == (0.1,)
    assert square.op.forward(Value(4.0)).data == 16.0 and leaky.op.forward(Value(-1.0)).data == -0.1
    assert square.op is (Value(5.0) ** 2).op  # one record per exponent, shared by its nodes


def test_a_record_pickles_and_copies_as_its_name():
    op = (Value(2.0) * 3.0).op
    assert isinstance(op, Op) and pickle.loads(pickle.dumps(op)) == "*" and copy.deepcopy(op) == "*"


def test_sympy_forms_come_from_records():
    sympy = pytest.importorskip("sympy")
    from autograd import to_sympy
    x = Value(0.5, label="x")
    assert to_sympy(x.elu(2.0) + x ** 0.5) == sympy.Piecewise(
        (sympy.Symbol("x", real=True), sympy.Symbol("x", real=True) > 0),
        (2 * (sympy.exp(sympy.Symbol("x", real=True)) - 1), True)) + sympy.Symbol("x", real=True) ** sympy.Float(0.5)
