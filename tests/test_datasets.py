"""Tests of nnbook.datasets. No test uses the internet: downloads come from a local HTTP server,
and other MNIST tests point the mirrors at a closed port. The fake MNIST files are small (20 test,
30 training images), described in a patched ``MNIST_FILES``; the real files are read only when
NNLIB_DATA_DIR names a folder holding them."""
import gzip
import hashlib
import http.server
import os
import socket
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from nnbook import datasets
from nnbook.datasets import (DigitsData, load_digits, load_mnist, logic_gate, make_2d,
                             snack_example, sports_events, train_val_test_split)

T10K_IMAGES, T10K_LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
SIZES = {"t10k": 20, "train": 30}


def idx(array):
    """The uncompressed IDX encoding of a uint8 array (magic number 2051 or 2049, then shape)."""
    return np.array([2048 + array.ndim, *array.shape], dtype=">u4").tobytes() + array.tobytes()


def fake_part(part, n=None, seed=None):
    """Fake uint8 images (n, 28, 28) and labels (n,) cycling 0..9 of ``part`` (t10k or train)."""
    n = SIZES[part] if n is None else n
    rng = np.random.default_rng({"t10k": 0, "train": 1}[part] if seed is None else seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0], images[1] = 0, 255
    return images, (np.arange(n) % 10).astype(np.uint8)


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def write_part(folder, part, **kwargs):
    images, labels = fake_part(part, **kwargs)
    write(folder, {f"{part}-images-idx3-ubyte.gz": gzip.compress(idx(images), mtime=0),
                   f"{part}-labels-idx1-ubyte.gz": gzip.compress(idx(labels), mtime=0)})
    return images, labels


def md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Fake MNIST in MNIST_FILES, no NNLIB_DATA_DIR, a private cache, mirrors nobody answers."""
    monkeypatch.delenv("NNLIB_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (f"http://127.0.0.1:{port}/",))
    bodies, registry = {}, {}
    for part in SIZES:
        for kind, array in zip(("images-idx3", "labels-idx1"), fake_part(part)):
            name = f"{part}-{kind}-ubyte.gz"
            bodies[name] = gzip.compress(idx(array), mtime=0)
            registry[name] = (md5(bodies[name]), md5(idx(array)), SIZES[part])
    monkeypatch.setattr(datasets, "MNIST_FILES", registry)
    return bodies


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; mode "truncate" sends half a body, "drip" a byte per 50 ms."""

    def do_GET(self):
        body = self.server.files.get(self.path.split("/mnist/", 1)[-1])
        self.server.requests.append(self.path.split("/mnist/", 1)[-1])
        if body is None:
            return self.send_error(404)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.mode != "drip":
            half = self.server.mode == "truncate"
            return self.wfile.write(body[: len(body) // 2] if half else body)
        try:  # 100 bytes in 5 s, then it hangs up: a loader without a deadline fails quickly
            for i in range(100):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client hung up, as it should
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server(fake, monkeypatch):
    """A local HTTP server serving the fake MNIST files; the mirrors point at it."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.requests, httpd.mode = dict(fake), [], "ok"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/mnist/"
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (httpd.url,))
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


# --- Logic gates, the snack example, the sports events ----------------------------------------

def test_logic_gates_agree_with_python_and_name_the_options():
    for name in ("and", "Or", "XOR", "NAND"):
        X, y = logic_gate(name)
        assert X.dtype == np.float64 and y.dtype == np.int64 and y.shape == (4,)
        np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
        a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
        expected = {"AND": a & b, "OR": a | b, "XOR": a ^ b, "NAND": ~(a & b)}[name.upper()]
        np.testing.assert_array_equal(y, expected)
    for bad in ("NOR", 3):
        with pytest.raises(ValueError, match=r"logic gate name .*'AND', 'OR', 'XOR', 'NAND'"):
            logic_gate(bad)


def test_snack_example_matches_the_handout_and_is_fresh_each_time():
    s = snack_example()
    np.testing.assert_array_equal(s.x, [4, 1])
    np.testing.assert_array_equal(s.w, [-1, 2])
    assert s.b == 1.0 and len(s.feature_names) == 2 and s.outputs[0] == "stay on the couch"
    assert float(s.w @ s.x + s.b) == -1.0  # 4·(−1) + 1·2 + 1: stay on the couch
    assert np.flatnonzero(s.x != s.x_partner_away).tolist() == [0]  # only the effort changes
    assert float(s.w @ s.x_partner_away + s.b) > 0
    with pytest.raises(AttributeError):
        s.b = 5.0
    s.x[0] = 0.0
    assert snack_example().x[0] == 4.0


def test_sports_events_shapes_units_and_decisions():
    X, names, feature_names = sports_events()
    assert X.shape == (6, 3) and X.dtype == np.float64 and len(set(names)) == 6
    assert "temperature" in feature_names[0] and "price" in feature_names[1]
    assert (X >= 0).all() and X[:, 0].max() < 5  # scaled units: temperature in 10 °C
    scores = X @ np.array(datasets.SPORTS_WEIGHTS)
    assert (scores > 0).sum() == 2 and not np.isclose(scores, 0).any()


# --- Two-dimensional toy sets -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["xor", "circles", "moons", "blobs", "spirals"])
def test_make_2d_shapes_determinism_and_noise(name):
    X, y = make_2d(name, n_samples=101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() in ([51, 50], [50, 51]) and np.isfinite(X).all()
    X2, y2 = make_2d(name, n_samples=101, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make_2d(name, n_samples=101, noise=0.1, seed=4)[0])
    assert not np.allclose(make_2d(name, 50, noise=0.0)[0], make_2d(name, 50, noise=0.3)[0])


def test_make_2d_clean_shapes_have_their_geometry():
    X, y = make_2d("xor", n_samples=400, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    X, y = make_2d("circles", n_samples=400, noise=0.0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.5)
    assert np.hypot(*make_2d("spirals", n_samples=400, noise=0.0)[0].T).max() <= 1.0 + 1e-12
    X, y = make_2d("blobs", n_samples=400, noise=0.0)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-1, -1], atol=0.1)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"name": "squares"}, ValueError, r"toy problem name 'squares'.*'xor', 'circles'"),
    ({"name": 7}, ValueError, "toy problem name"),
    ({"n_samples": 1}, ValueError, "n_samples must be at least 2"),
    ({"n_samples": 10.5}, TypeError, "n_samples must be a whole number"),
    ({"noise": -0.1}, ValueError, "noise must be >= 0"),
    ({"noise": "lots"}, TypeError, "noise must be a number"),
    ({"seed": -1}, ValueError, "seed must be at least 0"),
])
def test_make_2d_validates_its_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_2d(**{"name": "xor", **kwargs})


# --- load_mnist: local folders, the cache, downloads, bad files, fallback ---------------------

def test_load_mnist_reads_a_folder_test_train_and_all(fake, tmp_path):
    images, labels = write_part(tmp_path / "data", "t10k")
    data = load_mnist(tmp_path / "data", download=False)
    assert isinstance(data, DigitsData) and data.is_mnist and data.image_shape == (28, 28)
    assert data.X.shape == (20, 784) and data.X.dtype == np.float64 and data.y.dtype == np.int64
    np.testing.assert_array_equal(data.X, images.reshape(20, -1) / 255.0)
    np.testing.assert_array_equal(data.y, labels)
    np.testing.assert_array_equal(data.images[3], images[3] / 255.0)
    assert data.source == "MNIST (t10k, 20 images)" and str(tmp_path / "data") in data.note
    every = load_mnist(tmp_path / "data", split="all", download=False)  # test set alone, said so
    np.testing.assert_array_equal(every.X, data.X)
    assert "Only the 10,000 test images" in every.note and "train-images" in every.note
    with pytest.raises(FileNotFoundError, match="train-images.*download=False"):
        load_mnist(tmp_path / "data", split="TRAIN", download=False)
    train_images, train_labels = write_part(tmp_path / "data", "train")
    every = load_mnist(tmp_path / "data", split="all", download=False)
    assert every.X.shape == (50, 784) and every.source == "MNIST (train + t10k, 50 images)"
    np.testing.assert_array_equal(every.y, np.r_[train_labels, labels])
    np.testing.assert_array_equal(every.X[:30], train_images.reshape(30, -1) / 255.0)


def test_load_mnist_search_order(fake, tmp_path, monkeypatch):
    for folder in ("explicit", "env", "cache", "xdg/nnlib/mnist"):
        write_part(tmp_path / folder, "t10k")
    monkeypatch.setenv("NNLIB_DATA_DIR", str(tmp_path / "env"))
    def source(*args, **kwargs):
        return load_mnist(*args, download=False, **kwargs).note.split(" from ")[1][:-2]
    cache = tmp_path / "cache"
    assert source(tmp_path / "explicit", cache_dir=cache) == str(tmp_path / "explicit")
    assert source(tmp_path / "nowhere", cache_dir=cache) == str(tmp_path / "env")
    monkeypatch.delenv("NNLIB_DATA_DIR")
    assert source(cache_dir=cache) == str(cache)
    assert source() == str(tmp_path / "xdg" / "nnlib" / "mnist")  # the default cache


@pytest.mark.parametrize("kwargs, error, match", [
    ({"split": "validation"}, ValueError, r"unknown split 'validation'; choose one of"),
    ({"download": "yes"}, TypeError, "download must be True or False"),
    ({"fallback": 1}, TypeError, "fallback must be True or False"),
    ({"data_dir": 5}, TypeError, "data_dir must be a folder"),
    ({"cache_dir": 5}, TypeError, "cache_dir must be a folder"),
])
def test_load_mnist_validates_its_arguments(fake, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_mnist(**kwargs)


def test_a_corrupt_file_in_the_cache_is_deleted_and_downloaded_again(server, tmp_path):
    cache = tmp_path / "cache"
    write(cache, {T10K_IMAGES: server.files[T10K_IMAGES][:-50]})  # truncated
    with pytest.warns(RuntimeWarning, match="truncated.*deleted it"), \
            pytest.raises(FileNotFoundError, match="corrupt or truncated"):
        load_mnist(cache_dir=cache, download=False)
    assert not (cache / T10K_IMAGES).exists()  # so it cannot make every later load fail
    write(cache, {T10K_IMAGES: gzip.compress(idx(fake_part("t10k", seed=9)[0]))})  # wrong pixels
    with pytest.warns(RuntimeWarning, match="not the official content.*deleted it"):
        data = load_mnist(cache_dir=cache)
    assert server.requests == [T10K_IMAGES, T10K_LABELS]
    np.testing.assert_array_equal(data.X, fake_part("t10k")[0].reshape(20, -1) / 255.0)
    assert (cache / T10K_IMAGES).read_bytes() == server.files[T10K_IMAGES]


def test_a_corrupt_file_in_nnlib_data_dir_does_not_shadow_a_good_cache(fake, tmp_path,
                                                                        monkeypatch):
    images, _ = write_part(tmp_path / "cache", "t10k")
    write_part(tmp_path / "env", "t10k", seed=9)  # valid IDX files, but not the right pixels
    monkeypatch.setenv("NNLIB_DATA_DIR", str(tmp_path / "env"))
    with pytest.warns(RuntimeWarning, match=f"{tmp_path / 'env' / T10K_IMAGES}.*ignored it"):
        data = load_mnist(cache_dir=tmp_path / "cache", download=False)
    np.testing.assert_array_equal(data.X, images.reshape(20, -1) / 255.0)
    assert f"t10k from {tmp_path / 'cache'}" in data.note
    assert (tmp_path / "env" / T10K_IMAGES).exists()  # the user's folder is never changed


def test_a_small_gzip_that_inflates_hugely_is_rejected_without_reading_it(fake, tmp_path):
    header = gzip.compress(np.array([2051, 20, 28, 28], dtype=">u4").tobytes())
    write(tmp_path / "data", {T10K_IMAGES: header + gzip.compress(bytes(2**20)) * 256})
    assert (tmp_path / "data" / T10K_IMAGES).stat().st_size < 2**20  # 256 MiB inside
    tracemalloc.start()
    try:
        with pytest.warns(RuntimeWarning, match="decompresses to more than the 15,696 bytes"), \
                pytest.raises(FileNotFoundError, match="no valid t10k-images"):
            load_mnist(tmp_path / "data", download=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def test_a_valid_file_with_the_wrong_number_of_images_is_rejected(fake, tmp_path):
    write_part(tmp_path / "data", "t10k", n=19)  # consistent images and labels, one too few
    with pytest.warns(RuntimeWarning, match=r"\(2051, 19, 28, 28\) is not that of MNIST images"), \
            pytest.raises(FileNotFoundError, match=r"shape \(20, 28, 28\)"):
        load_mnist(tmp_path / "data", download=False)


def test_a_mirror_trickling_one_byte_at_a_time_meets_the_deadline(server, tmp_path, monkeypatch):
    server.mode = "drip"  # every byte comes well within DOWNLOAD_TIMEOUT
    monkeypatch.setattr(datasets, "DOWNLOAD_DEADLINE", 0.5)
    start = time.monotonic()
    with pytest.raises(FileNotFoundError, match="not complete after 0.5 s"):
        load_mnist(cache_dir=tmp_path / "cache")
    assert time.monotonic() - start < 3
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("mode, patch, match", [
    ("ok", {"MAX_DOWNLOAD_BYTES": 1000}, "more than 1,000 bytes"),
    ("truncate", {}, "could not download"),
    ("ok", {"MNIST_FILES": {T10K_IMAGES: ("0" * 32, "0" * 32, 20)}}, "does not match the known"),
])
def test_a_failed_download_leaves_nothing_in_the_cache(server, tmp_path, monkeypatch, mode,
                                                       patch, match):
    server.mode = mode
    for name, value in patch.items():
        monkeypatch.setattr(datasets, name, value)
    with pytest.raises(FileNotFoundError, match=match):
        load_mnist(cache_dir=tmp_path / "cache")
    assert server.requests and list((tmp_path / "cache").iterdir()) == []


def test_download_into_the_default_cache_from_the_first_mirror_that_works(server, tmp_path,
                                                                           monkeypatch):
    with pytest.raises(FileNotFoundError, match="not downloaded because download=False"):
        load_mnist(download=False)
    assert server.requests == []
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (server.url + "missing/", server.url))
    data = load_mnist()
    cache = tmp_path / "xdg" / "nnlib" / "mnist"
    assert sorted(os.listdir(cache)) == [T10K_IMAGES, T10K_LABELS] and str(cache) in data.note
    assert server.requests == ["missing/" + T10K_IMAGES, T10K_IMAGES,
                               "missing/" + T10K_LABELS, T10K_LABELS]
    np.testing.assert_array_equal(data.y, fake_part("t10k")[1])
    server.requests.clear()
    np.testing.assert_array_equal(load_mnist().X, data.X)
    assert server.requests == []  # the second call uses the cache


def test_without_mnist_a_clear_error_or_the_small_digits_with_a_note(fake, tmp_path):
    with pytest.raises(FileNotFoundError, match="NNLIB_DATA_DIR") as info:
        load_mnist(cache_dir=tmp_path / "cache")
    assert "could not download" in str(info.value) and "fallback=True" in str(info.value)
    with pytest.warns(RuntimeWarning, match="8x8 digits instead"):
        data = load_mnist(cache_dir=tmp_path / "cache", fallback=True)
    assert data.image_shape == (8, 8) and data.source == "scikit-learn 8x8 digits"
    assert data.images.shape == (1797, 8, 8) and not data.is_mnist
    assert "could not be loaded" in data.note and "could not download" in data.note
    X, y = load_digits()  # the 8×8 digits: pixels 0..16 scaled to [0, 1], labels 0..9
    np.testing.assert_array_equal(data.X, X)
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0 and np.unique(y).tolist() == list(range(10))
    np.testing.assert_allclose(X * 16, np.round(X * 16))


REAL = Path(os.environ.get("NNLIB_DATA_DIR", "/nonexistent"))


@pytest.mark.skipif(not (REAL / T10K_IMAGES).is_file(), reason="NNLIB_DATA_DIR has no MNIST")
def test_the_real_mnist_files_pass_the_checks():
    data = load_mnist(download=False)
    assert data.X.shape == (10000, 784) and data.source == "MNIST (t10k, 10,000 images)"
    assert data.X.min() == 0.0 and data.X.max() == 1.0
    assert np.bincount(data.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert data.y[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first test digits
    for name in (T10K_IMAGES, T10K_LABELS):  # the official downloads carry the published MD5s
        assert md5((REAL / name).read_bytes()) == datasets.MNIST_FILES[name][0]
    if (REAL / "train-labels-idx1-ubyte.gz").is_file():  # re-compressed: the content is checked
        labels = datasets._read_idx(REAL / "train-labels-idx1-ubyte.gz")
        assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                                5851, 5949]
        assert datasets._read_idx(REAL / "train-images-idx3-ubyte.gz").shape == (60000, 28, 28)


# --- train_val_test_split ---------------------------------------------------------------------

def test_split_with_counts_is_stratified_disjoint_and_deterministic():
    X, y = load_digits()
    X, y = X[:1000], y[:1000]
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, sizes=(700, 100, 200), seed=1)
    assert Xtr.shape == (700, 64) and Xva.shape == (100, 64) and Xte.shape == (200, 64)
    rows = np.concatenate([Xtr, Xva, Xte])  # disjoint and complete: every row exactly once
    assert np.unique(rows, axis=0).shape[0] == np.unique(X, axis=0).shape[0]
    np.testing.assert_array_equal(np.sort(np.r_[ytr, yva, yte]), np.sort(y))
    full = np.bincount(y, minlength=10) / len(y)
    for part in (ytr, yva, yte):  # stratified: class proportions within one sample per part
        assert np.abs(np.bincount(part, minlength=10) - full * len(part)).max() <= 1.0
    again = train_val_test_split(X, y, sizes=(700, 100, 200), seed=1)
    np.testing.assert_array_equal(again[0][0], Xtr)
    np.testing.assert_array_equal(again[2][1], yte)
    assert not np.array_equal(train_val_test_split(X, y, (700, 100, 200), seed=2)[0][1], ytr)


def test_split_with_fractions_rest_and_no_validation():
    X, y = make_2d("moons", n_samples=200)
    assert [len(p[0]) for p in train_val_test_split(X, y, sizes=(0.6, 0.2, 0.2))] == [120, 40, 40]
    (Xtr, _), (Xva, yva), (Xte, _) = train_val_test_split(X, y, sizes=(None, 0, 50))
    assert (len(Xtr), len(Xte)) == (150, 50) and Xva.shape == (0, 2) and yva.shape == (0,)
    X = np.zeros((10000, 3), dtype=np.float32)  # chapter 9: 7,000 / 1,000 / 2,000 of 10,000
    parts = train_val_test_split(X, np.arange(10000) % 10, sizes=(None, 0.1, 0.2))
    assert [len(p[1]) for p in parts] == [7000, 1000, 2000] and parts[0][0].dtype == np.float32
    assert np.bincount(parts[2][1]).tolist() == [200] * 10
    X, y = load_digits()  # fractions that add up to 1 use every sample despite rounding
    assert [len(p[1]) for p in train_val_test_split(X, y)] == [1257, 270, 270]
    parts = train_val_test_split(X[:10], np.arange(10), (5, 2, 3), stratify=False)  # singletons
    np.testing.assert_array_equal(np.sort(np.concatenate([p[1] for p in parts])), np.arange(10))


@pytest.mark.parametrize("y, kwargs, error, match", [
    (np.zeros(9, dtype=int), {}, ValueError, "y has 9 labels but X has 10 samples"),
    (np.zeros((10, 1), dtype=int), {}, ValueError, "y must be 1-D"),
    (np.zeros(10, dtype=int), {"sizes": (5, 5)}, TypeError, "sizes must be a tuple"),
    (np.zeros(10, dtype=int), {"sizes": (6, 3, 3)}, ValueError, "X has only 10"),
    (np.zeros(10, dtype=int), {"sizes": (0.5, 0.2, 1.5)}, ValueError, "test fraction must lie"),
    (np.zeros(10, dtype=int), {"sizes": (5, -1, 2)}, ValueError, "val count must be at least 0"),
    (np.zeros(10, dtype=int), {"sizes": (5, "2", 2)}, TypeError, "val count must be a whole"),
    (np.zeros(10, dtype=int), {"sizes": (5, 2, 0)}, ValueError, "0 test samples"),
    (np.zeros(10, dtype=int), {"seed": 1.5}, TypeError, "seed must be a whole number"),
    (np.zeros(10, dtype=int), {"stratify": "yes"}, TypeError, "stratify must be True or False"),
    (np.arange(10), {"sizes": (5, 2, 3)}, ValueError, "stratify=False"),
])
def test_split_validates_its_arguments(y, kwargs, error, match):
    with pytest.raises(error, match=match):
        train_val_test_split(np.zeros((10, 2)), y, **kwargs)
