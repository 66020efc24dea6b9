import numpy as np
import pytest

from autograd import Tensor
from nn import metrics

# TP = 3 (indices 0-2), FN = 1 (3), FP = 2 (4, 5), TN = 4 (6-9)
Y_TRUE = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
Y_PRED = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]


def test_binary_by_hand():
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(0.7)
    assert metrics.precision(Y_TRUE, Y_PRED) == pytest.approx(3 / 5)
    assert metrics.recall(Y_TRUE, Y_PRED) == pytest.approx(3 / 4)
    assert metrics.f1_score(Y_TRUE, Y_PRED) == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))
    assert metrics.specificity(Y_TRUE, Y_PRED) == pytest.approx(4 / 6)
    np.testing.assert_array_equal(metrics.confusion_matrix(Y_TRUE, Y_PRED), [[4, 2], [1, 3]])


def test_pos_label():
    assert metrics.precision(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(4 / 5)
    assert metrics.recall(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(4 / 6)
    assert metrics.f1_score(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(8 / 11)
    assert metrics.specificity(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(3 / 4)
    signs_true = [1 if v else -1 for v in Y_TRUE]
    signs_pred = [1 if v else -1 for v in Y_PRED]
    assert metrics.precision(signs_true, signs_pred) == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="pos_label=2"):
        metrics.precision(Y_TRUE, Y_PRED, pos_label=2)


def test_averages_by_hand():
    p, r, f = metrics.precision_recall_f1(Y_TRUE, Y_PRED, average="macro")
    assert p == pytest.approx((0.8 + 0.6) / 2)
    assert r == pytest.approx((4 / 6 + 3 / 4) / 2)
    assert f == pytest.approx((8 / 11 + 2 / 3) / 2)
    p, r, f = metrics.precision_recall_f1(Y_TRUE, Y_PRED, average="weighted")
    assert p == pytest.approx((6 * 0.8 + 4 * 0.6) / 10)
    assert r == pytest.approx(0.7)  # weighted recall is accuracy
    assert metrics.f1_score(Y_TRUE, Y_PRED, average="micro") == pytest.approx(0.7)


def test_multiclass_by_hand():
    y_true, y_pred = [0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(2 / 6)
    assert metrics.precision(y_true, y_pred, average="macro") == pytest.approx(2 / 9)
    assert metrics.recall(y_true, y_pred, average="macro") == pytest.approx(1 / 3)
    assert metrics.f1_score(y_true, y_pred, average="macro") == pytest.approx(0.8 / 3)
    np.testing.assert_allclose(metrics.precision(y_true, y_pred, average=None), [2 / 3, 0, 0])
    np.testing.assert_allclose(metrics.recall(y_true, y_pred, average=None), [1, 0, 0])
    np.testing.assert_allclose(metrics.f1_score(y_true, y_pred, average=None), [0.8, 0, 0])
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred), [[2, 0, 0], [1, 0, 1], [0, 2, 0]])
    with pytest.raises(ValueError, match="average='macro'"):
        metrics.f1_score(y_true, y_pred)
    with pytest.raises(ValueError, match="average"):
        metrics.f1_score(y_true, y_pred, average="samples")


def test_zero_division_counts_as_zero():
    assert metrics.precision([1, 1, 0], [0, 0, 0]) == 0.0
    assert metrics.recall([0, 0, 0], [1, 0, 0]) == 0.0
    assert metrics.f1_score([0, 0, 0], [0, 0, 0]) == 0.0
    assert metrics.precision([1, 1, 0], [0, 0, 0], zero_division=1.0) == 1.0


def test_scores_and_one_hot_become_labels():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.5, 0.2, 0.9], [1.0, 0.0, -1.0]])
    assert metrics.accuracy([0, 1, 2, 1], logits) == pytest.approx(0.75)
    assert metrics.accuracy(Tensor([0, 1, 2, 1]), Tensor(logits)) == pytest.approx(0.75)
    one_hot = np.eye(3)[[0, 1, 2, 1]]
    assert metrics.accuracy(one_hot, logits) == pytest.approx(0.75)
    assert metrics.accuracy(np.array([[1], [0]]), np.array([1.0, 0.0])) == 1.0
    np.testing.assert_array_equal(metrics.confusion_matrix([0, 1, 2, 1], logits, num_classes=4)[:, 3], 0)


def test_input_errors():
    with pytest.raises(ValueError, match="3 samples but y_pred has 2"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="3 samples but y_pred has 2"):
        metrics.f1_score([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="non-integer"):
        metrics.accuracy([0, 1], [0.2, 0.9])
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])
    with pytest.raises(ValueError, match="num_classes=2"):
        metrics.confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="-1"):
        metrics.confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="2 samples but scores has 3"):
        metrics.roc_auc([0, 1], [0.1, 0.2, 0.3])


def test_roc_curve_by_hand():
    fpr, tpr, thresholds = metrics.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


def test_roc_auc_ties_count_half():
    # pairs (pos, neg): (0.5, 0.5) tie -> 1/2, the other three ordered correctly -> 3.5 / 4
    fpr, tpr, thresholds = metrics.roc_curve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    assert metrics.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(0.875)
    assert metrics.roc_auc([0, 1, 1, 0], [0.3, 0.3, 0.3, 0.3]) == pytest.approx(0.5)
    assert metrics.roc_auc([0, 0, 1], [0.1, 0.2, 0.9]) == 1.0
    assert metrics.roc_auc([0, 0, 1], [0.9, 0.2, 0.1]) == 0.0


def test_roc_auc_equals_mann_whitney():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 2, size=40)
        y[:2] = [0, 1]
        s = rng.integers(0, 6, size=40).astype(float)  # many ties
        pos, neg = s[y == 1], s[y == 0]
        diff = pos[:, None] - neg[None, :]
        expected = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
        assert metrics.roc_auc(y, s) == pytest.approx(expected, rel=1e-12)
        assert metrics.roc_auc(Tensor(y), Tensor(s)) == pytest.approx(expected, rel=1e-5)


def test_roc_score_columns_and_errors():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]])
    assert metrics.roc_auc([0, 0, 1, 1], probs) == pytest.approx(0.75)
    assert metrics.roc_auc([0, 0, 1, 1], probs[:, 1:]) == pytest.approx(0.75)
    assert metrics.roc_auc([-1, -1, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="both positive and negative"):
        metrics.roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="binary"):
        metrics.roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="finite"):
        metrics.roc_curve([0, 1], [0.1, np.nan])
