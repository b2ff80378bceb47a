"""Property-based tests (hypothesis) of input validation at nnlib's public entry points.

Whatever a student passes in (strings, objects, complex numbers, NaN or infinity, empty arrays,
wrong shapes, labels out of range or not whole numbers, X and y of different lengths), nnlib must
raise a TypeError or ValueError whose message names the offending argument: never a numpy
broadcasting accident from deep inside, and never a silently wrong answer.

Hypothesis runs derandomized (a fixed seed per test), so every run draws the same examples.
"""
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nnlib
from nnlib import (ACTIVATIONS, MLP, SGD, Dense, Perceptron, ReLU, Sequential, Value,
                   binary_cross_entropy, binary_cross_entropy_grad, count_params, cross_entropy,
                   cross_entropy_grad, fit, log_softmax, logsumexp, mse, mse_grad, softmax,
                   weighted_sum)

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FINITE = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64)
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
small = st.integers(1, 5)


def names_argument(message, name):
    """True when ``name`` appears in ``message`` as a word of its own (``y`` is not in ``y_pred``)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", message) is not None


def assert_rejects(fn, exc, *names):
    """``fn()`` raises ``exc`` and its message names every argument in ``names``."""
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    for name in names:
        assert names_argument(message, name), f"message does not name {name!r}: {message!r}"


def floats(shape):
    return hnp.arrays(np.float64, shape, elements=FINITE)


@st.composite
def with_non_finite(draw, shape):
    """A finite float array of ``shape`` with one entry replaced by NaN, +inf or -inf."""
    arr = draw(floats(shape))
    index = tuple(draw(st.integers(0, s - 1)) for s in shape)
    arr[index] = draw(NON_FINITE)
    return arr


def with_nan(shape):
    """A finite float array of ``shape`` with one entry replaced by NaN."""
    return with_non_finite(shape).filter(lambda a: np.isnan(a).any())


def assert_nan_passes(fn, arr):
    """numpy semantics for predictions and activations: NaN in, NaN out (fit reports divergence)."""
    assert np.isnan(fn(arr)).any()


@st.composite
def wrong_dtype(draw, shape):
    """Something array-like of ``shape`` that does not hold real numbers."""
    size = int(np.prod(shape))
    kind = draw(st.sampled_from(["str", "complex", "object", "bytes", "mixed", "datetime"]))
    if kind == "str":
        values = draw(st.lists(st.text("abc123.", min_size=1, max_size=4), min_size=size, max_size=size))
        return np.array(values).reshape(shape)
    if kind == "complex":
        values = draw(st.lists(st.complex_numbers(max_magnitude=10, allow_nan=False, allow_infinity=False),
                               min_size=size, max_size=size))
        return np.array(values, dtype=np.complex128).reshape(shape)
    if kind == "object":
        values = draw(st.lists(FINITE, min_size=size, max_size=size))
        return np.array(values, dtype=object).reshape(shape)
    if kind == "bytes":
        return np.full(shape, b"1")
    if kind == "datetime":
        return np.full(shape, np.datetime64("2024-01-01"))
    nested = np.zeros(shape).tolist()        # a nested Python list with a string inside
    target = nested
    for _ in range(len(shape) - 1):
        target = target[0]
    target[0] = "1.5"
    return nested


def data_2d(max_rows=6, max_cols=5):
    return st.tuples(st.integers(1, max_rows), st.integers(1, max_cols))


# =============================================================================== weighted_sum
@SETTINGS
@given(n=small, data=st.data())
def test_weighted_sum_valid_inputs_give_the_dot_product(n, data):
    x, w, b = data.draw(floats((n,))), data.draw(floats((n,))), data.draw(FINITE)
    assert weighted_sum(x, w, b) == pytest.approx(float(np.dot(x, w) + b), rel=1e-9, abs=1e-9)


@SETTINGS
@given(n=small, data=st.data())
def test_weighted_sum_rejects_wrong_dtypes(n, data):
    good = data.draw(floats((n,)))
    assert_rejects(lambda: weighted_sum(data.draw(wrong_dtype((n,))), good), TypeError, "x")
    assert_rejects(lambda: weighted_sum(good, data.draw(wrong_dtype((n,)))), TypeError, "w")
    assert_rejects(lambda: weighted_sum(good, good, data.draw(st.sampled_from(["1", 1j, None]))),
                   TypeError, "b")


@SETTINGS
@given(n=small, data=st.data())
def test_weighted_sum_rejects_non_finite_values(n, data):
    good = data.draw(floats((n,)))
    assert_rejects(lambda: weighted_sum(data.draw(with_non_finite((n,))), good), ValueError, "x")
    assert_rejects(lambda: weighted_sum(good, data.draw(with_non_finite((n,)))), ValueError, "w")
    assert_rejects(lambda: weighted_sum(good, good, data.draw(NON_FINITE)), ValueError, "b")


@SETTINGS
@given(n=small, m=small, data=st.data())
def test_weighted_sum_rejects_mismatched_lengths_and_shapes(n, m, data):
    if n != m:
        assert_rejects(lambda: weighted_sum(data.draw(floats((n,))), data.draw(floats((m,)))),
                       ValueError, "x", "w")
    assert_rejects(lambda: weighted_sum(data.draw(floats((n, m, 2))), data.draw(floats((2,)))),
                   ValueError, "x")
    assert_rejects(lambda: weighted_sum(data.draw(floats((n,))), data.draw(floats((n, 1)))),
                   ValueError, "w")
    assert_rejects(lambda: weighted_sum(np.zeros(0), np.zeros(0)), ValueError, "x")


# ================================================================================= Perceptron
@SETTINGS
@given(shape=data_2d(), data=st.data())
def test_perceptron_fit_rejects_bad_X(shape, data):
    n, d = shape
    y = np.zeros(n, dtype=int)
    p = Perceptron(d)
    assert_rejects(lambda: p.fit(data.draw(wrong_dtype(shape)), y), TypeError, "X")
    assert_rejects(lambda: p.fit(data.draw(with_non_finite(shape)), y), ValueError, "X")
    assert_rejects(lambda: p.fit(data.draw(floats((n, d + 1))), y), ValueError, "X")
    assert_rejects(lambda: p.fit(data.draw(floats((n,))), y), ValueError, "X")
    assert_rejects(lambda: p.fit(np.zeros((0, d)), np.zeros(0, dtype=int)), ValueError, "X")


@SETTINGS
@given(shape=data_2d(), data=st.data())
def test_perceptron_fit_rejects_bad_labels(shape, data):
    n, d = shape
    X = data.draw(floats(shape))
    p = Perceptron(d)
    out_of_range = data.draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)
                             .filter(lambda v: any(k not in (0, 1) for k in v)))
    assert_rejects(lambda: p.fit(X, out_of_range), ValueError, "y")
    fractional = data.draw(st.lists(st.floats(0.01, 0.99), min_size=n, max_size=n))
    assert_rejects(lambda: p.fit(X, fractional), ValueError, "y")
    other = data.draw(st.integers(1, 7).filter(lambda k: k != n))
    assert_rejects(lambda: p.fit(X, np.zeros(other, dtype=int)), ValueError, "X", "y")
    assert_rejects(lambda: p.fit(X, data.draw(wrong_dtype((n,)))), TypeError, "y")
    assert_rejects(lambda: p.fit(X, np.zeros(n, dtype=int), epochs=data.draw(st.integers(-3, 0))),
                   ValueError, "epochs")


@SETTINGS
@given(bad=st.one_of(st.integers(-3, 0), st.floats(0.5, 3.5).filter(lambda v: v != int(v)),
                     st.just("2"), st.just(True)))
def test_perceptron_rejects_bad_sizes(bad):
    with pytest.raises((TypeError, ValueError), match="n_inputs"):
        Perceptron(bad)


# ================================================================================ activations
PUBLIC_ACTIVATIONS = [f for pair in ACTIVATIONS.values() for f in pair]


@SETTINGS
@given(f=st.sampled_from(PUBLIC_ACTIVATIONS), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       data=st.data())
def test_activations_reject_wrong_dtypes_and_pass_nan_through(f, shape, data):
    assert_rejects(lambda: f(data.draw(wrong_dtype(shape))), TypeError, "z")
    if not f.__name__.endswith("_grad") and f.__name__ != "step":
        assert_nan_passes(f, data.draw(with_nan(shape)))


@SETTINGS
@given(f=st.sampled_from(PUBLIC_ACTIVATIONS), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
       data=st.data())
def test_activations_keep_shape_and_are_finite(f, shape, data):
    z = data.draw(floats(shape))
    out = f(z)
    assert np.shape(out) == shape and np.all(np.isfinite(out))


@SETTINGS
@given(f=st.sampled_from(PUBLIC_ACTIVATIONS))
def test_activations_of_an_empty_array_are_empty(f):
    assert f(np.zeros((0, 3))).shape == (0, 3)


@SETTINGS
@given(name=st.sampled_from(["leaky_relu", "elu"]),
       alpha=st.one_of(st.floats(-10, -1e-6), NON_FINITE, st.just("0.1"), st.just(None)))
def test_activation_parameter_alpha_is_checked(name, alpha):
    f, grad = ACTIVATIONS[name]
    for fn in (f, grad):
        with pytest.raises((TypeError, ValueError), match="alpha"):
            fn(np.zeros(3), alpha)


# ===================================================================================== losses
@SETTINGS
@given(fn=st.sampled_from([softmax, log_softmax, logsumexp]), shape=data_2d(), data=st.data())
def test_softmax_family_rejects_bad_input(fn, shape, data):
    assert_rejects(lambda: fn(data.draw(wrong_dtype(shape))), TypeError, "z")
    assert_nan_passes(fn, data.draw(with_nan(shape)))
    assert_rejects(lambda: fn(np.zeros((0, shape[1]))), ValueError, "z")
    assert_rejects(lambda: fn(data.draw(floats(shape)), axis=data.draw(st.sampled_from([2, -3, 1.0, "0"]))),
                   ValueError, "axis")
    assert_rejects(lambda: fn(data.draw(floats((*shape, 2)))), ValueError, "z")


@SETTINGS
@given(fn=st.sampled_from([mse, mse_grad]), shape=data_2d(), data=st.data())
def test_mse_rejects_mismatched_or_bad_arrays(fn, shape, data):
    n, k = shape
    good = data.draw(floats(shape))
    other = data.draw(st.sampled_from([(n + 1, k), (n, k + 1), (n * k,)]))
    assert_rejects(lambda: fn(good, data.draw(floats(other))), ValueError, "y_pred", "y_true")
    assert_nan_passes(lambda a: fn(a, good), data.draw(with_nan(shape)))
    assert_rejects(lambda: fn(good, data.draw(with_non_finite(shape))), ValueError, "y_true")
    assert_rejects(lambda: fn(good, data.draw(wrong_dtype(shape))), TypeError, "y_true")
    assert_rejects(lambda: fn(np.zeros((0, k)), np.zeros((0, k))), ValueError, "y_pred")


@SETTINGS
@given(fn=st.sampled_from([binary_cross_entropy, binary_cross_entropy_grad]), n=small, data=st.data())
def test_binary_cross_entropy_rejects_bad_input(fn, n, data):
    p = data.draw(hnp.arrays(np.float64, n, elements=st.floats(0, 1)))
    y = data.draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0])))
    bad_p = p.copy()
    bad_p[data.draw(st.integers(0, n - 1))] = data.draw(st.one_of(st.floats(1.001, 50), st.floats(-50, -0.001)))
    assert_rejects(lambda: fn(bad_p, y), ValueError, "p")
    bad_y = y.copy()
    bad_y[0] = data.draw(st.one_of(st.floats(1.001, 5), st.floats(-5, -0.001)))
    assert_rejects(lambda: fn(p, bad_y), ValueError, "y")
    assert_rejects(lambda: fn(p, np.zeros(n + 1)), ValueError, "p", "y")
    p_nan = p.copy()
    p_nan[data.draw(st.integers(0, n - 1))] = math.nan
    assert_nan_passes(lambda a: fn(a, y), p_nan)
    assert_rejects(lambda: fn(p, data.draw(wrong_dtype((n,)))), TypeError, "y")


@SETTINGS
@given(fn=st.sampled_from([cross_entropy, cross_entropy_grad]), shape=data_2d(), data=st.data())
def test_cross_entropy_rejects_bad_labels(fn, shape, data):
    n, k = shape
    z = data.draw(floats(shape))
    labels = data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    bad = list(labels)
    bad[data.draw(st.integers(0, n - 1))] = data.draw(st.one_of(st.integers(k, k + 10), st.integers(-10, -1)))
    assert_rejects(lambda: fn(z, bad), ValueError, "y")
    frac = np.array(labels, dtype=float)
    frac[0] += data.draw(st.floats(0.01, 0.99))
    assert_rejects(lambda: fn(z, frac), ValueError, "y")
    other = data.draw(st.integers(1, 8).filter(lambda m: m != n and not (n == 1 and m == k)))
    assert_rejects(lambda: fn(z, np.zeros(other, dtype=int)), ValueError, "y", "logits")
    assert_rejects(lambda: fn(z, data.draw(wrong_dtype((n,)))), TypeError, "y")
    assert_rejects(lambda: fn(z, np.eye(k + 1)[:n]), ValueError, "y", "logits")
    labels_nan = np.array(labels, dtype=float)
    labels_nan[0] = data.draw(NON_FINITE)
    assert_rejects(lambda: fn(z, labels_nan), ValueError, "y")


@SETTINGS
@given(fn=st.sampled_from([cross_entropy, cross_entropy_grad]), shape=data_2d(), data=st.data())
def test_cross_entropy_rejects_bad_logits(fn, shape, data):
    n, k = shape
    y = np.zeros(n, dtype=int)
    assert_nan_passes(lambda a: fn(a, y), data.draw(with_nan(shape)))
    assert_rejects(lambda: fn(data.draw(wrong_dtype(shape)), y), TypeError, "logits")
    assert_rejects(lambda: fn(data.draw(floats((n, k, 2))), y), ValueError, "logits")


@SETTINGS
@given(shape=data_2d(), data=st.data())
def test_one_hot_and_label_cross_entropy_agree(shape, data):
    n, k = shape
    z = data.draw(floats(shape))
    y = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    assert cross_entropy(z, y) == pytest.approx(cross_entropy(z, np.eye(k)[y]), rel=1e-12, abs=1e-12)
    assert cross_entropy(z, y) >= 0


# ==================================================================================== layers
@SETTINGS
@given(bad=st.one_of(st.integers(-5, 0), st.floats(0.5, 9.5).filter(lambda v: v != int(v)),
                     st.just("3"), st.just(None), st.just(True), NON_FINITE),
       which=st.sampled_from(["n_in", "n_out"]))
def test_dense_rejects_bad_sizes(bad, which):
    args = {"n_in": 3, "n_out": 2, which: bad}
    with pytest.raises((TypeError, ValueError)) as info:
        Dense(args["n_in"], args["n_out"])
    assert names_argument(str(info.value), which)


@SETTINGS
@given(shape=data_2d(), data=st.data())
def test_dense_forward_rejects_bad_batches(shape, data):
    n, d = shape
    layer = Dense(d, 3)
    assert_rejects(lambda: layer.forward(data.draw(wrong_dtype(shape))), TypeError, "X")
    assert_nan_passes(layer.forward, data.draw(with_nan(shape)))
    assert_rejects(lambda: layer.forward(data.draw(floats((n, d + data.draw(small))))), ValueError, "X")
    assert_rejects(lambda: layer.forward(data.draw(floats((d,)))), ValueError, "X")
    assert_rejects(lambda: layer.forward(np.zeros((0, d))), ValueError, "X")


@SETTINGS
@given(shape=data_2d(), data=st.data())
def test_activation_layer_forward_rejects_bad_batches(shape, data):
    layer = ReLU()
    assert_rejects(lambda: layer.forward(data.draw(wrong_dtype(shape))), TypeError, "X")
    assert_nan_passes(layer.forward, data.draw(with_nan(shape)))


# ============================================================================ Sequential / MLP
def net(d, k=3):
    return Sequential([Dense(d, 4, seed=0), ReLU(), Dense(4, k, seed=1)])


@SETTINGS
@given(method=st.sampled_from(["predict", "predict_proba", "forward"]), shape=data_2d(), data=st.data())
def test_predict_rejects_bad_batches(method, shape, data):
    n, d = shape
    fn = getattr(net(d), method)
    assert_rejects(lambda: fn(data.draw(wrong_dtype(shape))), TypeError, "X")
    assert_rejects(lambda: fn(data.draw(with_non_finite(shape))), ValueError, "X")
    assert_rejects(lambda: fn(data.draw(floats((n, d + data.draw(small))))), ValueError, "X")
    assert_rejects(lambda: fn(data.draw(floats((n, d, 2)))), ValueError, "X")
    assert_rejects(lambda: fn(np.zeros((0, d))), ValueError, "X")


@SETTINGS
@given(shape=data_2d(), data=st.data())
def test_predict_outputs_are_valid(shape, data):
    n, d = shape
    model = net(d)
    X = data.draw(floats(shape))
    proba = model.predict_proba(X)
    assert proba.shape == (n, 3) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = model.predict(X)
    assert pred.shape == (n,) and set(pred.tolist()) <= {0, 1, 2}


@SETTINGS
@given(shape=data_2d(), data=st.data())
def test_accuracy_rejects_bad_labels(shape, data):
    n, d = shape
    model = net(d)
    X = data.draw(floats(shape))
    other = data.draw(st.integers(1, 8).filter(lambda m: m != n))
    assert_rejects(lambda: model.accuracy(X, np.zeros(other, dtype=int)), ValueError, "X", "y")
    assert_rejects(lambda: model.accuracy(X, np.full(n, 0.5)), ValueError, "y")
    assert_rejects(lambda: model.accuracy(X, data.draw(wrong_dtype((n,)))), TypeError, "y")


@SETTINGS
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), data=st.data())
def test_mlp_and_count_params_reject_bad_sizes(sizes, data):
    bad = list(sizes)
    bad[data.draw(st.integers(0, len(bad) - 1))] = data.draw(
        st.one_of(st.integers(-5, 0), st.floats(0.5, 5.5).filter(lambda v: v != int(v)),
                  st.just("4"), st.just(None), st.just(False)))
    for fn in (MLP, count_params):
        with pytest.raises((TypeError, ValueError), match="layer size"):
            fn(bad)
    assert count_params(sizes) == MLP(sizes).num_params()


@SETTINGS
@given(name=st.text(min_size=1, max_size=8).filter(lambda s: s.lower() not in ACTIVATIONS))
def test_mlp_rejects_unknown_activation_names(name):
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 3, 2], activation=name)


# ======================================================================================== fit
@SETTINGS
@given(shape=data_2d(max_rows=8), data=st.data())
def test_fit_rejects_bad_X(shape, data):
    n, d = shape
    model = net(d)
    y = np.zeros(n, dtype=int)
    assert_rejects(lambda: fit(model, data.draw(wrong_dtype(shape)), y, epochs=1), TypeError, "X")
    assert_rejects(lambda: fit(model, data.draw(with_non_finite(shape)), y, epochs=1), ValueError, "X")
    assert_rejects(lambda: fit(model, data.draw(floats((n, d + 1))), y, epochs=1), ValueError, "X")
    assert_rejects(lambda: fit(model, np.zeros((0, d)), np.zeros(0, dtype=int), epochs=1),
                   ValueError, "X")


@SETTINGS
@given(shape=data_2d(max_rows=8), data=st.data())
def test_fit_rejects_bad_labels(shape, data):
    n, d = shape
    model = net(d, k=3)
    X = data.draw(floats(shape))
    other = data.draw(st.integers(1, 9).filter(lambda m: m != n))
    assert_rejects(lambda: fit(model, X, np.zeros(other, dtype=int), epochs=1), ValueError, "X", "y")
    bad = np.zeros(n, dtype=int)
    bad[data.draw(st.integers(0, n - 1))] = data.draw(st.one_of(st.integers(3, 20), st.integers(-20, -1)))
    assert_rejects(lambda: fit(model, X, bad, epochs=1), ValueError, "y")
    assert_rejects(lambda: fit(model, X, np.full(n, data.draw(st.floats(0.01, 1.99).filter(
        lambda v: v != 1.0))), epochs=1), ValueError, "y")
    assert_rejects(lambda: fit(model, X, data.draw(wrong_dtype((n,))), epochs=1), TypeError, "y")
    assert_rejects(lambda: fit(model, X, np.zeros((n, 3)), epochs=1), ValueError, "y")


@SETTINGS
@given(shape=data_2d(max_rows=8), data=st.data())
def test_fit_rejects_bad_validation_data(shape, data):
    n, d = shape
    model = net(d)
    X, y = data.draw(floats(shape)), np.zeros(n, dtype=int)
    assert_rejects(lambda: fit(model, X, y, epochs=1, validation_data=(data.draw(with_non_finite(shape)), y)),
                   ValueError, "X_val")
    assert_rejects(lambda: fit(model, X, y, epochs=1, validation_data=(X, np.zeros(n + 1, dtype=int))),
                   ValueError, "y_val", "X_val")
    assert_rejects(lambda: fit(model, X, y, epochs=1, validation_data=(X, np.full(n, 7))),
                   ValueError, "y_val")


@SETTINGS
@given(param=st.sampled_from(["epochs", "batch_size", "lr"]),
       bad=st.one_of(st.integers(-5, 0), NON_FINITE, st.just("10"), st.just(None), st.just(True),
                     st.floats(-5, 0)))
def test_fit_rejects_bad_hyper_parameters(param, bad):
    model = net(2)
    X, y = np.zeros((4, 2)), np.zeros(4, dtype=int)
    with pytest.raises((TypeError, ValueError)) as info:
        fit(model, X, y, **{"epochs": 1, param: bad})
    assert names_argument(str(info.value), param)


@SETTINGS
@given(shape=data_2d(max_rows=8), k=st.integers(1, 3), data=st.data())
def test_fit_with_mse_rejects_bad_targets(shape, k, data):
    n, d = shape
    model = net(d, k=k)
    X = data.draw(floats(shape))
    wrong = data.draw(st.sampled_from([(n, k + 1), (n + 1, k), (n, k, 1)]))
    assert_rejects(lambda: fit(model, X, np.zeros(wrong), loss="mse", epochs=1), ValueError, "y")
    assert_rejects(lambda: fit(model, X, data.draw(with_non_finite((n, k))), loss="mse", epochs=1),
                   ValueError, "y")
    assert_rejects(lambda: fit(model, X, data.draw(wrong_dtype((n, k))), loss="mse", epochs=1),
                   TypeError, "y")


@SETTINGS
@given(shape=data_2d(max_rows=8), k=st.integers(2, 4), data=st.data())
def test_fit_with_binary_cross_entropy_rejects_bad_labels_and_outputs(shape, k, data):
    n, d = shape
    X, y = data.draw(floats(shape)), np.zeros(n, dtype=int)
    fit_bce = lambda model, labels: fit(model, X, labels, loss="binary_cross_entropy", epochs=1)
    bad = y.copy()
    bad[data.draw(st.integers(0, n - 1))] = data.draw(st.one_of(st.integers(2, 20), st.integers(-20, -1)))
    assert_rejects(lambda: fit_bce(net(d, k=1), bad), ValueError, "y", "binary_cross_entropy")
    assert_rejects(lambda: fit_bce(net(d, k=k), y), ValueError, "binary_cross_entropy", "cross_entropy")
    other = data.draw(st.integers(1, 9).filter(lambda m: m != n))
    assert_rejects(lambda: fit_bce(net(d, k=1), np.zeros(other, dtype=int)), ValueError, "X", "y")
    assert_rejects(lambda: fit_bce(net(d, k=1), np.full(n, 0.5)), ValueError, "y")
    assert_rejects(lambda: fit_bce(net(d, k=1), data.draw(wrong_dtype((n,)))), TypeError, "y")


@SETTINGS
@given(shape=data_2d(max_rows=10), data=st.data())
def test_fit_on_valid_data_gives_a_finite_history(shape, data):
    n, d = shape
    X = data.draw(floats(shape))
    y = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    h = fit(net(d), X / 100, y, epochs=2, batch_size=data.draw(st.integers(1, 12)), lr=0.05)
    assert h.epochs == 2 and all(math.isfinite(v) for v in h.train_loss)


# ======================================================================== SGD, count_params
@SETTINGS
@given(bad=st.one_of(st.floats(-10, 0), NON_FINITE, st.just("0.1"), st.just(None), st.just(False),
                     st.just(1j), st.just([0.1])))
def test_sgd_rejects_bad_learning_rates(bad):
    with pytest.raises((TypeError, ValueError)) as info:
        SGD(bad)
    assert names_argument(str(info.value), "lr")


@SETTINGS
@given(bad=st.one_of(st.integers(), st.just(None), st.text(max_size=0), st.just(1.5)))
def test_count_params_rejects_non_lists(bad):
    with pytest.raises((TypeError, ValueError), match="sizes|layer size"):
        count_params(bad)


# ===================================================================================== Value
@SETTINGS
@given(bad=st.one_of(st.text(max_size=3), st.none(), st.booleans(), st.complex_numbers(min_magnitude=1),
                     st.lists(FINITE, max_size=2), NON_FINITE))
def test_value_rejects_non_real_or_non_finite_data(bad):
    exc = ValueError if isinstance(bad, float) else TypeError
    with pytest.raises(exc, match="Value"):
        Value(bad)


@SETTINGS
@given(a=FINITE, b=FINITE, bad=st.one_of(st.text(max_size=3), st.none(), st.just(math.nan)))
def test_value_gates_reject_bad_operands(a, b, bad):
    with pytest.raises((TypeError, ValueError), match="Value"):
        Value(a) + bad
    with pytest.raises((TypeError, ValueError), match="Value"):
        Value(a) * bad
    with pytest.raises((TypeError, ValueError), match="Value"):
        nnlib.maximum(Value(b), bad)


@SETTINGS
@given(a=FINITE, b=FINITE, c=FINITE, d=FINITE)
def test_value_gradients_of_the_handout_function(a, b, c, d):
    nodes = nnlib.product_plus_max(a, b, c, d)
    assert nodes["f"].data == pytest.approx(a * b + max(c, d))
    assert (nodes["x"].grad, nodes["y"].grad) == (b, a)
    assert nodes["z"].grad + nodes["w"].grad == 1.0
    assert nodes["z"].grad == (1.0 if c >= d else 0.0)


# ====================================================================================== seeds
@SETTINGS
@given(seed=st.one_of(st.text(min_size=1, max_size=3), st.floats(allow_nan=False), st.booleans(),
                      st.integers(max_value=-1)),
       make=st.sampled_from(["Dense", "MLP", "Perceptron", "fit"]))
def test_seeds_must_be_non_negative_ints(seed, make):
    build = {"Dense": lambda: Dense(2, 2, seed=seed), "MLP": lambda: MLP([2, 2], seed=seed),
             "Perceptron": lambda: Perceptron(2, seed=seed),
             "fit": lambda: fit(net(2), np.zeros((3, 2)), [0, 1, 2], epochs=1, seed=seed)}[make]
    assert_rejects(build, (TypeError, ValueError), "seed")
