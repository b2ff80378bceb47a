"""nnlib against PyTorch autograd: forward values and gradients agree in float64.

Skipped when PyTorch is not installed (it is not a requirement of the book:
``pip install torch==2.13.0`` gives a CPU build).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import nnlib  # noqa: E402
from nnlib import (ACTIVATIONS, Activation, ELU, MLP, Dense, Identity, LeakyReLU, ReLU, Sigmoid, Tanh,  # noqa: E402
                   binary_cross_entropy, binary_cross_entropy_grad, cross_entropy,
                   cross_entropy_grad, fit, log_softmax, logsumexp, mse, mse_grad, softmax)

TOL = dict(rtol=1e-8, atol=1e-10)

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z, alpha=0.01: F.leaky_relu(z, negative_slope=alpha),
    "elu": lambda z, alpha=1.0: F.elu(z, alpha=alpha),
    "identity": lambda z: z,
}


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def rng(seed=0):
    return np.random.default_rng(seed)


def inputs(shape, seed=0):
    """Normal samples kept 1e-3 away from 0, where ReLU-like derivatives are conventions."""
    z = rng(seed).normal(size=shape) * 2
    return np.where(np.abs(z) < 1e-3, 1e-3, z)


@pytest.fixture(autouse=True)
def _torch_float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


# ------------------------------------------------------------------------------ activations
@pytest.mark.parametrize("name", sorted(TORCH_ACT))
def test_activation_values_and_derivatives(name):
    f, grad = ACTIVATIONS[name]
    z = inputs((6, 7), seed=1)
    zt = t(z, grad=True)
    out = TORCH_ACT[name](zt)
    out.sum().backward()
    np.testing.assert_allclose(f(z), out.detach().numpy(), **TOL)
    np.testing.assert_allclose(grad(z), zt.grad.numpy(), **TOL)


@pytest.mark.parametrize("name, alpha", [("leaky_relu", 0.2), ("leaky_relu", 0.0), ("elu", 0.5),
                                         ("elu", 2.0)])
def test_activation_parameters(name, alpha):
    f, grad = ACTIVATIONS[name]
    z = inputs(50, seed=2)
    zt = t(z, grad=True)
    TORCH_ACT[name](zt, alpha).sum().backward()
    np.testing.assert_allclose(f(z, alpha), TORCH_ACT[name](t(z), alpha).numpy(), **TOL)
    np.testing.assert_allclose(grad(z, alpha), zt.grad.numpy(), **TOL)


def test_step_matches_heaviside():
    z = inputs(30, seed=3)
    np.testing.assert_array_equal(nnlib.step(z), torch.heaviside(t(z), t(0.0)).numpy())


def test_sigmoid_at_extremes_matches_torch():
    z = np.array([-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
    np.testing.assert_allclose(nnlib.sigmoid(z), torch.sigmoid(t(z)).numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"step"}))
def test_activation_layers_backward(name):
    layer = Activation.named(name)
    X, G = inputs((5, 4), seed=4), rng(5).normal(size=(5, 4))
    Xt = t(X, grad=True)
    (TORCH_ACT[name](Xt) * t(G)).sum().backward()
    np.testing.assert_allclose(layer.forward(X), TORCH_ACT[name](t(X)).numpy(), **TOL)
    np.testing.assert_allclose(layer.backward(G), Xt.grad.numpy(), **TOL)


# ------------------------------------------------------------------------------------ Dense
@pytest.mark.parametrize("n_in, n_out, n", [(1, 1, 1), (5, 3, 8), (20, 7, 4)])
def test_dense_forward_and_gradients(n_in, n_out, n):
    layer = Dense(n_in, n_out, seed=6)
    layer.b[...] = rng(7).normal(size=n_out)
    X, G = rng(8).normal(size=(n, n_in)), rng(9).normal(size=(n, n_out))
    Xt, Wt, bt = t(X, True), t(layer.W.T.copy(), True), t(layer.b, True)  # torch stores W as (out, in)
    out = F.linear(Xt, Wt, bt)
    (out * t(G)).sum().backward()
    np.testing.assert_allclose(layer.forward(X), out.detach().numpy(), **TOL)
    dX = layer.backward(G)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), **TOL)
    np.testing.assert_allclose(layer.dW, Wt.grad.numpy().T, **TOL)
    np.testing.assert_allclose(layer.db, bt.grad.numpy(), **TOL)


# ----------------------------------------------------------------------------------- losses
def test_softmax_log_softmax_logsumexp():
    z = rng(10).normal(size=(6, 5)) * 4
    np.testing.assert_allclose(softmax(z), torch.softmax(t(z), dim=1).numpy(), **TOL)
    np.testing.assert_allclose(log_softmax(z), torch.log_softmax(t(z), dim=1).numpy(), **TOL)
    np.testing.assert_allclose(logsumexp(z), torch.logsumexp(t(z), dim=1).numpy(), **TOL)
    np.testing.assert_allclose(softmax(z, axis=0), torch.softmax(t(z), dim=0).numpy(), **TOL)


def test_softmax_at_extreme_logits():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]])
    np.testing.assert_allclose(softmax(z), torch.softmax(t(z), dim=1).numpy(), **TOL)
    np.testing.assert_allclose(log_softmax(z), torch.log_softmax(t(z), dim=1).numpy(), **TOL)


@pytest.mark.parametrize("one_hot", [False, True], ids=["labels", "one-hot"])
def test_cross_entropy_and_its_gradient(one_hot):
    z = rng(11).normal(size=(7, 4)) * 3
    y = rng(12).integers(0, 4, size=7)
    target = np.eye(4)[y] if one_hot else y
    zt = t(z, True)
    ref = F.cross_entropy(zt, t(np.eye(4)[y]) if one_hot else torch.tensor(y))
    ref.backward()
    assert cross_entropy(z, target) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(cross_entropy_grad(z, target), zt.grad.numpy(), **TOL)


def test_cross_entropy_with_soft_targets():
    z = rng(13).normal(size=(3, 5))
    p = softmax(rng(14).normal(size=(3, 5)))
    zt = t(z, True)
    ref = F.cross_entropy(zt, t(p))
    ref.backward()
    assert cross_entropy(z, p) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(cross_entropy_grad(z, p), zt.grad.numpy(), **TOL)


def test_training_softmax_cross_entropy():
    z = rng(15).normal(size=(9, 6))
    y = rng(16).integers(0, 6, size=9)
    loss = nnlib.SoftmaxCrossEntropy()
    zt = t(z, True)
    ref = F.cross_entropy(zt, torch.tensor(y))
    ref.backward()
    assert loss.forward(z.copy(), y) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), zt.grad.numpy(), **TOL)


@pytest.mark.parametrize("shape", [(6,), (5, 3)])
def test_mse_is_half_the_summed_squares_over_n(shape):
    pred, target = rng(17).normal(size=shape), rng(18).normal(size=shape)
    pt = t(pred, True)
    # nnlib's mse is 1/(2n) sum_i ||yhat_i - y_i||^2, with n the number of samples (rows)
    ref = F.mse_loss(pt, t(target), reduction="sum") / (2 * shape[0])
    ref.backward()
    assert mse(pred, target) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(mse_grad(pred, target), pt.grad.numpy(), **TOL)


def test_binary_cross_entropy():
    p = rng(19).uniform(0.01, 0.99, size=(8, 2))
    y = (rng(20).random((8, 2)) > 0.5).astype(float)
    pt = t(p, True)
    ref = F.binary_cross_entropy(pt, t(y))
    ref.backward()
    assert binary_cross_entropy(p, y) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(binary_cross_entropy_grad(p, y), pt.grad.numpy(), **TOL)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0])
def test_binary_cross_entropy_loss_on_logits(scale):
    """nnlib's one-output loss takes the logit z, like binary_cross_entropy_with_logits."""
    z = rng(33).normal(size=(9, 1)) * scale
    y = rng(34).integers(0, 2, size=9)
    zt = t(z, True)
    ref = F.binary_cross_entropy_with_logits(zt, t(y[:, None]))
    ref.backward()
    loss = nnlib.BinaryCrossEntropy()
    assert loss.forward(z, y) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), zt.grad.numpy(), **TOL)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_one_output_network_with_binary_cross_entropy(activation):
    model = MLP([4, 8, 1], activation, seed=35)
    X, y = rng(36).normal(size=(10, 4)), rng(37).integers(0, 2, size=10)
    tmodel = torch_copy(model)
    ref_logits = tmodel(t(X))
    np.testing.assert_allclose(model.predict_proba(X)[:, 1],
                               torch.sigmoid(ref_logits[:, 0]).detach().numpy(), **TOL)
    loss_fn = nnlib.BinaryCrossEntropy()
    loss = loss_fn.forward(model.forward(X), y)
    ref = F.binary_cross_entropy_with_logits(ref_logits[:, 0], t(y))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    model.backward(loss_fn.backward())
    for ours, theirs in zip(model.grads, torch_grads(tmodel)):
        np.testing.assert_allclose(ours, theirs, **TOL)


# ---------------------------------------------------------------------------- whole networks
def torch_copy(model):
    """A torch.nn.Sequential with the same layers and weights as an nnlib MLP."""
    act = {Sigmoid: torch.nn.Sigmoid, Tanh: torch.nn.Tanh, ReLU: torch.nn.ReLU}
    layers = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            lin = torch.nn.Linear(layer.n_in, layer.n_out)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.W.T.copy()))
                lin.bias.copy_(torch.from_numpy(layer.b.copy()))
            layers.append(lin)
        elif isinstance(layer, LeakyReLU):
            layers.append(torch.nn.LeakyReLU(layer.kwargs["alpha"]))
        elif isinstance(layer, ELU):
            layers.append(torch.nn.ELU(layer.kwargs["alpha"]))
        else:
            layers.append(act[type(layer)]())
    return torch.nn.Sequential(*layers)


def torch_grads(tmodel):
    grads = []
    for module in tmodel:
        if isinstance(module, torch.nn.Linear):
            grads += [module.weight.grad.numpy().T, module.bias.grad.numpy()]
    return grads


@pytest.mark.parametrize("sizes, activation", [([4, 8, 3], "relu"), ([6, 10, 7, 5], "tanh"),
                                               ([3, 5, 2], "sigmoid"), ([5, 6, 6, 4], "leaky_relu"),
                                               ([4, 9, 3], "elu")])
def test_mlp_forward_loss_and_all_gradients(sizes, activation):
    model = MLP(sizes, activation, seed=21)
    for layer in model.layers:
        if isinstance(layer, Dense):
            layer.b[...] = rng(22).normal(scale=0.3, size=layer.b.shape)
    X = rng(23).normal(size=(11, sizes[0]))
    y = rng(24).integers(0, sizes[-1], size=11)
    tmodel = torch_copy(model)

    logits = model.forward(X)
    ref_logits = tmodel(t(X))
    np.testing.assert_allclose(logits, ref_logits.detach().numpy(), **TOL)
    np.testing.assert_allclose(model.predict_proba(X), torch.softmax(ref_logits, 1).detach().numpy(),
                               **TOL)

    loss_fn = nnlib.SoftmaxCrossEntropy()
    loss = loss_fn.forward(logits, y)
    ref = F.cross_entropy(ref_logits, torch.tensor(y))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    model.backward(loss_fn.backward())
    for ours, theirs in zip(model.grads, torch_grads(tmodel)):
        np.testing.assert_allclose(ours, theirs, **TOL)


def test_input_gradient_of_a_network():
    model = MLP([3, 6, 2], "tanh", seed=25)
    X = rng(26).normal(size=(4, 3))
    Xt = t(X, True)
    G = rng(27).normal(size=(4, 2))
    (torch_copy(model)(Xt) * t(G)).sum().backward()
    model.forward(X)
    np.testing.assert_allclose(model.backward(G, need_input_grad=True), Xt.grad.numpy(), **TOL)


def test_fit_matches_a_torch_sgd_loop_step_for_step():
    """Two epochs of nnlib.fit equal the same mini-batches fed to torch.optim.SGD."""
    data = rng(28)
    X, y = data.normal(size=(50, 4)), data.integers(0, 3, size=50)
    model = MLP([4, 7, 3], "relu", seed=29)
    tmodel = torch_copy(model)
    history = fit(model, X, y, epochs=2, batch_size=8, lr=0.3, seed=30)

    opt = torch.optim.SGD(tmodel.parameters(), lr=0.3)
    order_rng = np.random.default_rng(30)          # fit's shuffling, reproduced
    losses = []
    for _ in range(2):
        order = order_rng.permutation(50)
        total = 0.0
        for start in range(0, 50, 8):
            idx = order[start:start + 8]
            opt.zero_grad()
            loss = F.cross_entropy(tmodel(t(X[idx])), torch.tensor(y[idx]))
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / 50)
    np.testing.assert_allclose(history.train_loss, losses, rtol=1e-10)
    for ours, module in zip(model.params[::2], [m for m in tmodel if isinstance(m, torch.nn.Linear)]):
        np.testing.assert_allclose(ours, module.weight.detach().numpy().T, rtol=1e-9, atol=1e-12)


def test_float32_network_agrees_with_torch_float32():
    model = MLP([8, 16, 4], "relu", seed=31, dtype=np.float32)
    X = rng(32).normal(size=(5, 8)).astype(np.float32)
    tmodel = torch_copy(model).float()
    ref = tmodel(torch.from_numpy(X)).detach().numpy()
    out = model.forward(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
