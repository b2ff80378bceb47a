"""Datasets of the course-book, from the snack example (chapter 2) to MNIST (chapter 9).

Every chapter loads its data from here, so the same numbers appear in the text, the widgets and the
exercises. As in nnlib, a batch ``X`` is float64 of shape ``(n_samples, n_features)``, labels ``y``
are int64 class indices of shape ``(n_samples,)``."""
from __future__ import annotations

import gzip
import hashlib
import os
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from nnlib._checks import as_labels, choose, positive_number, whole_number

__all__ = ["DigitsData", "MNIST_FILES", "MNIST_MIRRORS", "SPORTS_WEIGHTS", "SnackExample",
           "load_digits", "load_mnist", "logic_gate", "make_2d", "snack_example", "sports_events",
           "train_val_test_split"]

# --- Chapters 1–3: logic gates, the snack example, the sports events ---------------------------
_GATES = {"AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "XOR": (0, 1, 1, 0), "NAND": (1, 1, 1, 0)}


def logic_gate(name):
    """Truth table of the gate ``name`` (chapters 2 and 3): ``X`` (4, 2) float64, ``y`` (4,) int64.

    ``name`` is ``"AND"``, ``"OR"``, ``"XOR"`` or ``"NAND"`` (any case), the rows of ``X`` are
    ``(0, 0), (0, 1), (1, 0), (1, 1)``. The perceptron of chapter 2 learns AND, OR and NAND; no
    perceptron learns XOR (chapter 3): no straight line splits its classes ``y = [0, 1, 1, 0]``.
    """
    key = choose(name, tuple(_GATES), "logic gate name")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(_GATES[key], dtype=np.int64)


class SnackExample(NamedTuple):
    """The snack example of chapter 2: arrays ``x``, ``w``, ``x_partner_away`` of shape (2,)."""
    x: np.ndarray
    w: np.ndarray
    b: float
    feature_names: tuple
    x_partner_away: np.ndarray
    outputs: tuple


def snack_example():
    """The worked example of chapter 2: is it worth getting up from the couch for snacks?

    A perceptron with output 0 (stay on the couch) or 1 (get snacks) weighs ``x[0]``, the effort
    of getting up (0 none … 5 huge; your partner sits next to you: 4), with −1 and ``x[1]``, your
    hunger (1: hungry), with 2; the bias 1 says you like snacks. ``4·(−1) + 1·2 + 1 = −1``: stay.
    With your partner away (``x_partner_away``) the effort drops to 1: ``2 > 0``, get snacks.
    Every call returns fresh arrays, so changing one result cannot change the next.
    """
    return SnackExample(x=np.array([4.0, 1.0]), w=np.array([-1.0, 2.0]), b=1.0,
                        feature_names=("effort of getting up (0-5)", "hunger (0 or 1)"),
                        x_partner_away=np.array([1.0, 1.0]),
                        outputs=("stay on the couch", "get snacks"))


SPORTS_WEIGHTS = (1.0, -4.0, -1.0)
"""The weights of chapter 1's sports-event example for (temperature, ticket price, travel time) in :func:`sports_events`."""

_SPORTS_EVENTS = (  # name, temperature [°C], price [€], travel time [h]
    ("Village football derby", 21.0, 0.0, 0.25),
    ("City marathon (watching)", 15.0, 0.0, 0.75),
    ("Beach volleyball tournament", 30.0, 5.0, 1.5),
    ("Indoor basketball game", 8.0, 8.0, 0.5),
    ("Winter ice-hockey match", 2.0, 12.0, 0.5),
    ("Cup final in the capital", 18.0, 45.0, 3.0),
)


def sports_events():
    """Should you attend a sports event? Chapter 1's decision: ``X`` (6, 3), names, feature names.

    One row ``(temperature [10 °C], ticket price [10 €], travel time [h])`` per event, scaled to
    numbers of similar size (21 °C → 2.1). Weighed with ``SPORTS_WEIGHTS = (1, −4, −1)``, warmth
    speaks for going, price and travel against it: at threshold 0, ``X @ SPORTS_WEIGHTS`` says go
    to the football derby (1.85) and the marathon (0.75) only.
    """
    names = [event[0] for event in _SPORTS_EVENTS]
    X = np.array([event[1:] for event in _SPORTS_EVENTS]) / np.array([10.0, 10.0, 1.0])
    return X, names, ["temperature [10 °C]", "ticket price [10 €]", "travel time [h]"]


# --- Chapters 3, 8 and 9: two-dimensional toy problems, the small digits -----------------------
_TOY_NAMES = ("xor", "circles", "moons", "blobs", "spirals")


def make_2d(name, n_samples=200, noise=0.1, seed=0):
    """A two-dimensional, two-class toy problem for decision-boundary plots (chapter 8).

    From easiest to hardest: ``"blobs"``, Gaussian clouds around (−1, −1) and (1, 1); ``"xor"``,
    chapter 3's XOR in the quadrants of [−1, 1]² (class 1 where exactly one coordinate is > 0);
    ``"moons"``, two interleaving half circles; ``"circles"``, a small circle (class 1) inside a
    large one; ``"spirals"``, two arms of 1.5 turns. ``n_samples`` (≥ 2) points, ``n_samples // 2``
    of class 1, Gaussian ``noise`` (a standard deviation ≥ 0) on each coordinate; the same ``seed``
    gives the same points. Returns ``X`` (n_samples, 2) float64 in random order and ``y`` int64.
    """
    from sklearn import datasets as skd
    key = choose(name, _TOY_NAMES, "toy problem name")
    n_samples = whole_number(n_samples, "n_samples", minimum=2)
    noise = float(positive_number(noise, "noise", allow_zero=True))
    seed = whole_number(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    if key == "circles":
        X, y = skd.make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)
    elif key == "moons":
        X, y = skd.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    elif key == "blobs":
        X, y = skd.make_blobs(n_samples=n_samples, centers=[(-1.0, -1.0), (1.0, 1.0)],
                              cluster_std=0.4, random_state=seed)
        X = X + rng.normal(0.0, noise, size=X.shape)
    else:
        y = (np.arange(n_samples) >= n_samples - n_samples // 2).astype(np.int64)
        if key == "xor":  # class 0: both signs equal (quadrants I, III); class 1: signs differ
            magnitude = rng.uniform(0.1, 1.0, size=(n_samples, 2))
            sign_x = rng.choice([-1.0, 1.0], size=n_samples)
            X = magnitude * np.c_[sign_x, np.where(y == 0, sign_x, -sign_x)]
        else:  # spirals: sqrt spreads the points evenly along an arm; arm 2 is arm 1 turned 180°
            t = np.sqrt(rng.uniform(0.0, 1.0, size=n_samples))
            angle = 3.0 * np.pi * t + np.pi * y
            X = (0.05 + 0.95 * t)[:, None] * np.c_[np.cos(angle), np.sin(angle)]
        X = X + rng.normal(0.0, noise, size=X.shape)
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    return np.ascontiguousarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def load_digits():
    """scikit-learn's bundled 8×8 handwritten digits, pixels scaled to [0, 1] (chapters 3, 8, 9).

    Returns ``X`` (1797, 64) float64, one flattened image per row (pixel values 0–16 divided by
    16), and ``y`` (1797,) int64. It works offline; chapter 9 falls back to it without MNIST.
    """
    from sklearn import datasets as skd
    bunch = skd.load_digits()
    return np.asarray(bunch.data, dtype=np.float64) / 16.0, np.asarray(bunch.target, np.int64)


# --- Chapter 9: MNIST (local folders, a verified cache, bounded downloads, a fallback) ---------
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",  # tried in this order
                 "https://storage.googleapis.com/cvdf-datasets/mnist/")

MNIST_FILES = {  # name: (MD5 of the published .gz, MD5 of the uncompressed content, count)
    "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873",
                                   "6bbc9ace898e44ae57da46a324031adb", 60_000),
    "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432",
                                   "a25bea736e30d166cdddb491f175f624", 60_000),
    "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3",
                                  "2646ac647ad5339dbf082846283269ea", 10_000),
    "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c",
                                  "27ae3e4e09519cfbb04c329615203637", 10_000),
}

DOWNLOAD_TIMEOUT = 5.0  # seconds a mirror may stay silent (to connect, or between two reads)
DOWNLOAD_DEADLINE = 300.0  # seconds for the whole download of one file, however it trickles
MAX_DOWNLOAD_BYTES = 32 * 2**20  # a bigger download is aborted (the largest MNIST file: 9.9 MB)


@dataclass(frozen=True)
class DigitsData:
    """Digit images from :func:`load_mnist` (chapter 9): ``X`` (n, h·w) float64 in [0, 1], ``y``
    (n,) int64, ``image_shape`` (28, 28) for MNIST or (8, 8) for the fallback, ``source`` (e.g.
    ``"MNIST (t10k, 10,000 images)"``) and ``note``: what was loaded, from where, or why not."""
    X: np.ndarray
    y: np.ndarray
    image_shape: tuple
    source: str
    note: str

    @property
    def images(self):
        """The images as an array of shape ``(n, h, w)`` (a view of ``X``)."""
        return self.X.reshape((-1, *self.image_shape))

    @property
    def is_mnist(self):
        """True for the real 28×28 MNIST digits, False for the 8×8 fallback."""
        return tuple(self.image_shape) == (28, 28)


def _read_idx(path):
    """The checked uint8 values, shape (n, 28, 28) or (n,), of the MNIST file ``path``: a uint32
    magic number (2051 images, 2049 labels), a uint32 per dimension, a byte per pixel or label.
    Only the expected size plus one byte is decompressed, so a gzip bomb costs no memory."""
    _, md5, count = MNIST_FILES[path.name]
    dims, kind = ((count, 28, 28), "images") if "images" in path.name else ((count,), "labels")
    offset = 4 + 4 * len(dims)
    size = offset + int(np.prod(dims))
    try:
        with gzip.open(path) as fh:
            raw = fh.read(size + 1)
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise ValueError(f"{path}: corrupt or truncated gzip data ({err})") from None
    header = tuple(np.frombuffer(raw[:offset], ">u4").tolist()) if len(raw) >= offset else ()
    if header != (2048 + len(dims), *dims):
        raise ValueError(f"{path}: header {header} is not that of MNIST {kind} of shape {dims}")
    if len(raw) != size:
        raise ValueError(f"{path}: decompresses to {'more' if len(raw) > size else 'less'} than "
                         f"the {size:,} bytes of {kind}")
    if (digest := hashlib.md5(raw).hexdigest()) != md5:
        raise ValueError(f"{path}: not the official content (MD5 {digest}, expected {md5})")
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(dims)


def _bounded_download(url, output_file, pooch_obj=None):
    """A pooch downloader: stream ``url`` into ``output_file`` within the time and size limits
    (``read1`` returns what has arrived, so a mirror sending one byte at a time is cut off too)."""
    import requests
    deadline = time.monotonic() + DOWNLOAD_DEADLINE
    with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT) as response, \
            open(output_file, "wb") as out:
        response.raise_for_status()
        while chunk := response.raw.read1(1 << 16, decode_content=False):
            if out.tell() + len(chunk) > MAX_DOWNLOAD_BYTES:
                raise ValueError(f"more than {MAX_DOWNLOAD_BYTES:,} bytes: not an MNIST file")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not complete after {DOWNLOAD_DEADLINE:g} s")
            out.write(chunk)


def _mnist_file(name, folders, cache, download):
    """Values and folder of the MNIST file ``name``, from ``folders``, the cache or a download.

    A copy that fails the checks is skipped with a warning (and deleted from the cache, lest it
    fail every later load); pooch moves a download into the cache only if its MD5 is right.
    """
    problems, sources = [], list(dict.fromkeys([*folders, cache]))
    for folder in sources:
        if (folder / name).is_file():
            try:
                return _read_idx(folder / name), folder
            except ValueError as err:
                problems.append(str(err))
                if folder == cache:
                    (folder / name).unlink(missing_ok=True)
                warnings.warn(f"MNIST: {err}; {'deleted' if folder == cache else 'ignored'} it",
                              RuntimeWarning, stacklevel=3)
    if not download:
        problems.append("not downloaded because download=False")
    else:
        import pooch
        import urllib3
        registry = {file: "md5:" + sums[0] for file, sums in MNIST_FILES.items()}
        for mirror in MNIST_MIRRORS:
            store = pooch.create(path=cache, base_url=mirror, registry=registry)
            try:
                return _read_idx(Path(store.fetch(name, downloader=_bounded_download))), cache
            except (OSError, ValueError, urllib3.exceptions.HTTPError) as err:
                (cache / name).unlink(missing_ok=True)  # only a verified copy may stay
                problems.append(f"could not download {store.get_url(name)}: {err}")
    raise FileNotFoundError(f"no valid {name} in {', '.join(map(str, sources))} "
                            f"({'; '.join(problems)})")


def load_mnist(data_dir=None, *, split="test", download=True, fallback=False, cache_dir=None):
    """Load the MNIST handwritten digits (chapter 9) as :class:`DigitsData`.

    Each file (``t10k-images-idx3-ubyte.gz`` etc.) is looked for in ``data_dir``, in the folder
    named by the environment variable ``NNLIB_DATA_DIR``, in the cache (``cache_dir``, by default
    ``nnlib/mnist`` in ``pooch.os_cache``, ``~/.cache`` on Linux) and, if ``download``, fetched
    from ``MNIST_MIRRORS``. Every copy is checked (IDX header, count, MD5 of the content; a
    download also the MD5 of the published ``.gz``); a bad one is skipped with a warning, and
    deleted if it is in the cache. ``split``: ``"test"`` (10,000 t10k images), ``"train"`` (60,000,
    chapter 9's training and validation images) or ``"all"`` (both; without the training files
    only the test images, as ``note`` says). Returns ``X`` (n, 784) float64 in [0, 1], ``y`` (n,)
    int64, ``image_shape`` (28, 28). Without MNIST it raises FileNotFoundError, or with
    ``fallback=True`` warns and returns :func:`load_digits` with a ``note`` saying why.
    """
    split = choose(split, ("test", "train", "all"), "split")
    for flag_name, flag in (("download", download), ("fallback", fallback)):
        if not isinstance(flag, bool):
            raise TypeError(f"{flag_name} must be True or False, got {flag!r}")
    for arg_name, arg in (("data_dir", data_dir), ("cache_dir", cache_dir)):
        if arg is not None and not isinstance(arg, (str, os.PathLike)):
            raise TypeError(f"{arg_name} must be a folder (str or os.PathLike) or None, "
                            f"got {type(arg).__name__}")
    if cache_dir is None:
        import pooch
        cache_dir = pooch.os_cache("nnlib") / "mnist"
    cache = Path(cache_dir).expanduser()
    folders = [Path(f).expanduser() for f in (data_dir, os.environ.get("NNLIB_DATA_DIR")) if f]
    images, labels, where, note = [], [], [], ""
    for part in {"test": ["t10k"], "train": ["train"], "all": ["train", "t10k"]}[split]:
        try:
            imgs, folder = _mnist_file(f"{part}-images-idx3-ubyte.gz", folders, cache, download)
            labels.append(_mnist_file(f"{part}-labels-idx1-ubyte.gz", folders, cache, download)[0])
        except FileNotFoundError as err:
            if split == "all" and part == "train":  # "all" still works with the test set alone
                note = f" Only the 10,000 test images: the training files are missing ({err})."
                continue
            advice = ("Point the environment variable NNLIB_DATA_DIR (or data_dir) at a folder "
                      "holding the files, or allow download=True with internet access")
            if not fallback:
                raise FileNotFoundError(f"MNIST: {err}. {advice}, or pass fallback=True to use "
                                        "scikit-learn's 8x8 digits instead") from None
            X, y = load_digits()
            note = (f"MNIST could not be loaded ({err}); using scikit-learn's 8x8 digits instead "
                    f"({len(y):,} images of 8x8 pixels). {advice}, to get the 28x28 digits.")
            warnings.warn(note, RuntimeWarning, stacklevel=2)
            return DigitsData(X, y, (8, 8), source="scikit-learn 8x8 digits", note=note)
        images.append(imgs.reshape(-1, 28 * 28))
        where.append(f"{part} from {folder}")
    X = np.concatenate(images).astype(np.float64) / 255.0
    y = np.concatenate(labels).astype(np.int64)
    parts = " + ".join(w.split()[0] for w in where)
    return DigitsData(X, y, (28, 28), source=f"MNIST ({parts}, {len(y):,} images)",
                      note=f"Loaded {len(y):,} MNIST images of 28x28 pixels ({'; '.join(where)})."
                      + note)


# --- Chapters 8 and 9: splitting a dataset ----------------------------------------------------

def _count(size, part, n):
    """One entry of ``sizes`` as a number of samples: an int count or a fraction in (0, 1)."""
    if not isinstance(size, float):
        return whole_number(size, f"sizes: the {part} count", minimum=0)
    if not 0.0 < size < 1.0:
        raise ValueError(f"sizes: the {part} fraction must lie strictly between 0 and 1, got "
                         f"{size} (use an int for a number of samples)")
    return int(round(size * n))


def train_val_test_split(X, y, sizes=(0.7, 0.15, 0.15), seed=0, stratify=True):
    """Split ``X`` (n, ...) and ``y`` (n,) into training, validation and test sets (chapters 8, 9).

    ``sizes`` is ``(train, val, test)``, each an int (a number of samples) or a float in (0, 1)
    (a fraction of n); ``train=None`` means "all the rest", ``val=0`` no validation set (chapter
    9's fallback: ``(None, 0, 0.2)``). The split is random but reproducible (same ``seed``, same
    split) and, with ``stratify``, keeps the class proportions of ``y`` in every part: scikit-learn's
    ``train_test_split`` sets the test set aside, then splits the rest. Returns
    ``(X_train, y_train), (X_val, y_val), (X_test, y_test)``.
    """
    from sklearn.model_selection import train_test_split
    X = np.asarray(X)
    y = as_labels(y, "y", n_samples=len(X))
    if not isinstance(sizes, (tuple, list)) or len(sizes) != 3:
        raise TypeError(f"sizes must be a tuple (train, val, test), got {sizes!r}")
    seed = whole_number(seed, "seed", minimum=0)
    if not isinstance(stratify, bool):
        raise TypeError(f"stratify must be True or False, got {stratify!r}")

    n = X.shape[0]
    n_test, n_val = _count(sizes[2], "test", n), _count(sizes[1], "val", n)
    n_train = n - n_test - n_val if sizes[0] is None else _count(sizes[0], "train", n)
    if all(isinstance(s, float) for s in sizes) and sum(sizes) <= 1 + 1e-9:
        n_train = min(n_train, n - n_test - n_val)  # fractions adding up to 1: rounding slack
    if n_test < 1 or n_train < 1:
        raise ValueError(f"sizes {tuple(sizes)} give {n_train} training and {n_test} test "
                         f"samples out of {n}; both need at least one")
    if n_train + n_val + n_test > n:
        raise ValueError(f"sizes {tuple(sizes)} ask for {n_train} + {n_val} + {n_test} = "
                         f"{n_train + n_val + n_test} samples, but X has only {n}")

    def split(X_, y_, first, second):  # sklearn says what is wrong; we say how to fix it
        try:
            return train_test_split(X_, y_, train_size=first, test_size=second,
                                    random_state=seed, stratify=y_ if stratify else None)
        except ValueError as err:
            raise ValueError(f"cannot split {len(y_)} samples into {first} and {second} with "
                             f"stratify=True ({err}); use larger parts or stratify=False") from err

    X_rest, X_test, y_rest, y_test = split(X, y, n_train + n_val, n_test)
    if n_val == 0:
        return (X_rest, y_rest), (X[:0], y[:0]), (X_test, y_test)
    X_train, X_val, y_train, y_val = split(X_rest, y_rest, n_train, n_val)
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)
