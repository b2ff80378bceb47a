"""Training speed of nnlib against scikit-learn and PyTorch on the same MLP (prints a table).

Every library trains the same network, a 784-128-10 multi-layer perceptron with ReLU (He
initialisation where the library lets us choose it), with plain mini-batch SGD (learning rate 0.1,
no momentum, no weight decay) for 10 epochs in float32 on 8,000 MNIST images, and is tested on
2,000 held-out images. Everything runs on one CPU thread (BLAS, OpenMP and PyTorch's intra-op
pool), so the figures compare the libraries, not the machine's core count.

The MNIST files are read from ``NNLIB_DATA_DIR`` (``t10k-images-idx3-ubyte.gz`` and
``t10k-labels-idx1-ubyte.gz``). Without them the script falls back to scikit-learn's 8x8 digits
(a 64-128-10 network on 1,347 training and 450 test images) and says so.

Usage::

    make bench                                   # or:
    NNLIB_DATA_DIR=/path/to/mnist .venv/bin/python benchmarks/bench_training.py [--repeats 3]

Each configuration is timed ``--repeats`` times (default 5, the libraries taking turns) and the
fastest run is reported (the least disturbed by other processes); ms/epoch is the wall-clock time of the whole training call
divided by the number of epochs. PyTorch is optional: its columns are left out when it is not
installed.
"""
import os

# One thread for every BLAS/OpenMP pool, set before numpy (or torch) is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

import nnlib  # noqa: E402
from nnbook import datasets  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # threadpoolctl ships with scikit-learn, but stay usable without it
    threadpool_limits = None

EPOCHS = 10
LR = 0.1
HIDDEN = 128
BATCH_SIZES = (32, 128)
SEED = 0


def load_data():
    """Return ``(X_train, X_test, y_train, y_test, description)`` in float32."""
    data_dir = os.environ.get("NNLIB_DATA_DIR")
    if data_dir:
        try:
            data = datasets.load_mnist(data_dir, split="test", download=False)
        except (FileNotFoundError, ValueError) as err:
            print(f"NNLIB_DATA_DIR is set but MNIST could not be read: {err}")
        else:
            X_tr, X_te, y_tr, y_te = train_test_split(
                data.X.astype(np.float32), data.y, train_size=8000, test_size=2000,
                stratify=data.y, random_state=SEED)
            return X_tr, X_te, y_tr, y_te, "MNIST t10k: 8,000 training / 2,000 test images, 28x28"
    X, y = datasets.load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X.astype(np.float32), y, test_size=0.25,
                                              stratify=y, random_state=SEED)
    return (X_tr, X_te, y_tr, y_te,
            "MNIST NOT FOUND (set NNLIB_DATA_DIR): using scikit-learn's 8x8 digits instead, "
            f"{len(y_tr)} training / {len(y_te)} test images")


def run_nnlib(X_tr, y_tr, X_te, y_te, batch_size):
    model = nnlib.MLP([X_tr.shape[1], HIDDEN, 10], "relu", init="he", seed=SEED, dtype=np.float32)
    start = time.perf_counter()
    nnlib.fit(model, X_tr, y_tr, epochs=EPOCHS, batch_size=batch_size, lr=LR, seed=SEED)
    elapsed = time.perf_counter() - start
    return elapsed, float(np.mean(model.predict(X_te) == y_te))


def run_sklearn(X_tr, y_tr, X_te, y_te, batch_size):
    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", solver="sgd",
                        learning_rate="constant", learning_rate_init=LR, momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, batch_size=batch_size,
                        max_iter=EPOCHS, shuffle=True, tol=0.0, n_iter_no_change=10 ** 6,
                        early_stopping=False, random_state=SEED)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is reached on purpose
        clf.fit(X_tr, y_tr)
    elapsed = time.perf_counter() - start
    return elapsed, float(np.mean(clf.predict(X_te) == y_te))


def run_torch(torch, X_tr, y_tr, X_te, y_te, batch_size):
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(X_tr.shape[1], HIDDEN), torch.nn.ReLU(),
                                torch.nn.Linear(HIDDEN, 10))
    with torch.no_grad():  # He initialisation and zero biases, as nnlib's MLP
        for layer in (model[0], model[2]):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            layer.bias.zero_()
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    X = torch.from_numpy(X_tr)
    y = torch.from_numpy(y_tr.astype(np.int64))
    n = X.shape[0]
    gen = torch.Generator().manual_seed(SEED)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        order = torch.randperm(n, generator=gen)
        Xs, ys = X[order], y[order]
        for i in range(0, n, batch_size):
            opt.zero_grad()
            loss = loss_fn(model(Xs[i:i + batch_size]), ys[i:i + batch_size])
            loss.backward()
            opt.step()
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        pred = model(torch.from_numpy(X_te)).argmax(dim=1).numpy()
    return elapsed, float(np.mean(pred == y_te))


def best_of_interleaved(repeats, runners):
    """Run every ``runners[name]()`` ``repeats`` times, round-robin, and keep each one's fastest run.

    Interleaving gives every library the same share of whatever else the machine is doing; the
    fastest run is the least disturbed one. Each run returns ``(seconds, test accuracy)``; runs are
    seeded, so their accuracies agree.
    """
    runs = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            runs[name].append(run())
    return {name: min(r, key=lambda x: x[0]) for name, r in runs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per configuration")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(1)
    limits = threadpool_limits(limits=1) if threadpool_limits is not None else None

    X_tr, X_te, y_tr, y_te, description = load_data()
    n = X_tr.shape[0]
    print(f"data: {description}")
    print(f"network {X_tr.shape[1]}-{HIDDEN}-10 ReLU, SGD lr {LR}, {EPOCHS} epochs, float32, "
          "1 thread; fastest of", args.repeats, "runs")
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'}, "
          f"python {platform.python_version()}, {platform.processor() or platform.machine()}")
    print()

    rows = []
    for batch_size in BATCH_SIZES:
        data = (X_tr, y_tr, X_te, y_te, batch_size)
        runners = {"nnlib": lambda: run_nnlib(*data),
                   "scikit-learn": lambda: run_sklearn(*data)}
        if torch is not None:
            runners["PyTorch"] = lambda: run_torch(torch, *data)
        rows.append((batch_size, best_of_interleaved(args.repeats, runners)))

    header = (f"{'batch':>5}  {'library':<12}  {'ms/epoch':>9}  {'samples/s':>10}  "
              f"{'test acc':>8}  {'speed-up of nnlib':>17}")
    print(header)
    print("-" * len(header))
    for batch_size, results in rows:
        nn_time = results["nnlib"][0]
        for name, (elapsed, acc) in results.items():
            ms = 1000 * elapsed / EPOCHS
            rate = n * EPOCHS / elapsed
            ratio = "" if name == "nnlib" else f"{elapsed / nn_time:.2f}x"
            print(f"{batch_size:>5}  {name:<12}  {ms:9.1f}  {rate:10,.0f}  {acc:8.3f}  {ratio:>17}")
    print()
    print("speed-up of nnlib = (time of the library) / (time of nnlib): above 1 means nnlib is faster.")
    if limits is not None:
        limits.restore_original_limits()


if __name__ == "__main__":
    main()
