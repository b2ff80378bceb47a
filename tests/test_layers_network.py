"""nnlib.layers and nnlib.network: Dense, Sequential, MLP, parameter counts, SGD (chapters 4, 7, 8)."""
import numpy as np
import pytest

from nnlib import (MLP, SGD, Dense, Layer, ReLU, Sequential, Sigmoid, Tanh, count_params,
                   gradient_descent, softmax)


# ------------------------------------------------------------------- handout worked example
def test_the_5_3_7_5_1_network_has_92_parameters():
    assert count_params([5, 3, 7, 5, 1]) == (5 + 1) * 3 + (3 + 1) * 7 + (7 + 1) * 5 + (5 + 1) * 1 == 92
    model = MLP([5, 3, 7, 5, 1])
    assert model.num_params() == 92
    assert sum(p.size for p in model.params) == 92


@pytest.mark.parametrize("sizes", [[2, 1], [784, 128, 10], [64, 32, 16, 10], [3, 3, 3, 3, 3]])
def test_count_params_matches_the_built_network(sizes):
    assert MLP(sizes).num_params() == count_params(sizes)


# -------------------------------------------------------------------------------------- Dense
def test_dense_forward_is_xw_plus_b():
    layer = Dense(3, 2)
    layer.W[...] = [[1.0, 0.0], [2.0, -1.0], [0.0, 3.0]]
    layer.b[...] = [0.5, -0.5]
    X = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, -1.0]])
    np.testing.assert_allclose(layer.forward(X), [[3.5, 1.5], [4.5, -5.5]])


def test_dense_backward_formulas():
    rng = np.random.default_rng(0)
    layer = Dense(4, 3, seed=1)
    X, G = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer.forward(X)
    dX = layer.backward(G)
    np.testing.assert_allclose(layer.dW, X.T @ G)
    np.testing.assert_allclose(layer.db, G.sum(axis=0))
    np.testing.assert_allclose(dX, G @ layer.W.T)
    assert layer.grads[0] is layer.dW and layer.params[0] is layer.W
    assert layer.backward(G, need_input_grad=False) is None


def test_dense_shapes_and_parameter_count():
    layer = Dense(5, 3)
    assert layer.W.shape == (5, 3) and layer.b.shape == (3,)
    assert layer.num_params() == (5 + 1) * 3
    assert layer(np.zeros((7, 5))).shape == (7, 3)
    assert repr(layer) == "Dense(5, 3, init='he')"


def test_dense_initialisation_scales():
    he = Dense(400, 300, init="he", seed=0).W
    xavier = Dense(400, 300, init="xavier", seed=0).W
    assert he.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert xavier.std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    assert abs(he.mean()) < 0.002
    assert np.all(Dense(4, 3).b == 0)


def test_dense_is_seeded():
    np.testing.assert_array_equal(Dense(6, 4, seed=3).W, Dense(6, 4, seed=3).W)
    assert not np.array_equal(Dense(6, 4, seed=3).W, Dense(6, 4, seed=4).W)
    rng = np.random.default_rng(0)
    a, b = Dense(3, 3, seed=rng), Dense(3, 3, seed=rng)  # a shared generator moves on
    assert not np.array_equal(a.W, b.W)


def test_dense_float32():
    layer = Dense(3, 2, dtype=np.float32)
    assert layer.W.dtype == layer.b.dtype == layer.dW.dtype == np.float32
    out = layer.forward(np.ones((2, 3)))          # float64 input is cast to the layer's dtype
    assert out.dtype == np.float32
    assert layer.backward(np.ones((2, 2), dtype=np.float32)).dtype == np.float32


def test_dense_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown init 'zeros'; choose one of"):
        Dense(2, 2, init="zeros")
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        Dense(2, 2, dtype=np.int64)
    with pytest.raises(ValueError, match="n_out must be at least 1"):
        Dense(2, 0)
    with pytest.raises(TypeError, match="n_in must be a whole number"):
        Dense(2.5, 3)


def test_dense_checks_input_and_gradient_shapes():
    layer = Dense(3, 2)
    with pytest.raises(ValueError, match=r"Dense\(3, 2\) expects X of shape \(n_samples, 3\)"):
        layer.forward(np.zeros((4, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        Dense(3, 2).backward(np.zeros((1, 2)))
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"grad must have the shape .*\(4, 2\)"):
        layer.backward(np.zeros((4, 3)))


# --------------------------------------------------------------------------------- Sequential
def make_small(seed=0):
    return Sequential([Dense(2, 4, seed=seed), ReLU(), Dense(4, 3, seed=seed + 1)])


def test_sequential_forward_is_the_composition_of_layers():
    model = make_small()
    X = np.random.default_rng(0).normal(size=(5, 2))
    d1, _, d2 = model.layers
    expected = np.maximum(X @ d1.W + d1.b, 0) @ d2.W + d2.b
    np.testing.assert_allclose(model.forward(X), expected)
    np.testing.assert_allclose(model(X), expected)
    assert model.n_inputs == 2 and model.n_outputs == 3


def test_sequential_backward_fills_all_gradients_and_skips_the_input_gradient():
    model = make_small()
    X = np.random.default_rng(1).normal(size=(5, 2))
    out = model.forward(X)
    G = np.ones_like(out)
    assert model.backward(G) is None
    assert all(np.any(g != 0) for g in model.grads[::2])
    model.forward(X)
    assert model.backward(G, need_input_grad=True).shape == (5, 2)


def test_predict_proba_predict_and_accuracy():
    model = make_small()
    X = np.random.default_rng(2).normal(size=(6, 2))
    logits = model.forward(X)
    np.testing.assert_allclose(model.predict_proba(X), softmax(logits))
    np.testing.assert_array_equal(model.predict(X), logits.argmax(axis=1))
    y = model.predict(X).copy()
    assert model.accuracy(X, y) == 1.0
    y[0] = (y[0] + 1) % 3
    assert model.accuracy(X, y) == pytest.approx(5 / 6)


def test_single_output_network_uses_a_sigmoid_for_probabilities():
    model = MLP([2, 3, 1], seed=0)
    X = np.random.default_rng(3).normal(size=(8, 2))
    z = model.forward(X)[:, 0]
    p = model.predict_proba(X)
    assert p.shape == (8, 2)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), (z > 0).astype(int))


def test_sequential_validates_inputs():
    model = make_small()
    with pytest.raises(ValueError, match=r"X has 3 features per sample but the model expects 2"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="X must be 2-D"):
        model.forward(np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        model.predict_proba([[np.nan, 0.0]])
    with pytest.raises(ValueError, match=r"y has 2 labels but X has 1 samples"):
        model.accuracy([[0.0, 0.0]], [0, 1])


def test_sequential_rejects_non_layers_and_mismatched_sizes():
    with pytest.raises(TypeError, match="non-empty list of nnlib layers"):
        Sequential([])
    with pytest.raises(TypeError, match="non-empty list of nnlib layers"):
        Sequential([Dense(2, 2), "relu"])
    with pytest.raises(TypeError, match="layers must be a list"):
        Sequential(5)
    with pytest.raises(ValueError, match=r"Dense\(2, 3.*has 3 outputs but the next Dense\(4, 1"):
        Sequential([Dense(2, 3), ReLU(), Dense(4, 1)])


def test_sequential_accepts_a_custom_layer():
    class Double(Layer):
        def forward(self, X):
            return 2 * X

        def backward(self, grad, need_input_grad=True):
            return 2 * grad

    model = Sequential([Dense(2, 2, seed=0), Double()])
    X = np.ones((1, 2))
    np.testing.assert_allclose(model.forward(X), 2 * model.layers[0].forward(X))
    model.forward(X)
    model.backward(np.ones((1, 2)))
    np.testing.assert_allclose(model.layers[0].db, [2.0, 2.0])


def test_repr_mentions_the_parameter_count():
    assert "# 92 parameters" in repr(MLP([5, 3, 7, 5, 1]))


# ---------------------------------------------------------------------------------------- MLP
def test_mlp_structure():
    model = MLP([4, 8, 6, 3], activation="tanh")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "Tanh", "Dense", "Tanh", "Dense"]
    assert model.layers[0].init == "xavier"
    assert MLP([4, 8, 3]).layers[0].init == "he"
    assert type(MLP([4, 8, 3], output="sigmoid").layers[-1]) is Sigmoid


def test_mlp_activation_names_are_case_insensitive():
    model = MLP([2, 3, 2], activation="ReLU")
    assert type(model.layers[1]) is ReLU
    assert type(MLP([2, 3, 2], activation="Tanh").layers[1]) is Tanh


def test_mlp_is_reproducible_and_seed_dependent():
    a, b, c = MLP([3, 5, 2], seed=1), MLP([3, 5, 2], seed=1), MLP([3, 5, 2], seed=2)
    for p, q in zip(a.params, b.params):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a.params[0], c.params[0])


def test_mlp_float32():
    model = MLP([3, 4, 2], dtype=np.float32)
    assert model.dtype == np.float32
    assert all(p.dtype == np.float32 for p in model.params)
    assert model.forward(np.ones((2, 3))).dtype == np.float32


@pytest.mark.parametrize("sizes, exc, msg", [([3], ValueError, "at least an input and an output"),
                                             ([3, 0, 2], ValueError, "each layer size must be at least 1"),
                                             ([3, 2.5], TypeError, "each layer size must be a whole number"),
                                             (7, TypeError, "sizes must be a list")])
def test_mlp_and_count_params_reject_bad_sizes(sizes, exc, msg):
    with pytest.raises(exc, match=msg):
        MLP(sizes)
    with pytest.raises(exc, match=msg):
        count_params(sizes)


def test_mlp_rejects_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        MLP([2, 2], activation="softplus")


# ---------------------------------------------------------------------------------------- SGD
def test_sgd_step_updates_in_place():
    model = make_small()
    X = np.random.default_rng(4).normal(size=(3, 2))
    model.forward(X)
    model.backward(np.ones((3, 3)))
    before = [p.copy() for p in model.params]
    ids = [id(p) for p in model.params]
    SGD(lr=0.5).step(model)
    for p, p0, g in zip(model.params, before, model.grads):
        np.testing.assert_allclose(p, p0 - 0.5 * g)
    assert [id(p) for p in model.params] == ids
    assert model.layers[0].W is model.params[0]


def test_sgd_step_float32_and_non_contiguous_parameters():
    layer = Dense(3, 2, dtype=np.float32)
    layer.dW[...] = 1.0
    W0 = layer.W.copy()
    SGD(0.25).step(layer)
    assert layer.W.dtype == np.float32
    np.testing.assert_allclose(layer.W, W0 - 0.25)

    class Strided(Layer):              # a parameter that is a strided view still updates
        def __init__(self):
            self.base = np.zeros((4, 4))
            self.params, self.grads = [self.base[:, ::2]], [np.ones((4, 2))]

        def forward(self, X):
            return X

        def backward(self, grad, need_input_grad=True):
            return grad

    s = Strided()
    SGD(1.0).step(s)
    np.testing.assert_array_equal(s.base[:, ::2], -1.0)
    np.testing.assert_array_equal(s.base[:, 1::2], 0.0)


def test_sgd_rejects_bad_learning_rates_and_models():
    for bad, exc in [(0, ValueError), (-0.1, ValueError), (float("nan"), ValueError), ("0.1", TypeError)]:
        with pytest.raises(exc, match="lr"):
            SGD(bad)
    with pytest.raises(TypeError, match="params and grads"):
        SGD(0.1).step("model")
    assert repr(SGD(0.1)) == "SGD(lr=0.1)"


# --------------------------------------------------------------------------- gradient_descent
def test_gradient_descent_on_a_parabola():
    result = gradient_descent(lambda x: 2 * x, 1.0, lr=0.25, steps=3)   # x <- x / 2
    np.testing.assert_allclose(result.path, [1.0, 0.5, 0.25, 0.125])
    assert not result.diverged


def test_gradient_descent_in_two_dimensions():
    result = gradient_descent(lambda v: np.array([2 * v[0], 20 * v[1]]), [1.0, 1.0], lr=0.05,
                              steps=200)
    assert result.path.shape == (201, 2)
    np.testing.assert_allclose(result.path[-1], [0, 0], atol=1e-8)


def test_gradient_descent_detects_divergence():
    result = gradient_descent(lambda x: 2 * x, 1.0, lr=1.5, steps=100)   # x <- -2x
    assert result.diverged
    assert len(result.path) < 101
    assert np.all(np.abs(result.path) <= 1e6)


def test_gradient_descent_validates():
    with pytest.raises(TypeError, match="grad_fn must be a function"):
        gradient_descent(3, 1.0, lr=0.1, steps=3)
    with pytest.raises(ValueError, match="grad_fn returned a gradient of shape"):
        gradient_descent(lambda x: np.ones(3), [1.0, 2.0], lr=0.1, steps=3)
    with pytest.raises(TypeError, match="x0 must"):
        gradient_descent(lambda x: x, "start", lr=0.1, steps=3)


def test_dense_backward_takes_nested_lists_and_names_the_real_shape():
    layer = Dense(3, 4)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 4)))
    layer.forward(np.ones((2, 3)))
    assert layer.backward([[1.0, 2.0, 3.0, 4.0]] * 2).shape == (2, 3)
    with pytest.raises(ValueError, match=r"last output \(2, 4\), got \(2, 3\)"):
        layer.backward([[1.0, 2.0, 3.0]] * 2)


def test_accuracy_rejects_labels_the_model_cannot_predict():
    with pytest.raises(ValueError, match="this model has 2 classes"):
        MLP([2, 3, 2]).accuracy(np.zeros((2, 2)), [0, 5])


def test_layer_outputs_walk_the_network():
    model = MLP([2, 3, 4, 2], seed=0)
    X = np.random.default_rng(0).normal(size=(5, 2))
    outs = model.layer_outputs(X)
    assert [o.shape for o in outs] == [(5, 3), (5, 3), (5, 4), (5, 4), (5, 2)]
    np.testing.assert_array_equal(outs[-1], model.forward(X))
    hidden = model.hidden_outputs(X)
    assert len(hidden) == 2 and hidden[0] is not outs[0]
    np.testing.assert_array_equal(hidden[1], np.maximum(outs[2], 0))


def test_gradient_descent_names_a_gradient_that_is_not_numbers():
    with pytest.raises(TypeError, match="the gradient returned by grad_fn must be a numeric array"):
        gradient_descent(lambda x: "up", 1.0, 0.1, 3)
