"""explode: small tensor computations rebuilt from scalar Values agree with the Tensor ops."""

import re

import numpy as np
import pytest

from autograd import Exploded, GradientMismatchError, Tensor, Value, ValueArray, draw_graph, explode
from autograd.graph import topological_order


def test_two_by_two_matmul_explodes_into_its_products_and_sums(tmp_path):
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], label="A")
    b = Tensor([[0.5, -1.0], [2.0, 0.25]], label="B")
    result = explode(lambda a, b: (a @ b).sum(), a, b, filename=tmp_path / "matmul.png")
    assert isinstance(result, Exploded) and isinstance(result.root, Value)
    assert result.root.data == 11.5 and result.root.label == "out"
    # d sum(AB) / dA = 1 B^T (row sums of B), d / dB = A^T 1 (column sums of A)
    np.testing.assert_array_equal(result.value_grads[0], [[-0.5, 2.25], [-0.5, 2.25]])
    np.testing.assert_array_equal(result.value_grads[1], [[4.0, 4.0], [6.0, 6.0]])
    for scalar, tensor in zip(result.value_grads, result.tensor_grads):
        np.testing.assert_allclose(scalar, tensor, rtol=1e-12)
    assert result.values[0][0, 1].label == "A[0,1]" and result.values[0][0, 1].grad == 2.25
    ops = [node.op for node in topological_order([result.root]) if node.op]
    assert ops.count("*") == 8 and ops.count("+") == 7  # 4 dot products of 2 terms, then 3 adds in the sum
    source = result.graph.source
    assert "{ A[1,0] | data 3 | grad -0.5 }" in source and "{ out | data 11.5 | grad 1 }" in source
    assert (tmp_path / "matmul.png").read_bytes()[:4] == b"\x89PNG"


def test_three_logit_softmax_cross_entropy_agrees_with_softmax_minus_one_hot(tmp_path):
    logits = np.array([2.0, -1.0, 0.5])
    result = explode(lambda z: -z.log_softmax()[1], logits)
    p = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(result.root.data, -np.log(p[1]), rtol=1e-12)
    np.testing.assert_allclose(result.value_grads[0], p - [0.0, 1.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(result.tensor_grads[0], p - [0.0, 1.0, 0.0], rtol=1e-12)
    assert sorted(re.findall(r"\{ (a\[\d\]) \|", result.graph.source)) == ["a[0]", "a[1]", "a[2]"]
    result.graph.render(tmp_path / "ce", format="png")
    assert (tmp_path / "ce.png").read_bytes()[:4] == b"\x89PNG"
    batch = explode(lambda z: -(z.log_softmax(axis=1)[np.arange(2), np.array([0, 2])]).mean(),
                    np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]]))
    np.testing.assert_allclose(batch.value_grads[0], batch.tensor_grads[0], rtol=1e-12)


def test_the_scalar_graph_can_be_drawn_with_its_chain_rule_labels():
    result = explode(lambda a, b: (a * b).sum(), np.array([2.0, 3.0]), np.array([-1.0, 4.0]))
    source = draw_graph(result.root, show_local=True, trace=result.trace).source
    assert "local b[0] = -1" in source and "local a[1] = 3" in source
    order = topological_order([result.root])
    assert len(result.trace) == sum(1 for node in order if node.parents) == 3  # two products and their sum
    assert len(result.trace.steps) == len(order)  # the leaves are recorded too


@pytest.mark.parametrize("fn", [
    lambda z: (z.sum(axis=0, keepdims=True) * z).mean(),
    lambda z: z.max(axis=1).values.sum() + z.amin(axis=0).sum() + z.min() * 2,
    lambda z: z.logsumexp(axis=1).sum() + z.logsumexp(),
    lambda z: (z.softmax(axis=0) * np.array([[1.0], [2.0]])).sum(),
    lambda z: (z.tanh() + z.sigmoid() - z.relu() + z.exp() / 10 + (z * z + 1).log() + z.abs().sqrt()).sum(),
    lambda z: (2 / (z ** 2 + 1) - 1 - z + 3 * z.leaky_relu(0.1)).sum(),
    lambda z: (z.T @ z).sum() + z.reshape(3, 2)[1:, 0].sum() + z.transpose(1, 0)[2].sum(),
    lambda z: (z.maximum(0.2) * z.minimum(np.array([0.0, 0.5, 1.0]))).sum() + z.mean(axis=(0, 1)),
])
def test_value_arrays_follow_the_tensor_methods(fn):
    data = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])
    result = explode(fn, data)
    np.testing.assert_allclose(result.value_grads[0], result.tensor_grads[0], rtol=1e-10, atol=1e-12)
    assert np.any(result.value_grads[0] != 0)


def test_disagreement_raises_naming_the_input_and_element():
    def differs(x):  # the "same" computation, except on Values it weighs x[1] three times
        return (x * np.array([1.0, 1.0])).sum() if isinstance(x, Tensor) else (x * np.array([1.0, 3.0])).sum()

    with pytest.raises(GradientMismatchError, match="fn gives 3.0 on Tensors but 7.0 on Values"):
        explode(differs, np.array([1.0, 2.0]))

    def same_value_other_gradient(x):
        return (x * x).sum() if isinstance(x, Tensor) else (x * np.array([1.0, 2.0])).sum() + 0 * x[0]

    with pytest.raises(GradientMismatchError, match=r"dout/da\[0\] is 2.0 from the Tensor ops but 1.0 from the scalar"):
        explode(same_value_other_gradient, np.array([1.0, 2.0]))


def test_clear_errors_for_what_explode_cannot_do():
    with pytest.raises(ValueError, match="must return one number"):
        explode(lambda x: x * 2, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="1 to 64 input elements in all"):
        explode(lambda x: x.sum(), np.zeros((9, 9)))
    outside = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="fn mixed a Tensor into the exploded computation"):
        explode(lambda x: (x * outside).sum(), np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="must compute its result from its arguments"):
        explode(lambda x: 1.0, np.array([1.0, 2.0]))
    assert explode(lambda x: x.sum(), np.zeros((9, 9)), max_elements=81).root.data == 0.0


def test_value_array_wraps_an_object_array_of_values():
    values = ValueArray([[Value(1.0), Value(-2.0)], [Value(3.0), Value(0.5)]])
    assert values.shape == (2, 2) and values.ndim == 2 and values.size == 4 and len(values) == 2
    np.testing.assert_array_equal(values.data, [[1.0, -2.0], [3.0, 0.5]])
    total = (1 - values).sum().item()
    assert isinstance(total, Value) and total.data == 1.5  # 0 + 3 - 2 + 0.5
    assert "ValueArray(shape=(2, 2)" in repr(values)


def test_exploded_shows_as_its_picture_in_jupyter_with_a_short_repr():
    result = explode(lambda a, b: (a @ b).sum(), np.eye(2), np.ones((2, 2)))
    assert repr(result) == ("<Exploded out = 4: inputs (2, 2), (2, 2) as 23 scalar nodes; gradients agree with "
                            "the Tensor ops>")
    bundle = result._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"] and "A[0,0]" not in bundle["image/svg+xml"]
    assert "a[0,0]" in bundle["image/svg+xml"] and result._repr_svg_().lstrip().startswith("<?xml")


def test_exploded_leaves_are_drawn_in_input_order():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], label="A")
    b = Tensor([[0.5, -1.0], [2.0, 0.25]], label="B")
    z = Tensor([1.0, 2.0, 3.0], label="z")
    for result in (explode(lambda a, b: (a @ b).sum(), a, b), explode(lambda a, b: (a * b).sum(), a, b),
                   explode(lambda z: -z.log_softmax(0)[1], z)):  # each leaf feeds many ops here
        placed = {}  # leaf label -> (y, x) of its centre in the laid-out picture
        for line in result.graph.pipe(format="plain", encoding="utf-8").splitlines():
            found = re.match(r'node \S+ ([\d.]+) ([\d.]+) \S+ \S+ <<TABLE[^>]*><TR><TD>([\w\[\],]+)<', line)
            if found and "[" in found[3]:
                placed[found[3]] = (float(found[2]), float(found[1]))
        inputs = [v.label for array in result.values for v in array.flat]
        assert sorted(placed) == sorted(inputs)
        assert len({y for y, _ in placed.values()}) == 1  # one row
        assert sorted(placed, key=lambda label: placed[label][1]) == inputs  # left to right in input order
