"""nnlib.activations: values, derivatives, numerical stability and the activation layers (chapter 5)."""
import math

import numpy as np
import pytest

import nnlib
from nnlib import (ACTIVATIONS, Activation, ELU, Identity, LeakyReLU, ReLU, Sigmoid, Step, Tanh, elu, elu_grad,
                   identity, identity_grad, leaky_relu, leaky_relu_grad, relu,
                   relu_grad, sigmoid, sigmoid_grad, step, step_grad, tanh, tanh_grad)

Z = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
LAYERS = {"step": Step, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
          "leaky_relu": LeakyReLU, "elu": ELU, "identity": Identity}


# ----------------------------------------------------------------------------------- values
def test_step_values():
    np.testing.assert_array_equal(step(Z), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(step_grad(Z), np.zeros(5))


def test_sigmoid_values_against_the_formula():
    expected = [1 / (1 + math.exp(-z)) for z in Z]
    np.testing.assert_allclose(sigmoid(Z), expected, rtol=1e-15)
    assert sigmoid(0.0) == 0.5
    np.testing.assert_allclose(sigmoid_grad(Z), np.array(expected) * (1 - np.array(expected)))
    assert sigmoid_grad(0.0) == 0.25 and np.all(sigmoid_grad(Z) <= 0.25)


def test_sigmoid_is_symmetric():
    np.testing.assert_allclose(sigmoid(-Z), 1 - sigmoid(Z), atol=1e-15)


def test_tanh_values():
    np.testing.assert_allclose(tanh(Z), np.tanh(Z))
    np.testing.assert_allclose(tanh_grad(Z), 1 / np.cosh(Z) ** 2)
    np.testing.assert_allclose(tanh(Z), 2 * sigmoid(2 * Z) - 1, atol=1e-15)


def test_relu_values_and_gradient_zero_at_zero():
    np.testing.assert_array_equal(relu(Z), [0, 0, 0, 0.5, 3])
    np.testing.assert_array_equal(relu_grad(Z), [0, 0, 0, 1, 1])


def test_leaky_relu_values():
    np.testing.assert_allclose(leaky_relu(Z), [-0.03, -0.005, 0, 0.5, 3])
    np.testing.assert_allclose(leaky_relu(Z, alpha=0.2), [-0.6, -0.1, 0, 0.5, 3])
    np.testing.assert_allclose(leaky_relu_grad(Z, alpha=0.2), [0.2, 0.2, 0.2, 1, 1])
    np.testing.assert_array_equal(leaky_relu(Z, alpha=0.0), relu(Z))


def test_elu_values():
    np.testing.assert_allclose(elu(Z), [math.exp(-3) - 1, math.exp(-0.5) - 1, 0, 0.5, 3])
    np.testing.assert_allclose(elu(Z, alpha=2.0)[:2], 2 * (np.exp(Z[:2]) - 1))
    np.testing.assert_allclose(elu_grad(Z), [math.exp(-3), math.exp(-0.5), 1, 1, 1])


def test_identity_values_and_copy():
    z = Z.copy()
    out = identity(z)
    np.testing.assert_array_equal(out, Z)
    out[0] = 99.0
    assert z[0] == -3.0  # a copy, not the caller's array
    np.testing.assert_array_equal(identity_grad(Z), np.ones(5))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_shapes_are_preserved_for_any_shape(name):
    f, g = ACTIVATIONS[name]
    for shape in [(), (4,), (2, 3), (2, 3, 4)]:
        z = np.random.default_rng(0).normal(size=shape)
        assert np.shape(f(z)) == shape and np.shape(g(z)) == shape


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float32_stays_float32(name):
    f, g = ACTIVATIONS[name]
    z = np.linspace(-2, 2, 9, dtype=np.float32)
    assert f(z).dtype == np.float32
    assert g(z).dtype == np.float32


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_integer_input_is_treated_as_float(name):
    f, _ = ACTIVATIONS[name]
    out = f(np.array([-2, 0, 3]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, f(np.array([-2.0, 0.0, 3.0])))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "elu", "leaky_relu"])
def test_derivative_matches_central_difference(name):
    f, g = ACTIVATIONS[name]
    z = np.linspace(-4, 4, 41) + 0.013  # avoid the kink at exactly 0
    h = 1e-6
    np.testing.assert_allclose(g(z), (f(z + h) - f(z - h)) / (2 * h), rtol=1e-6, atol=1e-9)


# -------------------------------------------------------------------------------- stability
def test_sigmoid_is_stable_at_plus_minus_1000():
    z = np.array([-1000.0, -745.0, 0.0, 745.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(z)
        g = sigmoid_grad(z)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(g))
    assert g[0] == 0.0 and g[-1] == 0.0


def test_sigmoid_stable_in_float32():
    z = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(z)
    assert s.dtype == np.float32
    np.testing.assert_allclose(s, [0.0, 0.0, 1.0, 1.0], atol=1e-30)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_no_warning_for_large_inputs(name):
    f, g = ACTIVATIONS[name]
    z = np.array([-1000.0, -50.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.all(np.isfinite(f(z))) and np.all(np.isfinite(g(z)))


def test_tanh_saturates_and_its_gradient_vanishes():
    assert tanh(1000.0) == 1.0 and tanh(-1000.0) == -1.0
    assert tanh_grad(1000.0) == 0.0


# ----------------------------------------------------------------------- the one name table
def test_one_table_names_the_functions_and_the_layers():
    assert ACTIVATIONS["relu"] == (relu, relu_grad)
    assert set(ACTIVATIONS) == set(LAYERS)
    for name, cls in LAYERS.items():
        assert type(Activation.named(name)) is cls and cls.name == name
    assert type(Activation.named("Sigmoid")) is Sigmoid


@pytest.mark.parametrize("bad", ["softplus", "", None, 3])
def test_unknown_activation_names_are_rejected(bad):
    with pytest.raises(ValueError, match="unknown activation"):
        Activation.named(bad)


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"step"}))
def test_nan_in_nan_out(name):
    """numpy semantics: NaN passes through the functions (fit reports it at the loss)."""
    f, _ = ACTIVATIONS[name]
    out = f(np.array([np.nan, 1.0]))
    assert np.isnan(out[0]) and np.isfinite(out[1])


def test_negative_alpha_is_rejected():
    with pytest.raises(ValueError, match="alpha"):
        leaky_relu(Z, alpha=-0.1)
    with pytest.raises(ValueError, match="alpha"):
        ELU(alpha=-1.0)


# ------------------------------------------------------------------------------------ layers
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_forward_backward_match_the_functions(name):
    f, g = ACTIVATIONS[name]
    layer = LAYERS[name]()
    X = np.random.default_rng(1).normal(size=(4, 3))
    G = np.random.default_rng(2).normal(size=(4, 3))
    np.testing.assert_allclose(layer.forward(X), f(X))
    np.testing.assert_allclose(layer.backward(G), G * g(X))
    assert layer.params == [] and layer.grads == [] and layer.num_params() == 0


def test_layer_with_parameter_passes_alpha():
    X = np.array([[-2.0, 1.0]])
    np.testing.assert_allclose(LeakyReLU(alpha=0.3).forward(X), [[-0.6, 1.0]])
    np.testing.assert_allclose(ELU(alpha=2.0).forward(X), [[2 * (math.exp(-2) - 1), 1.0]])
    assert repr(LeakyReLU(alpha=0.3)) == "LeakyReLU(alpha=0.3)"
    assert repr(ReLU()) == "ReLU()"


def test_relu_layer_keeps_input_untouched_and_masks_gradient():
    X = np.array([[-1.0, 0.0, 2.0]])
    X0 = X.copy()
    layer = ReLU()
    out = layer(X)
    np.testing.assert_array_equal(out, [[0, 0, 2]])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 5.0, 5.0]])), [[0, 0, 5]])


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_backward_before_forward_is_an_error(name):
    with pytest.raises(RuntimeError, match="before forward"):
        LAYERS[name]().backward(np.ones((1, 2)))


def test_layers_are_exported_from_the_package():
    for cls in LAYERS.values():
        assert getattr(nnlib, cls.__name__) is cls


def test_activation_layers_without_parameters_take_no_arguments():
    with pytest.raises(TypeError, match=r"Sigmoid\(\) takes no arguments"):
        Sigmoid(alpha=0.1)


def test_the_step_compares_as_numpy_does():
    np.testing.assert_array_equal(step(np.array([np.nan, -1.0, 0.0, 2.0])), [0, 0, 0, 1])
