"""nnlib.losses: softmax, log-softmax, MSE, binary and multi-class cross-entropy (chapter 6)."""
import math

import numpy as np
import pytest

from nnlib import (BinaryCrossEntropy, MSELoss, SoftmaxCrossEntropy, binary_cross_entropy,
                   binary_cross_entropy_grad, cross_entropy, cross_entropy_grad, get_loss, log_softmax,
                   logsumexp, mse, mse_grad, sigmoid, softmax)

STRICT = dict(over="raise", invalid="raise", divide="raise")   # underflow to 0 is harmless


# ------------------------------------------------------------------- handout worked examples
def test_softmax_of_the_handout_scores():
    p = softmax([5.0, 2.5, 0.5])
    np.testing.assert_allclose(p, [0.915, 0.075, 0.010], atol=5e-4)
    assert p.sum() == pytest.approx(1.0)


def test_cross_entropy_of_the_handout_prediction_is_0_223():
    # the handout's yhat = (0.1, 0.8, 0.07, 0.03) are probabilities: their logs are logits whose
    # softmax gives them back, so the loss is -ln 0.8 for the true class 2 (index 1)
    yhat = np.array([0.1, 0.8, 0.07, 0.03])
    logits = np.log(yhat)
    np.testing.assert_allclose(softmax(logits), yhat)
    assert cross_entropy(logits, 1) == pytest.approx(-math.log(0.8))
    assert round(cross_entropy(logits, 1), 3) == 0.223
    # the same with the one-hot target vector y = (0, 1, 0, 0) of the handout
    assert cross_entropy(logits, [0.0, 1.0, 0.0, 0.0]) == pytest.approx(0.22314355, abs=1e-8)
    # whole numbers beside one sample's logits are ambiguous (labels of 4 samples, or one-hot?)
    with pytest.raises(ValueError, match="one sample with 4 classes.*binary_cross_entropy"):
        cross_entropy(logits, [0, 1, 0, 0])
    assert cross_entropy(logits[None, :], [1]) == pytest.approx(-math.log(0.8))


def test_mse_in_the_handouts_form_with_one_half():
    y_true = np.array([[0.0, 1.0, 0.0, 0.0]])
    y_pred = np.array([[0.1, 0.8, 0.07, 0.03]])
    expected = 0.5 * (0.01 + 0.04 + 0.0049 + 0.0009)
    assert mse(y_pred, y_true) == pytest.approx(expected)


# ----------------------------------------------------------------------------------- softmax
def test_softmax_rows_sum_to_one_and_keep_order():
    z = np.random.default_rng(0).normal(size=(5, 4)) * 3
    p = softmax(z)
    assert p.shape == (5, 4)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(p.argmax(axis=1), z.argmax(axis=1))
    assert np.all(p > 0)


def test_softmax_is_shift_invariant_and_axis_aware():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(softmax(z + 100.0), softmax(z))
    np.testing.assert_allclose(softmax(z, axis=0).sum(axis=0), 1.0)
    np.testing.assert_allclose(softmax(z)[1], [1 / 3] * 3)


def test_log_softmax_and_logsumexp_agree_with_the_definitions():
    z = np.array([[0.5, -1.0, 2.0], [3.0, 3.0, -4.0]])
    np.testing.assert_allclose(log_softmax(z), np.log(softmax(z)))
    np.testing.assert_allclose(logsumexp(z), np.log(np.exp(z).sum(axis=1)))
    np.testing.assert_allclose(log_softmax(z), z - logsumexp(z)[:, None])
    assert logsumexp([1.0, 2.0]).shape == ()


@pytest.mark.parametrize("big", [1000.0, -1000.0])
def test_softmax_log_softmax_stable_at_extreme_logits(big):
    z = np.array([[big, 0.0, -big], [big, big, big], [-big, -big, big]])
    with np.errstate(**STRICT):
        p, lp, lse = softmax(z), log_softmax(z), logsumexp(z)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp)) and np.all(np.isfinite(lse))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], [1 / 3] * 3)
    np.testing.assert_allclose(lp[1], [-math.log(3)] * 3)
    np.testing.assert_allclose(lse[1], big + math.log(3))


def test_cross_entropy_stable_at_logits_1000():
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    with np.errstate(**STRICT):
        right = cross_entropy(z, [0, 1])
        wrong = cross_entropy(z, [1, 0])
        g = cross_entropy_grad(z, [1, 0])
    assert right == 0.0
    assert wrong == pytest.approx(2000.0)          # finite, not inf: no log(0)
    np.testing.assert_allclose(g, [[0.5, -0.5], [-0.5, 0.5]])


def test_training_loss_stable_at_logits_1000():
    loss = SoftmaxCrossEntropy()
    z = np.array([[1000.0, -1000.0, 0.0]])
    assert loss.forward(z.copy(), np.array([1])) == pytest.approx(2000.0)
    assert np.all(np.isfinite(loss.backward()))


# ----------------------------------------------------------------------------- cross-entropy
def test_one_hot_and_integer_labels_give_the_same_loss_and_gradient():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 4))
    y = np.array([0, 3, 1, 1, 2, 0])
    onehot = np.eye(4)[y]
    assert cross_entropy(z, y) == pytest.approx(cross_entropy(z, onehot), rel=1e-14)
    np.testing.assert_allclose(cross_entropy_grad(z, y), cross_entropy_grad(z, onehot))


def test_cross_entropy_is_mean_negative_log_probability_of_true_class():
    z = np.random.default_rng(4).normal(size=(5, 3))
    y = np.array([2, 0, 1, 1, 0])
    expected = -np.mean(np.log(softmax(z)[np.arange(5), y]))
    assert cross_entropy(z, y) == pytest.approx(expected)


def test_fused_gradient_is_p_minus_y_over_n():
    z = np.random.default_rng(5).normal(size=(4, 3))
    y = np.array([1, 0, 2, 2])
    expected = (softmax(z) - np.eye(3)[y]) / 4
    np.testing.assert_allclose(cross_entropy_grad(z, y), expected)
    # gradient rows sum to 0: probability mass only moves between classes
    np.testing.assert_allclose(cross_entropy_grad(z, y).sum(axis=1), 0.0, atol=1e-15)


def test_cross_entropy_single_sample_forms():
    z = np.array([2.0, 1.0, 0.1])
    assert cross_entropy(z, 0) == pytest.approx(-log_softmax(z)[0])
    g = cross_entropy_grad(z, 0)
    assert g.shape == (3,)
    np.testing.assert_allclose(g, softmax(z) - [1, 0, 0])
    np.testing.assert_allclose(cross_entropy_grad(z, [1.0, 0.0, 0.0]), g)


def test_cross_entropy_with_soft_targets():
    z = np.array([[1.0, 2.0, 3.0]])
    t = np.array([[0.2, 0.3, 0.5]])
    assert cross_entropy(z, t) == pytest.approx(-np.sum(t * log_softmax(z)))


def test_cross_entropy_rejects_bad_targets():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"y has labels out of range"):
        cross_entropy(z, [0, 3])
    with pytest.raises(ValueError, match=r"y has 3 labels but logits has 2 samples"):
        cross_entropy(z, [0, 1, 2])
    with pytest.raises(ValueError, match="sum to 1"):
        cross_entropy(z, [[1, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="one-hot y has shape"):
        cross_entropy(z, np.eye(4)[:2])


# ----------------------------------------------------------------------------------------- mse
def test_mse_and_gradient_by_hand():
    y_pred, y_true = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])
    assert mse(y_pred, y_true) == pytest.approx((1 + 0 + 9) / (2 * 3))
    np.testing.assert_allclose(mse_grad(y_pred, y_true), [1 / 3, 0, 1])
    assert mse(y_true, y_true) == 0.0


def test_mse_rejects_shape_mismatch_instead_of_broadcasting():
    with pytest.raises(ValueError, match=r"y_pred has shape \(3,\) but y_true has shape \(3, 1\)"):
        mse(np.zeros(3), np.zeros((3, 1)))


# ------------------------------------------------------------------------------- binary CE
def test_binary_cross_entropy_by_hand():
    p, y = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 0.0])
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3
    assert binary_cross_entropy(p, y) == pytest.approx(expected)
    np.testing.assert_allclose(binary_cross_entropy_grad(p, y), (p - y) / (p * (1 - p)) / 3)


def test_binary_cross_entropy_confident_mistake_is_large_but_finite():
    with np.errstate(**STRICT):
        loss = binary_cross_entropy([0.0, 1.0], [1.0, 0.0])
    assert math.isfinite(loss) and loss > 20


def test_binary_cross_entropy_rejects_non_probabilities():
    with pytest.raises(ValueError, match="p must be probabilities"):
        binary_cross_entropy([1.5], [1.0])
    with pytest.raises(ValueError, match="p must be probabilities"):
        binary_cross_entropy_grad([-0.1], [1.0])
    with pytest.raises(ValueError, match="y must hold targets"):
        binary_cross_entropy([0.5], [2.0])


# ------------------------------------------------------------------------- training losses
def test_softmax_cross_entropy_class_matches_functions():
    z = np.random.default_rng(6).normal(size=(7, 5))
    y = np.array([0, 4, 2, 2, 1, 3, 0])
    loss = SoftmaxCrossEntropy()
    assert loss.forward(z.copy(), y) == pytest.approx(cross_entropy(z, y), rel=1e-13)
    g = loss.backward()
    np.testing.assert_allclose(g, cross_entropy_grad(z, y), atol=1e-15)
    np.testing.assert_array_equal(loss.backward(), g)  # asking twice gives the same gradient


def test_softmax_cross_entropy_does_not_modify_logits_and_handles_batch_size_change():
    loss = SoftmaxCrossEntropy()
    z = np.random.default_rng(7).normal(size=(4, 3))
    z0 = z.copy()
    loss.forward(z, np.array([0, 1, 2, 0]))
    loss.backward()
    np.testing.assert_array_equal(z, z0)
    z2 = z[:2]
    assert loss.forward(z2, np.array([2, 2])) == pytest.approx(cross_entropy(z2, [2, 2]))
    assert loss.backward().shape == (2, 3)


def test_softmax_cross_entropy_float32_stays_float32():
    loss = SoftmaxCrossEntropy()
    z = np.random.default_rng(8).normal(size=(3, 4)).astype(np.float32)
    value = loss.forward(z, np.array([0, 1, 3]))
    assert isinstance(value, float)
    assert value == pytest.approx(cross_entropy(z.astype(np.float64), [0, 1, 3]), rel=1e-5)
    assert loss.backward().dtype == np.float32


def test_mse_loss_class_matches_functions():
    pred = np.array([[1.0], [2.0], [0.5]])
    target = np.array([0.0, 2.5, 0.5])
    loss = MSELoss()
    assert loss.forward(pred, target) == pytest.approx(mse(pred[:, 0], target))
    np.testing.assert_allclose(loss.backward()[:, 0], mse_grad(pred[:, 0], target))


# ------------------------------------------------------ one sigmoid output, binary cross-entropy
def test_binary_cross_entropy_loss_takes_logits_and_matches_the_probability_form():
    z = np.random.default_rng(9).normal(size=(8, 1)) * 3
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    loss = get_loss("binary_cross_entropy")
    assert isinstance(loss, BinaryCrossEntropy)
    value = loss.forward(z, y)
    assert value == pytest.approx(binary_cross_entropy(sigmoid(z[:, 0]), y), rel=1e-12)
    # the same loss with the labels coded as -1/1: ln(1 + e^(-y z))
    assert value == pytest.approx(np.mean(np.log1p(np.exp(-(2 * y - 1) * z[:, 0]))), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (sigmoid(z) - y[:, None]) / 8, atol=1e-15)
    assert loss.backward().shape == (8, 1)


def test_binary_cross_entropy_is_a_two_way_softmax_of_zero_and_z():
    z = np.random.default_rng(10).normal(size=(6, 1))
    y = np.array([1, 0, 0, 1, 1, 0])
    pair = np.hstack([np.zeros_like(z), z])
    np.testing.assert_allclose(softmax(pair)[:, 1], sigmoid(z[:, 0]))
    assert BinaryCrossEntropy().forward(z, y) == pytest.approx(cross_entropy(pair, y), rel=1e-13)


def test_binary_cross_entropy_loss_is_stable_for_huge_logits():
    z = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    loss = BinaryCrossEntropy()
    with np.errstate(**STRICT):
        value = loss.forward(z, np.array([1, 0, 0, 1]))   # two right, two confidently wrong
        grad = loss.backward()
    assert value == pytest.approx(500.0)                  # (0 + 0 + 1000 + 1000) / 4
    np.testing.assert_allclose(grad[:, 0], [0.0, 0.0, 0.25, -0.25])


def test_binary_cross_entropy_accuracy_and_chance():
    loss = BinaryCrossEntropy()
    z = np.array([[2.0], [-1.0], [0.0], [0.5]])
    assert loss.accuracy(z, np.array([1, 0, 0, 0])) == 0.75     # z = 0 counts as class 0
    assert loss.chance(np.array([0, 1, 0, 1])) == pytest.approx(math.log(2))


def test_binary_cross_entropy_float32_stays_float32():
    loss = BinaryCrossEntropy()
    z = np.random.default_rng(11).normal(size=(5, 1)).astype(np.float32)
    assert isinstance(loss.forward(z, np.array([0, 1, 1, 0, 1])), float)
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize("y, n_outputs", [([0, 1, 2, 1], 1), ([-1, 1, 1, -1], 1), ([0, 1, 0, 1], 2),
                                          ([0.5, 1, 0, 1], 1)])
def test_binary_cross_entropy_targets_refuse_other_labels_and_outputs(y, n_outputs):
    with pytest.raises(ValueError, match="binary_cross_entropy needs one output unit and labels "
                                         "0/1.*for k classes use loss='cross_entropy' with k outputs"):
        BinaryCrossEntropy().targets(y, 4, n_outputs)


def test_binary_cross_entropy_targets_accept_labels_0_1():
    labels = BinaryCrossEntropy().targets([0, 1, 1.0, 0], 4, 1)
    np.testing.assert_array_equal(labels, [0, 1, 1, 0])
    assert labels.dtype == np.int64


@pytest.mark.parametrize("cls", [SoftmaxCrossEntropy, BinaryCrossEntropy, MSELoss])
def test_training_loss_backward_before_forward(cls):
    with pytest.raises(RuntimeError, match="before forward"):
        cls().backward()
