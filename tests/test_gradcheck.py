"""Finite-difference gradient checks of every activation, loss, layer and whole networks (chapter 7).

Also checks nnlib.gradcheck itself: it must pass correct gradients and catch wrong ones.
"""
import numpy as np
import pytest

from nnlib import (ACTIVATIONS, ELU, MLP, Dense, GradCheck, Identity, LeakyReLU, ReLU, Sequential,
                   Sigmoid, Step, Tanh, binary_cross_entropy, binary_cross_entropy_grad, check_function,
                   check_layer, check_model, cross_entropy, cross_entropy_grad, log_softmax,
                   logsumexp, mse, mse_grad, numerical_gradient, relative_error, softmax)

def away_from_kinks(shape, seed=0):
    """Random inputs at least 0.05 away from 0, where ReLU-like functions have a kink."""
    z = np.random.default_rng(seed).normal(size=shape)
    return np.where(np.abs(z) < 0.05, 0.05 * np.sign(z) + 0.05 * (z == 0), z)


# ----------------------------------------------------------------------------- activations
@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"step"}))
def test_activation_derivatives(name):
    f, grad = ACTIVATIONS[name]
    z = away_from_kinks((4, 5))
    result = check_function(lambda v: f(v).sum(), grad, z)
    assert result.passed, str(result)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5])
def test_leaky_relu_and_elu_derivatives_with_other_alphas(alpha):
    f, grad = ACTIVATIONS["leaky_relu"]
    z = away_from_kinks(10, seed=int(alpha * 10))
    assert check_function(lambda v: f(v, alpha).sum(), lambda v: grad(v, alpha), z).passed
    if alpha > 0:
        f, grad = ACTIVATIONS["elu"]
        assert check_function(lambda v: f(v, alpha).sum(), lambda v: grad(v, alpha), z).passed


def test_step_gradient_is_zero_where_defined():
    f, grad = ACTIVATIONS["step"]
    z = away_from_kinks(10)
    assert check_function(lambda v: f(v).sum(), grad, z).passed


# ---------------------------------------------------------------------------------- losses
def test_cross_entropy_gradient_with_labels_and_one_hot():
    RNG = np.random.default_rng(0)
    z = RNG.normal(size=(6, 4))
    y = np.array([0, 1, 2, 3, 1, 1])
    assert check_function(lambda v: cross_entropy(v, y), lambda v: cross_entropy_grad(v, y), z).passed
    t = np.eye(4)[y]
    assert check_function(lambda v: cross_entropy(v, t), lambda v: cross_entropy_grad(v, t), z).passed


def test_cross_entropy_gradient_with_soft_targets_and_one_sample():
    RNG = np.random.default_rng(0)
    z = RNG.normal(size=(3, 5))
    t = softmax(RNG.normal(size=(3, 5)))
    assert check_function(lambda v: cross_entropy(v, t), lambda v: cross_entropy_grad(v, t), z).passed
    z1 = RNG.normal(size=5)
    assert check_function(lambda v: cross_entropy(v, 2), lambda v: cross_entropy_grad(v, 2), z1).passed


def test_mse_gradient():
    RNG = np.random.default_rng(0)
    target = RNG.normal(size=(5, 3))
    assert check_function(lambda v: mse(v, target), lambda v: mse_grad(v, target),
                          RNG.normal(size=(5, 3))).passed
    t1 = RNG.normal(size=7)
    assert check_function(lambda v: mse(v, t1), lambda v: mse_grad(v, t1), RNG.normal(size=7)).passed


def test_binary_cross_entropy_gradient():
    RNG = np.random.default_rng(0)
    p = RNG.uniform(0.05, 0.95, size=(4, 2))
    y = (RNG.random((4, 2)) > 0.5).astype(float)
    assert check_function(lambda v: binary_cross_entropy(v, y),
                          lambda v: binary_cross_entropy_grad(v, y), p, eps=1e-7).passed


def test_softmax_log_softmax_logsumexp_gradients():
    RNG = np.random.default_rng(0)
    z = RNG.normal(size=(3, 4))
    w = RNG.normal(size=(3, 4))
    # d/dz sum(w * log_softmax(z)) = w - softmax(z) * sum(w)
    assert check_function(lambda v: np.sum(w * log_softmax(v)),
                          lambda v: w - softmax(v) * w.sum(axis=1, keepdims=True), z).passed
    # d/dz sum(logsumexp(z)) = softmax(z)
    assert check_function(lambda v: logsumexp(v).sum(), softmax, z).passed
    # d/dz sum(w * softmax(z)) = p * (w - sum(p * w))
    def soft_grad(v):
        p = softmax(v)
        return p * (w - np.sum(p * w, axis=1, keepdims=True))
    assert check_function(lambda v: np.sum(w * softmax(v)), soft_grad, z).passed


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy", "mse"])
def test_training_loss_classes(loss):
    RNG = np.random.default_rng(0)
    from nnlib.losses import LOSSES
    z = RNG.normal(size=(5, 1) if loss == "binary_cross_entropy" else (5, 3)) * 3
    y = {"cross_entropy": np.array([0, 2, 1, 1, 0]), "binary_cross_entropy": np.array([0, 1, 1, 0, 1]),
         "mse": RNG.normal(size=(5, 3))}[loss]
    fn = LOSSES[loss]()

    def grad(v):
        fn.forward(v.copy(), y)
        return fn.backward()
    assert check_function(lambda v: LOSSES[loss]().forward(v.copy(), y), grad, z).passed


# ---------------------------------------------------------------------------------- layers
@pytest.mark.parametrize("init", ["he", "xavier"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (7, 2)])
def test_dense_layer(shape, init):
    RNG = np.random.default_rng(0)
    layer = Dense(*shape, init=init, seed=1)
    layer.b[...] = RNG.normal(size=layer.b.shape)
    result = check_layer(layer, RNG.normal(size=(5, shape[0])))
    assert result.passed, str(result)
    assert set(result.errors) == {"input", f"param[0] {shape}", f"param[1] ({shape[1]},)"}


@pytest.mark.parametrize("layer", [ReLU(), Sigmoid(), Tanh(), LeakyReLU(0.2), ELU(1.5), Identity(),
                                   Step()],
                         ids=lambda layer: repr(layer))
def test_activation_layers(layer):
    result = check_layer(layer, away_from_kinks((4, 6), seed=3))
    assert result.passed, str(result)


# --------------------------------------------------------------------------------- networks
@pytest.mark.parametrize("sizes, activation", [([3, 5, 4], "relu"), ([4, 6, 5, 3], "tanh"),
                                               ([2, 8, 3], "sigmoid"), ([5, 4, 4, 4, 2], "leaky_relu"),
                                               ([3, 7, 3], "elu"), ([6, 3], "relu")])
def test_whole_mlp_with_cross_entropy(sizes, activation):
    RNG = np.random.default_rng(0)
    model = MLP(sizes, activation, seed=2)
    for layer in model.layers:               # non-zero biases, so their gradients are exercised
        if isinstance(layer, Dense):
            layer.b[...] = np.random.default_rng(5).normal(scale=0.1, size=layer.b.shape)
    X = RNG.normal(size=(8, sizes[0]))
    y = RNG.integers(0, sizes[-1], size=8)
    result = check_model(model, X, y)
    assert result.passed, str(result)
    assert len(result.errors) == 2 * (len(sizes) - 1)


@pytest.mark.parametrize("output", ["identity", "sigmoid", "tanh"])
def test_whole_mlp_with_mse(output):
    RNG = np.random.default_rng(0)
    model = MLP([3, 6, 2], "tanh", output=output, seed=4)
    result = check_model(model, RNG.normal(size=(6, 3)), RNG.normal(size=(6, 2)), loss="mse")
    assert result.passed, str(result)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "elu"])
def test_whole_mlp_with_one_sigmoid_output_and_binary_cross_entropy(activation):
    RNG = np.random.default_rng(1)
    model = MLP([3, 6, 5, 1], activation, seed=6)
    result = check_model(model, RNG.normal(size=(7, 3)), [0, 1, 1, 0, 1, 0, 0],
                         loss="binary_cross_entropy")
    assert result.passed, str(result)
    assert len(result.errors) == 6


def test_handwritten_sequential():
    model = Sequential([Dense(4, 5, seed=0), Sigmoid(), Dense(5, 5, seed=1), ReLU(), Dense(5, 3, seed=2)])
    result = check_model(model, away_from_kinks((6, 4), seed=9), [0, 1, 2, 0, 1, 2])
    assert result.passed, str(result)


# ------------------------------------------------------------------- the checker itself
def test_gradcheck_detects_a_wrong_activation_derivative():
    RNG = np.random.default_rng(0)
    f, _ = ACTIVATIONS["sigmoid"]
    wrong = check_function(lambda v: f(v).sum(), lambda v: f(v), RNG.normal(size=6))  # s, not s(1-s)
    assert not wrong.passed
    assert wrong.errors["x"] > 1e-2
    assert "WRONG" in str(wrong) and "FAILED" in str(wrong)


def test_gradcheck_detects_a_wrong_layer_backward():
    RNG = np.random.default_rng(0)
    class BrokenDense(Dense):
        def backward(self, grad, need_input_grad=True):
            out = super().backward(grad, need_input_grad)
            self.db[...] = 0.0          # forgot the bias gradient
            return out

    result = check_layer(BrokenDense(3, 2, seed=0), RNG.normal(size=(4, 3)))
    assert not result.passed
    assert result.errors["param[1] (2,)"] > 0.5
    assert result.errors["input"] < 1e-6 and result.errors["param[0] (3, 2)"] < 1e-6


def test_gradcheck_detects_a_wrong_network_gradient():
    RNG = np.random.default_rng(0)
    class TransposedGradient(ReLU):
        def backward(self, grad, need_input_grad=True):
            return grad                 # forgot to multiply by the ReLU mask

    model = Sequential([Dense(3, 4, seed=0), TransposedGradient(), Dense(4, 2, seed=1)])
    X = RNG.normal(size=(6, 3)) * 3
    result = check_model(model, X, [0, 1, 0, 1, 1, 0])
    assert not result.passed
    first = [k for k in result.errors if k.startswith("layer 0")]
    assert all(result.errors[k] > 1e-3 for k in first)
    assert result.errors["layer 2 Dense W (4, 2)"] < 1e-6


def test_numerical_gradient_restores_the_array_and_is_accurate():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    x0 = x.copy()
    g = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_allclose(g, 3 * x0 ** 2, rtol=1e-8)


def test_numerical_gradient_needs_float64_and_a_function():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="f must be a function"):
        numerical_gradient(3, np.zeros(3))
    with pytest.raises(ValueError, match="eps must be positive"):
        numerical_gradient(lambda: 0.0, np.zeros(3), eps=0.0)


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == 1.0
    assert relative_error([1.0, 0.0], [1.1, 0.0]) == pytest.approx(0.1 / 2.1)
    assert relative_error([3.0, 0.0], [0.0, 4.0]) == pytest.approx(5 / 7)
    # a tiny entry with a round-off sized difference does not dominate the error
    assert relative_error([1.0, 1e-9], [1.0, 1.1e-9]) < 1e-9
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match=r"a has shape \(3,\) but b has shape \(3, 3\)"):
        relative_error(np.ones(3), np.ones((3, 3)))


def test_gradcheck_result_text():
    res = GradCheck({"W": 1e-9, "b": 0.5}, tol=1e-6)
    text = str(res)
    assert not res.passed and "W" in text and "ok" in text and "WRONG" in text
    assert GradCheck({}, tol=1e-6).passed


def test_check_model_validates():
    model = MLP([2, 3, 2], seed=0)
    with pytest.raises(ValueError, match="unknown loss"):
        check_model(model, np.zeros((2, 2)), [0, 1], loss="hinge")
    with pytest.raises(ValueError, match="y has labels out of range"):
        check_model(model, np.zeros((2, 2)), [0, 5])
    with pytest.raises(TypeError, match="float64 model"):
        check_model(MLP([2, 3, 2], dtype=np.float32), np.zeros((2, 2)), [0, 1])
    with pytest.raises(TypeError, match="Sequential network"):
        check_model(Dense(2, 2), np.zeros((2, 2)), [0, 1])
    with pytest.raises(TypeError, match="nnlib layer"):
        check_layer("relu", np.zeros((2, 2)))


@pytest.mark.parametrize("returns", [lambda: np.ones(3), lambda: None, lambda: "1.0"])
def test_numerical_gradient_needs_f_to_return_one_number(returns):
    with pytest.raises(TypeError, match="f must return the loss as one real number"):
        numerical_gradient(returns, np.zeros(3))


def test_check_function_rejects_a_negative_tolerance_and_an_array_valued_f():
    with pytest.raises(ValueError, match="tol must be positive"):
        check_function(lambda z: np.sum(z), np.ones_like, np.ones(2), tol=-1)
    with pytest.raises(TypeError, match="one real number"):
        check_function(lambda z: z ** 2, lambda z: 2 * z, np.ones(2))


def test_a_check_across_the_relu_kink_fails_with_a_hint():
    from nnlib import relu, relu_grad
    kink = check_function(lambda z: relu(z).sum(), relu_grad, np.array([0.0, 1.0, -1.0]))
    assert not kink.passed and "kink" in str(kink)
    away = check_function(lambda z: relu(z).sum(), relu_grad, np.array([0.5, 1.0, -1.0]))
    assert away.passed and away.hint == ""
