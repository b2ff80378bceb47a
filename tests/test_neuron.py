"""nnlib.neuron: weighted sum, the perceptron's output, the delta rule and the perceptron (chapters 1-3)."""
import numpy as np
import pytest

from nnlib import Perceptron, delta_rule, perceptron_output, weighted_sum

AND = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 0, 0, 1]))
OR = (AND[0], np.array([0, 1, 1, 1]))
XOR = (AND[0], np.array([0, 1, 1, 0]))

FIVE_X = [0.1, -2.3, 1.2, 4.2, 0.7]
FIVE_W = [1.3, 0.2, -4.5, 1.6, -0.3]


# ------------------------------------------------------------------- handout worked examples
def test_snack_example_weighted_sum_is_minus_one_and_does_not_fire():
    # 4 * (-1) + 1 * 2 + 1 = -1 -> output 0 (stay on the couch)
    assert weighted_sum([4, 1], [-1, 2], 1) == pytest.approx(-1.0)
    assert perceptron_output([4, 1], [-1, 2], 1) == 0


def test_five_input_perceptron_fires_with_z_0_08():
    z = weighted_sum(FIVE_X, FIVE_W, -0.7)
    assert z == pytest.approx(0.08, abs=1e-12)
    assert perceptron_output(FIVE_X, FIVE_W, -0.7) == 1


# ------------------------------------------------------------------------------ weighted_sum
def test_weighted_sum_returns_a_python_float_for_one_input():
    z = weighted_sum(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert isinstance(z, float) and z == 11.0


def test_weighted_sum_of_a_batch_is_one_value_per_row():
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
    w = np.array([2.0, -1.0])
    z = weighted_sum(X, w, 0.5)
    assert z.shape == (3,)
    np.testing.assert_allclose(z, X @ w + 0.5)


def test_weighted_sum_bias_defaults_to_zero():
    assert weighted_sum([1, 1], [2, 3]) == 5.0


def test_weighted_sum_rejects_mismatched_lengths_naming_x_and_w():
    with pytest.raises(ValueError, match=r"x has 3 inputs but w has 2 weights"):
        weighted_sum([1, 2, 3], [1, 2])


def test_perceptron_output_of_a_batch_is_an_int_array():
    out = perceptron_output([[1, 0], [0, 1], [-1, -1]], [1.0, -1.0], 0.0)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [1, 0, 0])


def test_perceptron_output_is_zero_exactly_at_the_threshold():
    # the step fires only for z > 0, as in the handout (z <= 0 -> 0)
    assert perceptron_output([1.0], [1.0], -1.0) == 0


# -------------------------------------------------------------------------------- delta rule
def test_delta_rule_first_steps_by_hand():
    ws = delta_rule([1.0, 2.0], [2.0, 4.0], w0=0.0, lr=0.1)
    # w1 = 0 + 0.1 * (2 - 0) * 1 = 0.2;  w2 = 0.2 + 0.1 * (4 - 0.4) * 2 = 0.92
    np.testing.assert_allclose(ws, [0.0, 0.2, 0.92])


def test_delta_rule_converges_to_the_true_slope():
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, 200)
    ws = delta_rule(xs, 3.0 * xs, w0=0.0, lr=0.5)
    assert ws.shape == (201,)
    assert ws[-1] == pytest.approx(3.0, abs=1e-6)


def test_delta_rule_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        delta_rule([1.0, 2.0], [1.0])


# -------------------------------------------------------------------------------- Perceptron
@pytest.mark.parametrize("gate", [AND, OR], ids=["AND", "OR"])
def test_perceptron_learns_and_or_errors_reach_zero(gate):
    X, y = gate
    p = Perceptron(2, lr=1.0)
    errors = p.fit(X, y, epochs=20)
    assert errors[-1] == 0
    assert 0 in errors and errors[0] > 0
    np.testing.assert_array_equal(p.predict(X), y)
    # once an epoch has no errors the weights stop changing
    first_zero = errors.index(0)
    w_conv, b_conv = p.history[first_zero + 1]
    np.testing.assert_array_equal(p.w, w_conv)
    assert p.b == b_conv


def test_perceptron_never_learns_xor():
    X, y = XOR
    p = Perceptron(2, lr=1.0)
    errors = p.fit(X, y, epochs=100)
    assert len(errors) == 100
    assert min(errors) > 0           # no epoch without a mistake: XOR is not linearly separable
    assert np.any(p.predict(X) != y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_from_random_start_also_converges_on_and(seed):
    X, y = AND
    p = Perceptron(2, lr=0.5, seed=seed)
    assert np.any(p.w != 0)
    errors = p.fit(X, y, epochs=50, stop_when_converged=True)
    assert errors[-1] == 0
    np.testing.assert_array_equal(p.predict(X), y)


def test_perceptron_stop_when_converged_ends_after_first_clean_epoch():
    X, y = OR
    p = Perceptron(2)
    errors = p.fit(X, y, epochs=100, stop_when_converged=True)
    assert errors[-1] == 0 and all(e > 0 for e in errors[:-1])
    assert len(p.history) == len(errors) + 1


def test_perceptron_rule_single_update_by_hand():
    p = Perceptron(2, lr=0.5)
    p.fit([[1.0, 2.0]], [1], epochs=1)  # z = 0 -> predicted 0, target 1 -> w += 0.5 * x, b += 0.5
    np.testing.assert_allclose(p.w, [0.5, 1.0])
    assert p.b == 0.5


def test_perceptron_decision_function_and_repr():
    p = Perceptron(3)
    p.w, p.b = np.array([1.0, -1.0, 2.0]), 0.5
    np.testing.assert_allclose(p.decision_function([[1, 1, 1], [0, 0, 0]]), [2.5, 0.5])
    assert "Perceptron(w=[1.0, -1.0, 2.0]" in repr(p)


def test_perceptron_seeded_initialisation_is_reproducible():
    a, b = Perceptron(4, seed=7), Perceptron(4, seed=7)
    np.testing.assert_array_equal(a.w, b.w)
    assert a.b == b.b


def test_perceptron_fit_checks_feature_count_and_labels():
    p = Perceptron(2)
    with pytest.raises(ValueError, match=r"X has 3 features per sample but the model expects 2"):
        p.fit(np.zeros((4, 3)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"y has labels out of range"):
        p.fit(np.zeros((2, 2)), [0, 2])
    with pytest.raises(ValueError, match=r"y has 3 labels but X has 2 samples"):
        p.fit(np.zeros((2, 2)), [0, 1, 1])
