"""Classification metrics: accuracy, precision, recall, F1, specificity, confusion matrix, ROC curve and AUC.

Inputs may be ndarrays, lists or Tensors. Predictions given as 2-D scores or logits (n, classes) are
turned into labels by argmax; a one-hot y_true likewise. Undefined ratios (0/0) count as 0.0, as
scikit-learn's default.
"""

from __future__ import annotations

import numpy as np

from autograd import Tensor

__all__ = ["accuracy", "precision", "recall", "f1_score", "specificity", "precision_recall_f1",
           "confusion_matrix", "roc_curve", "roc_auc"]

_AVERAGES = ("binary", "macro", "micro", "weighted", None)


def _array(x, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x._data
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    return array


def _labels(x, name: str) -> np.ndarray:
    """Class labels as a 1-D array; (n, C>1) scores or one-hot rows become their argmax."""
    array = _array(x, name)
    if array.ndim == 2:
        array = array.ravel() if array.shape[1] == 1 else array.argmax(axis=1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be labels of shape (n,) or scores of shape (n, classes), "
                         f"got shape {array.shape}")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.round(array))):
        raise ValueError(f"{name} holds non-integer values; pass class labels, scores of shape (n, classes), "
                         "or threshold probabilities first (e.g. p > 0.5)")
    return array


def _arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} samples but y_pred has {len(p)}")
    if len(t) == 0:
        raise ValueError("metrics need at least one sample, got empty arrays")
    return t, p


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def accuracy(y_true, y_pred) -> float:
    """The fraction of predictions equal to the true labels."""
    t, p = _arrays(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """C[i, j] = the number of samples of true class i predicted as class j (labels 0..num_classes-1)."""
    t, p = _arrays(y_true, y_pred)
    t, p = t.astype(np.int64), p.astype(np.int64)
    low = min(t.min(), p.min())
    if low < 0:
        raise ValueError(f"confusion_matrix: labels must be 0..num_classes-1, got {low}")
    high = int(max(t.max(), p.max()))
    if num_classes is None:
        num_classes = high + 1
    elif high >= num_classes:
        raise ValueError(f"confusion_matrix: label {high} is out of range for num_classes={num_classes}")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, -1)


def _counts(t: np.ndarray, p: np.ndarray, average, pos_label):
    """(tp, fp, fn, support) per class: one entry for average='binary', one per label otherwise."""
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    if average == "binary":
        present = np.union1d(t, p)
        if len(present) > 2:
            raise ValueError(f"average='binary' needs two classes, the data has {len(present)}: "
                             f"{present.tolist()}; use average='macro' (or 'micro', 'weighted', None)")
        if len(present) == 2 and pos_label not in present:
            raise ValueError(f"pos_label={pos_label!r} is not one of the labels {present.tolist()}")
        classes = np.array([pos_label])
    else:
        classes = np.union1d(t, p)
    is_t = t[None, :] == classes[:, None]
    is_p = p[None, :] == classes[:, None]
    tp = np.sum(is_t & is_p, axis=1)
    return tp, np.sum(is_p, axis=1) - tp, np.sum(is_t, axis=1) - tp, np.sum(is_t, axis=1)


def _reduce(per_class: np.ndarray, support: np.ndarray, average):
    if average is None:
        return per_class
    if average == "weighted":
        return float(np.sum(per_class * support) / np.sum(support)) if np.sum(support) else 0.0
    return float(np.mean(per_class))


def precision_recall_f1(y_true, y_pred, average: str | None = "binary", pos_label=1,
                        zero_division: float = 0.0) -> tuple:
    """(precision, recall, F1), each a float, or per-class arrays (sorted labels) with ``average=None``.

    binary: of class ``pos_label``; macro: the unweighted mean over classes; weighted: the mean weighted
    by each class's support; micro: from the summed counts (equals accuracy for single-label data).
    F1 is 2PR / (P + R) per class, then averaged.
    """
    t, p = _arrays(y_true, y_pred)
    tp, fp, fn, support = _counts(t, p, average, pos_label)
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    prec = _ratio(tp, tp + fp, zero_division)
    rec = _ratio(tp, tp + fn, zero_division)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn, zero_division)  # = 2PR / (P + R), and 0/0 -> zero_division
    return tuple(_reduce(m, support, average) for m in (prec, rec, f1))


def precision(y_true, y_pred, average: str | None = "binary", pos_label=1, zero_division: float = 0.0):
    """TP / (TP + FP): of the samples predicted positive, the fraction that are."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, zero_division)[0]


def recall(y_true, y_pred, average: str | None = "binary", pos_label=1, zero_division: float = 0.0):
    """TP / (TP + FN): of the positive samples, the fraction found."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, zero_division)[1]


def f1_score(y_true, y_pred, average: str | None = "binary", pos_label=1, zero_division: float = 0.0):
    """The harmonic mean of precision and recall, 2PR / (P + R)."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, zero_division)[2]


def specificity(y_true, y_pred, pos_label=1, zero_division: float = 0.0) -> float:
    """TN / (TN + FP): of the negative samples, the fraction rejected (binary)."""
    t, p = _arrays(y_true, y_pred)
    _counts(t, p, "binary", pos_label)  # checks the labels
    negative = t != pos_label
    tn = np.sum(negative & (p != pos_label))
    return float(_ratio(tn, np.sum(negative), zero_division))


def _binary_scores(y_true, scores, pos_label) -> tuple[np.ndarray, np.ndarray]:
    t = _array(y_true, "y_true")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t.ravel()
    s = _array(scores, "scores").astype(np.float64)
    if s.ndim == 2 and s.shape[1] in (1, 2):
        s = s[:, -1]  # (n, 1) scores, or (n, 2) class scores: the positive class's column
    if t.ndim != 1 or s.ndim != 1:
        raise ValueError(f"roc: y_true must have shape (n,) and scores (n,), (n, 1) or (n, 2); got "
                         f"{t.shape} and {s.shape}")
    if len(t) != len(s):
        raise ValueError(f"y_true has {len(t)} samples but scores has {len(s)}")
    if not np.all(np.isfinite(s)):
        raise ValueError("roc: scores must be finite")
    labels = np.unique(t)
    if len(labels) > 2:
        raise ValueError(f"roc: y_true must be binary, got labels {labels.tolist()}")
    positive = t == pos_label
    if positive.all() or not positive.any():
        raise ValueError("roc: y_true must contain both positive and negative samples "
                         f"(pos_label={pos_label!r}, labels {labels.tolist()})")
    return positive, s


def roc_curve(y_true, scores, pos_label=1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds): predicting positive when score >= threshold, for every distinct score
    from the highest down; the first point is (0, 0) with threshold inf."""
    positive, s = _binary_scores(y_true, scores, pos_label)
    order = np.argsort(-s, kind="stable")
    s, positive = s[order], positive[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(positive)[last_of_tie]
    fps = last_of_tie + 1 - tps
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    return fpr, tpr, np.r_[np.inf, s[last_of_tie]]


def roc_auc(y_true, scores, pos_label=1) -> float:
    """Area under the ROC curve by the trapezoid rule: the probability that a random positive scores
    above a random negative, ties counting 1/2 (the Mann-Whitney U statistic over P * N)."""
    fpr, tpr, _ = roc_curve(y_true, scores, pos_label)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)
