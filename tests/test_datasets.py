"""Tests of nnbook.datasets: toy data, the handout examples, the IDX parser and the MNIST loader.

No test uses the internet: downloads go to a local HTTP server on 127.0.0.1 started by the test,
and every other call to load_mnist passes download=False or points the mirrors at that server.
The real MNIST test set is parsed only when NNLIB_DATA_DIR names a folder that holds it.
"""

import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from nnbook import datasets
from nnbook.datasets import (
    DigitsData,
    load_digits,
    load_mnist,
    logic_gate,
    make_2d,
    read_idx,
    snack_example,
    sports_events,
    train_val_test_split,
)

T10K_IMAGES = "t10k-images-idx3-ubyte.gz"
T10K_LABELS = "t10k-labels-idx1-ubyte.gz"
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"


# ----------------------------------------------------------------------------------------------
# Helpers: writing IDX files, a local HTTP server
# ----------------------------------------------------------------------------------------------

_TYPE_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def idx_bytes(array):
    """The IDX encoding of ``array`` (big-endian header and payload)."""
    array = np.asarray(array)
    code = _TYPE_CODES[array.dtype.kind + str(array.dtype.itemsize)]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress):
    data = idx_bytes(array)
    Path(path).write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return Path(path)


def fake_mnist(n, seed):
    """Small MNIST-like images (n, 28, 28) uint8 and labels (n,) uint8 covering 0..9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0] = 0
    images[1] = 255
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_fake_part(folder, part, n, seed):
    """Write gzip-compressed fake images and labels of ``part`` ("t10k" or "train")."""
    images, labels = fake_mnist(n, seed)
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"{part}-images-idx3-ubyte.gz", images, compress=True)
    write_idx(folder / f"{part}-labels-idx1-ubyte.gz", labels, compress=True)
    return images, labels


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; ``server.mode`` "truncate" sends half the body then hangs up."""

    def do_GET(self):
        name = self.path.split("/mnist/", 1)[-1]  # e.g. "t10k-labels-idx1-ubyte.gz"
        body = self.server.files.get(name)
        self.server.requests.append(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.mode == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        else:
            self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def mnist_server():
    """A local HTTP server on 127.0.0.1 serving whatever the test puts into ``server.files``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files, server.requests, server.mode = {}, [], "ok"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/mnist/"
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No NNLIB_DATA_DIR, a private XDG cache, and mirrors that refuse connections (no internet)."""
    monkeypatch.delenv("NNLIB_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with socket.socket() as sock:  # a port on which nobody listens: connection refused
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (f"http://127.0.0.1:{closed_port}/",))
    monkeypatch.setattr(datasets, "DOWNLOAD_TIMEOUT", 5.0)
    return tmp_path


def serve_fake_t10k(server, monkeypatch, n=30, seed=1):
    """Put fake t10k .gz files on ``server``, point the mirrors and checksums at them."""
    images, labels = fake_mnist(n, seed)
    bodies = {
        T10K_IMAGES: gzip.compress(idx_bytes(images), mtime=0),
        T10K_LABELS: gzip.compress(idx_bytes(labels), mtime=0),
    }
    server.files.update(bodies)
    checksums = dict(datasets.MNIST_FILES)
    checksums.update({name: hashlib.md5(body).hexdigest() for name, body in bodies.items()})
    monkeypatch.setattr(datasets, "MNIST_FILES", checksums)
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (server.url,))
    return images, labels


# ----------------------------------------------------------------------------------------------
# Logic gates, the snack example, the sports events
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("AND", [0, 0, 0, 1]),
    ("OR", [0, 1, 1, 1]),
    ("XOR", [0, 1, 1, 0]),
    ("NAND", [1, 1, 1, 0]),
])
def test_logic_gate_truth_tables(name, expected):
    X, y = logic_gate(name)
    assert X.shape == (4, 2) and X.dtype == np.float64
    assert y.shape == (4,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, expected)
    # the table agrees with Python's own boolean operators
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    ops = {"AND": a & b, "OR": a | b, "XOR": a ^ b, "NAND": ~(a & b)}
    np.testing.assert_array_equal(y, ops[name].astype(int))


def test_logic_gate_is_case_insensitive_and_rejects_unknown_names():
    np.testing.assert_array_equal(logic_gate("xor")[1], logic_gate("XOR")[1])
    np.testing.assert_array_equal(logic_gate("Nand")[1], [1, 1, 1, 0])
    with pytest.raises(ValueError, match="AND.*OR.*XOR.*NAND"):
        logic_gate("NOR")
    with pytest.raises(TypeError, match="name"):
        logic_gate(3)


def test_snack_example_matches_the_handout():
    s = snack_example()
    assert s.x.shape == (2,) and s.w.shape == (2,) and s.x_partner_away.shape == (2,)
    assert len(s.feature_names) == 2 and len(s.outputs) == 2
    # 4·(−1) + 1·2 + 1 = −1 → output 0 (stay on the couch)
    np.testing.assert_array_equal(s.x, [4, 1])
    np.testing.assert_array_equal(s.w, [-1, 2])
    assert s.b == 1
    assert float(s.w @ s.x + s.b) == -1.0
    assert s.outputs[0] == "stay on the couch"
    # partner away: only the effort changes, and the decision flips
    changed = np.flatnonzero(s.x != s.x_partner_away)
    assert changed.tolist() == [0]
    assert float(s.w @ s.x_partner_away + s.b) > 0


def test_snack_example_is_frozen():
    s = snack_example()
    with pytest.raises(AttributeError):
        s.b = 5.0
    with pytest.raises(ValueError):
        s.x[0] = 0.0
    assert snack_example().x[0] == 4.0


def test_sports_events_shapes_units_and_decisions():
    X, names, feature_names = sports_events()
    assert 5 <= X.shape[0] <= 6 and X.shape[1] == 3 and X.dtype == np.float64
    assert len(names) == X.shape[0] and len(set(names)) == len(names)
    assert len(feature_names) == 3
    assert "temperature" in feature_names[0] and "price" in feature_names[1]
    assert "travel" in feature_names[2]
    np.testing.assert_array_equal(datasets.SPORTS_WEIGHTS, (1, -4, -1))
    assert (X >= 0).all() and X[:, 0].max() < 5  # scaled units: temperature in 10 °C
    scores = X @ np.array(datasets.SPORTS_WEIGHTS)
    # the examples show both decisions at threshold 0, and no score sits on the threshold
    assert (scores > 0).any() and (scores < 0).any()
    assert not np.isclose(scores, 0).any()


# ----------------------------------------------------------------------------------------------
# Two-dimensional toy sets, the 8×8 digits
# ----------------------------------------------------------------------------------------------

TOY_NAMES = ["xor", "circles", "moons", "blobs", "spirals"]


@pytest.mark.parametrize("name", TOY_NAMES)
def test_make_2d_shapes_dtypes_and_determinism(name):
    X, y = make_2d(name, n_samples=101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert abs(int((y == 1).sum()) - int((y == 0).sum())) <= 1
    assert np.isfinite(X).all()
    X2, y2 = make_2d(name, n_samples=101, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_2d(name, n_samples=101, noise=0.1, seed=4)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("name", TOY_NAMES)
def test_make_2d_noise_moves_points(name):
    X0, y0 = make_2d(name, n_samples=50, noise=0.0, seed=0)
    X1, y1 = make_2d(name, n_samples=50, noise=0.3, seed=0)
    assert not np.allclose(X0, X1)
    assert X0.shape == X1.shape


def test_make_2d_clean_shapes_have_their_geometry():
    X, y = make_2d("xor", n_samples=400, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    X, y = make_2d("circles", n_samples=400, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.5)
    X, y = make_2d("spirals", n_samples=400, noise=0.0)
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12
    X, y = make_2d("blobs", n_samples=400, noise=0.0)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-1, -1], atol=0.1)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [1, 1], atol=0.1)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"name": "squares"}, ValueError, "xor"),
    ({"name": 7}, TypeError, "name"),
    ({"name": "xor", "n_samples": 0}, ValueError, "n_samples"),
    ({"name": "xor", "n_samples": 10.5}, TypeError, "n_samples"),
    ({"name": "xor", "n_samples": True}, TypeError, "n_samples"),
    ({"name": "xor", "noise": -0.1}, ValueError, "noise"),
    ({"name": "xor", "noise": float("nan")}, ValueError, "noise"),
    ({"name": "xor", "noise": float("inf")}, ValueError, "noise"),
    ({"name": "xor", "noise": "lots"}, TypeError, "noise"),
    ({"name": "xor", "seed": -1}, ValueError, "seed"),
])
def test_make_2d_validates_its_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_2d(**kwargs)


def test_load_digits_is_scaled_to_unit_interval():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    np.testing.assert_allclose(X * 16, np.round(X * 16))  # the raw values were integers 0..16


# ----------------------------------------------------------------------------------------------
# The IDX parser
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips_images_and_labels(tmp_path, compress):
    images, labels = fake_mnist(12, seed=0)
    suffix = ".gz" if compress else ""
    img_path = write_idx(tmp_path / f"images{suffix}", images, compress)
    lbl_path = write_idx(tmp_path / f"labels{suffix}", labels, compress)
    got_images, got_labels = read_idx(img_path), read_idx(str(lbl_path))
    assert got_images.dtype == np.uint8 and got_images.shape == (12, 28, 28)
    assert got_labels.dtype == np.uint8 and got_labels.shape == (12,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize("dtype", [">i2", ">i4", ">f4", ">f8", "i1"])
def test_read_idx_other_dtypes_come_back_in_native_order(tmp_path, dtype):
    values = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    path = write_idx(tmp_path / "values.idx", values, compress=False)
    got = read_idx(path)
    assert got.dtype.isnative and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, values)


def test_read_idx_recognises_gzip_by_content_not_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = write_idx(tmp_path / "labels.idx", labels, compress=True)  # no .gz suffix
    np.testing.assert_array_equal(read_idx(path), labels)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_rejects_truncated_files(tmp_path, compress):
    images, _ = fake_mnist(5, seed=0)
    full = tmp_path / "full"
    write_idx(full, images, compress)
    cut = tmp_path / "truncated-images.idx"
    cut.write_bytes(full.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated-images.idx"):
        read_idx(cut)


def test_read_idx_rejects_bad_headers(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    good = idx_bytes(labels)
    cases = {
        "bad-magic": b"\x01\x02" + good[2:],
        "bad-type": good[:2] + b"\x07" + good[3:],
        "trailing": good + b"\x00",
        "short-header": good[:6],
        "tiny": b"\x00\x00",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ValueError, match=name):
            read_idx(path)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")
    with pytest.raises(TypeError, match="path"):
        read_idx(42)


# ----------------------------------------------------------------------------------------------
# load_mnist: local folders, the real files, downloads, fallback
# ----------------------------------------------------------------------------------------------

def test_load_mnist_reads_a_folder_with_only_the_test_set(isolated):
    images, labels = write_fake_part(isolated / "data", "t10k", n=20, seed=0)
    data = load_mnist(isolated / "data", download=False)
    assert isinstance(data, DigitsData)
    assert data.X.shape == (20, 784) and data.X.dtype == np.float64
    assert data.y.dtype == np.int64 and data.image_shape == (28, 28)
    np.testing.assert_allclose(data.X, images.reshape(20, -1) / 255.0)
    np.testing.assert_array_equal(data.y, labels)
    assert data.X.min() == 0.0 and data.X.max() == 1.0
    assert data.source == "MNIST (t10k, 20 images)"
    assert "t10k" in data.note and len(data) == 20 and data.is_mnist
    np.testing.assert_array_equal(data.images[3], images[3] / 255.0)
    # "all" with only the test set present gives the test set, and says so
    every = load_mnist(isolated / "data", split="all", download=False)
    np.testing.assert_array_equal(every.X, data.X)
    assert "only the 10,000 test images" in every.note
    # "train" is not there
    with pytest.raises(FileNotFoundError, match="train"):
        load_mnist(isolated / "data", split="train", download=False)


def test_load_mnist_splits_train_and_test(isolated):
    folder = isolated / "data"
    train_images, train_labels = write_fake_part(folder, "train", n=30, seed=1)
    test_images, test_labels = write_fake_part(folder, "t10k", n=20, seed=2)
    train = load_mnist(folder, split="train", download=False)
    test = load_mnist(folder, split="test", download=False)
    every = load_mnist(folder, split="all", download=False)
    assert train.X.shape == (30, 784) and test.X.shape == (20, 784)
    assert every.X.shape == (50, 784) and every.source == "MNIST (train + t10k, 50 images)"
    np.testing.assert_array_equal(every.y, np.r_[train_labels, test_labels])
    np.testing.assert_allclose(every.X[:30], train_images.reshape(30, -1) / 255.0)
    np.testing.assert_allclose(every.X[30:], test_images.reshape(20, -1) / 255.0)


def test_load_mnist_search_order(isolated, monkeypatch):
    write_fake_part(isolated / "explicit", "t10k", n=11, seed=0)
    write_fake_part(isolated / "env", "t10k", n=12, seed=0)
    write_fake_part(isolated / "cache", "t10k", n=13, seed=0)
    monkeypatch.setenv("NNLIB_DATA_DIR", str(isolated / "env"))
    kwargs = {"download": False, "cache_dir": isolated / "cache"}
    assert len(load_mnist(isolated / "explicit", **kwargs)) == 11
    assert len(load_mnist(isolated / "nowhere", **kwargs)) == 12  # explicit folder lacks files
    assert len(load_mnist(**kwargs)) == 12
    monkeypatch.delenv("NNLIB_DATA_DIR")
    assert len(load_mnist(**kwargs)) == 13
    # the default cache is $XDG_CACHE_HOME/nnlib/mnist
    write_fake_part(isolated / "xdg" / "nnlib" / "mnist", "t10k", n=14, seed=0)
    assert len(load_mnist(download=False)) == 14


def test_load_mnist_rejects_inconsistent_files(isolated):
    folder = isolated / "data"
    images, labels = fake_mnist(10, seed=0)
    folder.mkdir()
    write_idx(folder / T10K_IMAGES, images, compress=True)
    write_idx(folder / T10K_LABELS, labels[:7], compress=True)
    with pytest.raises(ValueError, match="labels"):
        load_mnist(folder, download=False)
    with pytest.warns(RuntimeWarning, match="8x8"):
        data = load_mnist(folder, download=False, fallback=True)
    assert data.image_shape == (8, 8)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"split": "validation"}, ValueError, "split"),
    ({"download": "yes"}, TypeError, "download"),
    ({"fallback": 1}, TypeError, "fallback"),
    ({"data_dir": 5}, TypeError, "data_dir"),
    ({"cache_dir": 5}, TypeError, "cache_dir"),
])
def test_load_mnist_validates_its_arguments(isolated, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_mnist(**kwargs)


def _real_mnist_dir():
    folder = os.environ.get("NNLIB_DATA_DIR")
    if not folder:
        return None
    folder = Path(folder)
    if (folder / T10K_IMAGES).is_file() and (folder / T10K_LABELS).is_file():
        return folder
    return None


@pytest.mark.skipif(_real_mnist_dir() is None,
                    reason="set NNLIB_DATA_DIR to a folder with the MNIST t10k files")
def test_load_mnist_parses_the_real_test_set():
    data = load_mnist(download=False, split="test")
    assert data.X.shape == (10000, 784) and data.X.dtype == np.float64
    assert data.y.shape == (10000,) and data.y.dtype == np.int64
    assert data.image_shape == (28, 28) and data.source == "MNIST (t10k, 10,000 images)"
    assert data.X.min() == 0.0 and data.X.max() == 1.0
    counts = np.bincount(data.y, minlength=10)
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert data.y[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first test digits
    # the real files carry the checksums the downloader expects
    for name in (T10K_IMAGES, T10K_LABELS):
        assert datasets._md5(_real_mnist_dir() / name) == datasets.MNIST_FILES[name]


def test_download_into_cache_and_load(isolated, mnist_server, monkeypatch):
    images, labels = serve_fake_t10k(mnist_server, monkeypatch, n=30)
    cache = isolated / "cache"
    data = load_mnist(cache_dir=cache)
    assert sorted(os.listdir(cache)) == [T10K_IMAGES, T10K_LABELS]
    assert sorted(mnist_server.requests) == [T10K_IMAGES, T10K_LABELS]
    np.testing.assert_array_equal(data.y, labels)
    np.testing.assert_allclose(data.X, images.reshape(30, -1) / 255.0)
    assert str(cache) in data.note
    # a second call uses the cache and does not download again
    mnist_server.requests.clear()
    again = load_mnist(cache_dir=cache)
    np.testing.assert_array_equal(again.X, data.X)
    assert mnist_server.requests == []


def test_download_goes_to_the_default_cache(isolated, mnist_server, monkeypatch):
    serve_fake_t10k(mnist_server, monkeypatch, n=10)
    data = load_mnist()
    assert len(data) == 10
    default = isolated / "xdg" / "nnlib" / "mnist"
    assert sorted(os.listdir(default)) == [T10K_IMAGES, T10K_LABELS]


def test_download_tries_the_next_mirror(isolated, mnist_server, monkeypatch):
    serve_fake_t10k(mnist_server, monkeypatch, n=10)
    monkeypatch.setattr(datasets, "MNIST_MIRRORS",
                        (mnist_server.url + "missing/", datasets.MNIST_MIRRORS[0]))
    data = load_mnist(cache_dir=isolated / "cache")
    assert len(data) == 10
    assert mnist_server.requests.count("missing/" + T10K_IMAGES) == 1


def test_download_rejects_a_checksum_mismatch_and_leaves_nothing(isolated, mnist_server,
                                                                 monkeypatch):
    serve_fake_t10k(mnist_server, monkeypatch, n=10)
    monkeypatch.setattr(datasets, "MNIST_FILES", {name: "0" * 32 for name in datasets.MNIST_FILES})
    cache = isolated / "cache"
    with pytest.raises(FileNotFoundError, match="checksum"):
        load_mnist(cache_dir=cache)
    assert mnist_server.requests  # it did try
    assert list(cache.iterdir()) == []  # neither a final nor a temporary file


def test_download_of_a_truncated_body_leaves_nothing(isolated, mnist_server, monkeypatch):
    serve_fake_t10k(mnist_server, monkeypatch, n=200)
    mnist_server.mode = "truncate"
    cache = isolated / "cache"
    with pytest.raises(FileNotFoundError, match="could not download"):
        load_mnist(cache_dir=cache)
    assert mnist_server.requests
    assert list(cache.iterdir()) == []


def test_download_false_never_touches_the_network(isolated, mnist_server, monkeypatch):
    serve_fake_t10k(mnist_server, monkeypatch, n=10)
    with pytest.raises(FileNotFoundError, match="NNLIB_DATA_DIR"):
        load_mnist(cache_dir=isolated / "cache", download=False)
    assert mnist_server.requests == []


def test_fallback_to_the_small_digits_when_mnist_is_unavailable(isolated):
    # the isolated mirrors refuse connections: the download fails without any internet access
    with pytest.warns(RuntimeWarning, match="fall|instead"):
        data = load_mnist(cache_dir=isolated / "cache", fallback=True)
    assert data.image_shape == (8, 8) and data.source == "scikit-learn 8x8 digits"
    assert data.X.shape == (1797, 64) and data.y.dtype == np.int64
    assert 0.0 <= data.X.min() and data.X.max() <= 1.0
    assert "could not be loaded" in data.note and "8x8 digits instead" in data.note
    assert "could not download" in data.note
    assert data.images.shape == (1797, 8, 8) and not data.is_mnist


def test_no_fallback_gives_a_clear_error(isolated):
    with pytest.raises(FileNotFoundError, match="NNLIB_DATA_DIR") as info:
        load_mnist(cache_dir=isolated / "cache", fallback=False)
    message = str(info.value)
    assert "could not download" in message and "fallback=True" in message
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_mnist(cache_dir=isolated / "cache", download=False)


# ----------------------------------------------------------------------------------------------
# train_val_test_split
# ----------------------------------------------------------------------------------------------

def test_split_with_counts_is_stratified_disjoint_and_deterministic():
    X, y = load_digits()
    X = X[:1000]
    y = y[:1000]
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, sizes=(700, 100, 200), seed=1)
    assert Xtr.shape == (700, 64) and Xva.shape == (100, 64) and Xte.shape == (200, 64)
    assert ytr.shape == (700,) and yva.shape == (100,) and yte.shape == (200,)
    # disjoint and complete: every row appears exactly once
    rows = np.concatenate([Xtr, Xva, Xte])
    assert np.unique(rows, axis=0).shape[0] == np.unique(X, axis=0).shape[0]
    np.testing.assert_array_equal(np.sort(np.r_[ytr, yva, yte]), np.sort(y))
    # stratified: class proportions agree within one sample per part
    full = np.bincount(y, minlength=10) / len(y)
    for part in (ytr, yva, yte):
        assert np.abs(np.bincount(part, minlength=10) - full * len(part)).max() <= 1.0
    again = train_val_test_split(X, y, sizes=(700, 100, 200), seed=1)
    np.testing.assert_array_equal(again[0][0], Xtr)
    np.testing.assert_array_equal(again[2][1], yte)
    other = train_val_test_split(X, y, sizes=(700, 100, 200), seed=2)
    assert not np.array_equal(other[0][1], ytr)


def test_split_with_fractions_rest_and_no_validation():
    X, y = make_2d("moons", n_samples=200)
    (Xtr, _), (Xva, _), (Xte, _) = train_val_test_split(X, y, sizes=(0.6, 0.2, 0.2))
    assert (len(Xtr), len(Xva), len(Xte)) == (120, 40, 40)
    (Xtr, _), (Xva, yva), (Xte, _) = train_val_test_split(X, y, sizes=(None, 0, 50))
    assert (len(Xtr), len(Xva), len(Xte)) == (150, 0, 50)
    assert Xva.shape == (0, 2) and yva.shape == (0,)
    # chapter 9: 8,000 training and 2,000 test images out of 10,000
    X = np.zeros((10000, 3), dtype=np.float32)
    y = np.arange(10000) % 10
    (Xtr, ytr), _, (Xte, yte) = train_val_test_split(X, y, sizes=(8000, 0, 2000))
    assert Xtr.shape == (8000, 3) and Xte.shape == (2000, 3) and Xtr.dtype == np.float32
    assert np.bincount(yte).tolist() == [200] * 10


@pytest.mark.parametrize("X, y, kwargs, error, match", [
    (np.zeros((10, 2)), np.zeros(9, dtype=int), {}, ValueError, "same number of samples"),
    (np.zeros((10, 2)), np.zeros((10, 1), dtype=int), {}, ValueError, "y must be a 1-D"),
    (np.zeros((10, 2)), np.zeros(10, dtype=int), {"sizes": (5, 5)}, TypeError, "sizes"),
    (np.zeros((10, 2)), np.zeros(10, dtype=int), {"sizes": (6, 3, 3)}, ValueError, "only 10"),
    (np.zeros((10, 2)), np.zeros(10, dtype=int), {"sizes": (0.5, 0.2, 1.5)}, ValueError, "test"),
    (np.zeros((10, 2)), np.zeros(10, dtype=int), {"sizes": (5, -1, 2)}, ValueError, "val"),
    (np.zeros((10, 2)), np.zeros(10, dtype=int), {"sizes": (5, "2", 2)}, TypeError, "val"),
    (np.zeros((10, 2)), np.zeros(10, dtype=int), {"sizes": (5, 2, 0)}, ValueError, "test"),
    (np.zeros((10, 2)), np.zeros(10, dtype=int), {"seed": 1.5}, TypeError, "seed"),
    (np.zeros((10, 2)), np.arange(10), {"sizes": (5, 2, 3)}, ValueError, "stratify=False"),
])
def test_split_validates_its_arguments(X, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        train_val_test_split(X, y, **kwargs)


def test_split_without_stratification_accepts_singleton_classes():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10)
    (Xtr, _), (Xva, _), (Xte, _) = train_val_test_split(X, y, sizes=(5, 2, 3), stratify=False)
    assert (len(Xtr), len(Xva), len(Xte)) == (5, 2, 3)


def test_default_fractions_split_all_of_the_digits():
    """Fractions that add up to 1 use every sample even when each count is rounded up."""
    X, y = datasets.load_digits()
    (Xtr, _), (Xva, _), (Xte, _) = datasets.train_val_test_split(X, y)
    assert len(Xtr) + len(Xva) + len(Xte) == len(X) == 1797
    assert (len(Xva), len(Xte)) == (270, 270)
