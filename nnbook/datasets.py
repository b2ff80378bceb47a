"""Datasets of the course-book, from the two-input snack example to MNIST.

Every chapter loads its data from here, so the same numbers appear in the text, the widgets and the
exercises:

* chapter 1 (the neuron): :func:`snack_example`, :func:`sports_events`;
* chapters 2–3 (the perceptron, XOR): :func:`logic_gate`, :func:`make_2d` (``"xor"``);
* chapters 4–8 (MLPs, activations, losses, backprop, SGD): :func:`make_2d`, :func:`load_digits`;
* chapter 9 (MNIST): :func:`read_idx`, :func:`load_mnist`, :func:`train_val_test_split`.

Conventions (as everywhere in nnlib): a batch ``X`` has shape ``(n_samples, n_features)`` and is
float64; labels ``y`` are integer class indices of shape ``(n_samples,)`` and dtype int64.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import numbers
import os
import tempfile
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DigitsData",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "SPORTS_WEIGHTS",
    "SnackExample",
    "load_digits",
    "load_mnist",
    "logic_gate",
    "make_2d",
    "read_idx",
    "snack_example",
    "sports_events",
    "train_val_test_split",
]


# ----------------------------------------------------------------------------------------------
# Small helpers for input validation
# ----------------------------------------------------------------------------------------------

def _check_int(value, name, minimum=None):
    """Return ``value`` as a Python int, or raise a TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return value


def _frozen(array):
    """Return a read-only float64 copy of ``array`` (used by the frozen example dataclasses)."""
    out = np.array(array, dtype=np.float64)
    out.setflags(write=False)
    return out


# ----------------------------------------------------------------------------------------------
# Chapters 1–3: logic gates, the snack example, the sports event
# ----------------------------------------------------------------------------------------------

_GATES = {
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "XOR": (0, 1, 1, 0),
    "NAND": (1, 1, 1, 0),
}


def _pick(name, options, kind: str, normalise):
    """Normalise ``name`` (e.g. upper-case it) and check it is one of ``options``."""
    if not isinstance(name, str):
        example = normalise(next(iter(options)))
        raise TypeError(f"name must be a string such as {example!r}, got {type(name).__name__}.")
    key = normalise(name.strip())
    if key not in options:
        valid = ", ".join(repr(o) for o in options)
        raise ValueError(f"Unknown {kind} {name!r}; name must be one of {valid}.")
    return key


def logic_gate(name):
    """Truth table of a two-input logic gate (chapters 2 and 3).

    The perceptron of chapter 2 learns AND, OR and NAND; chapter 3 shows that no single perceptron
    can learn XOR, because its two classes cannot be split by one straight line.

    Parameters
    ----------
    name : str
        ``"AND"``, ``"OR"``, ``"XOR"`` or ``"NAND"`` (case-insensitive).

    Returns
    -------
    X : ndarray of shape (4, 2), float64
        The inputs, rows ``(0, 0), (0, 1), (1, 0), (1, 1)``.
    y : ndarray of shape (4,), int64
        The gate's output for each row.

    Examples
    --------
    >>> X, y = logic_gate("xor")
    >>> y.tolist()
    [0, 1, 1, 0]
    """
    key = _pick(name, _GATES, "logic gate", str.upper)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array(_GATES[key], dtype=np.int64)
    return X, y


@dataclass(frozen=True)
class SnackExample:
    """The snack example of chapter 1: should you get up from the couch for snacks?

    Attributes
    ----------
    x : ndarray of shape (2,)
        Inputs of the first scenario (your partner sits on the couch): ``(effort, hunger)``.
    w : ndarray of shape (2,)
        The weights ``(-1, 2)``: effort speaks against getting up, hunger for it.
    b : float
        The bias ``1``: you like snacks anyway.
    feature_names : tuple of str
        What ``x[0]`` and ``x[1]`` measure.
    x_partner_away : ndarray of shape (2,)
        Inputs of the second scenario: your partner is not on the couch, so getting up is easy.
    outputs : tuple of str
        What the outputs 0 and 1 mean.
    """

    x: np.ndarray
    w: np.ndarray
    b: float
    feature_names: tuple
    x_partner_away: np.ndarray
    outputs: tuple


def snack_example():
    """The worked snack example of the lecture (chapter 1, the neuron as a function).

    You just sat down on the couch to watch your favourite show: is it worth getting up again for
    snacks? Two inputs feed a perceptron with output 0 (stay on the couch) or 1 (get snacks):

    * ``x[0]``, the effort of getting up, on a scale from 0 (none) to 5 (huge). Your partner sits
      on the couch next to you, so you would have to climb over them: effort 4. Weight ``-1``.
    * ``x[1]``, your hunger: 1 (hungry) or 0 (not hungry). You are hungry: 1. Weight ``2``.
    * bias ``b = 1``: you like snacks.

    First scenario: ``4·(−1) + 1·2 + 1 = −1 ≤ 0`` → output 0, stay on the couch.
    Second scenario (``x_partner_away``): your partner is not on the couch, so the effort drops to
    1 and ``1·(−1) + 1·2 + 1 = 2 > 0`` → output 1, get snacks.

    Returns
    -------
    SnackExample
        A frozen dataclass with read-only arrays ``x`` (2,), ``w`` (2,), ``x_partner_away`` (2,),
        the float ``b``, and the tuples ``feature_names`` and ``outputs``.

    Examples
    --------
    >>> s = snack_example()
    >>> float(s.w @ s.x + s.b), float(s.w @ s.x_partner_away + s.b)
    (-1.0, 2.0)
    """
    return SnackExample(
        x=_frozen([4.0, 1.0]),
        w=_frozen([-1.0, 2.0]),
        b=1.0,
        feature_names=("effort of getting up (0-5)", "hunger (0 or 1)"),
        x_partner_away=_frozen([1.0, 1.0]),
        outputs=("stay on the couch", "get snacks"),
    )


SPORTS_WEIGHTS = (1.0, -4.0, -1.0)
"""The handout's weights for (temperature, ticket price, travel time) in :func:`sports_events`."""

_SPORTS_EVENTS = (
    # name,                                temperature [°C], price [€], travel time [h]
    ("Village football derby", 21.0, 0.0, 0.25),
    ("City marathon (watching)", 15.0, 0.0, 0.75),
    ("Beach volleyball tournament", 30.0, 5.0, 1.5),
    ("Indoor basketball game", 8.0, 8.0, 0.5),
    ("Winter ice-hockey match", 2.0, 12.0, 0.5),
    ("Cup final in the capital", 18.0, 45.0, 3.0),
)


def sports_events():
    """Inputs of the sports-event decision of chapter 1 for six example events.

    Should you attend a sports event? The handout bases the decision on three inputs and weighs
    them with ``SPORTS_WEIGHTS = (1, −4, −1)``: warm weather speaks for going, a high ticket price
    and a long journey against it. The units are scaled so that the numbers are of similar size:

    * ``x1``, temperature in units of 10 °C (21 °C → 2.1);
    * ``x2``, ticket price in units of 10 € (5 € → 0.5);
    * ``x3``, travel time in hours.

    With a threshold of 0, the weighted sums ``X @ SPORTS_WEIGHTS`` say: go to the football derby
    (1.85) and the marathon (0.75), stay at home for the others.

    Returns
    -------
    X : ndarray of shape (6, 3), float64
        One row per event: ``(temperature, ticket price, travel time)`` in the units above.
    names : list of str
        The name of each event, in the order of the rows of ``X``.
    feature_names : list of str
        The name and unit of each column of ``X``.
    """
    names = [event[0] for event in _SPORTS_EVENTS]
    raw = np.array([event[1:] for event in _SPORTS_EVENTS], dtype=np.float64)
    X = raw / np.array([10.0, 10.0, 1.0])
    feature_names = ["temperature [10 °C]", "ticket price [10 €]", "travel time [h]"]
    return X, names, feature_names


# ----------------------------------------------------------------------------------------------
# Chapters 3–8: two-dimensional toy problems and the small digits
# ----------------------------------------------------------------------------------------------

_TOY_NAMES = ("xor", "circles", "moons", "blobs", "spirals")


def _make_xor(n_samples, rng):
    """Points in the four quadrants of [−1, 1]², label 1 where exactly one coordinate is > 0."""
    n1 = n_samples // 2
    y = np.r_[np.zeros(n_samples - n1, dtype=np.int64), np.ones(n1, dtype=np.int64)]
    # Keep a margin of 0.1 around the axes so that the clean problem has a visible gap.
    magnitude = rng.uniform(0.1, 1.0, size=(n_samples, 2))
    sign_x = rng.choice([-1.0, 1.0], size=n_samples)
    # Class 0: both signs equal (quadrants I, III); class 1: signs differ (quadrants II, IV).
    sign_y = np.where(y == 0, sign_x, -sign_x)
    X = magnitude * np.c_[sign_x, sign_y]
    return X, y


def _make_spirals(n_samples, rng):
    """Two interleaved spiral arms, 1.5 turns each, scaled into [−1, 1]²."""
    n1 = n_samples // 2
    y = np.r_[np.zeros(n_samples - n1, dtype=np.int64), np.ones(n1, dtype=np.int64)]
    t = np.sqrt(rng.uniform(0.0, 1.0, size=n_samples))  # sqrt: evenly spread along the arm
    radius = 0.05 + 0.95 * t
    angle = 3.0 * np.pi * t + np.pi * y  # the second arm is the first one rotated by 180°
    X = radius[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    return X, y


def make_2d(name, n_samples=200, noise=0.1, seed=0):
    """A two-dimensional, two-class toy problem for decision-boundary plots (chapters 3–8).

    The problems, from easiest to hardest:

    * ``"blobs"``: two Gaussian clouds around (−1, −1) and (1, 1), linearly separable;
    * ``"xor"``: the continuous XOR of chapter 3, points in the four quadrants of [−1, 1]²,
      class 1 where exactly one coordinate is positive;
    * ``"moons"``: two interleaving half circles;
    * ``"circles"``: a small circle (class 1) inside a large one (class 0);
    * ``"spirals"``: two interleaved spiral arms.

    ``blobs``, ``moons`` and ``circles`` come from scikit-learn's generators; ``xor`` and
    ``spirals`` are drawn with a seeded :class:`numpy.random.Generator`.

    Parameters
    ----------
    name : str
        One of ``"xor"``, ``"circles"``, ``"moons"``, ``"blobs"``, ``"spirals"`` (case-insensitive).
    n_samples : int, default 200
        Number of points, at least 2; the two classes get ``n_samples // 2`` points and the rest.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to every coordinate (0 gives the clean
        shapes; the data lie roughly within [−1.5, 1.5]² for small noise; for ``"moons"``
        within [−1, 2] × [−0.5, 1]).
    seed : int, default 0
        Seed of the random generator: the same seed always gives the same points.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        The points, in random order.
    y : ndarray of shape (n_samples,), int64
        The class of each point, 0 or 1.
    """
    from sklearn import datasets as skd

    key = _pick(name, _TOY_NAMES, "toy problem", str.lower)
    n_samples = _check_int(n_samples, "n_samples", minimum=2)
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a number (a standard deviation), got {noise!r}.")
    noise = float(noise)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0 (a standard deviation), got {noise}.")
    seed = _check_int(seed, "seed", minimum=0)

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
        X, y = _make_xor(n_samples, rng) if key == "xor" else _make_spirals(n_samples, rng)
        X = X + rng.normal(0.0, noise, size=X.shape)
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    return np.ascontiguousarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def load_digits():
    """scikit-learn's bundled 8×8 handwritten digits, scaled to [0, 1] (chapters 8–9).

    1,797 grey-scale images of the digits 0–9, 8×8 pixels each, flattened to 64 features. The
    pixel values 0–16 are divided by 16. This small set ships with scikit-learn, so it works
    offline; chapter 9 falls back to it when MNIST is not available.

    Returns
    -------
    X : ndarray of shape (1797, 64), float64
        One flattened image per row, values in [0, 1]; ``X[i].reshape(8, 8)`` is the image.
    y : ndarray of shape (1797,), int64
        The digit shown in each image, 0–9.
    """
    from sklearn import datasets as skd

    bunch = skd.load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    return X, y


# ----------------------------------------------------------------------------------------------
# Chapter 9: MNIST (IDX files, download with checksum, cache, offline fallback)
# ----------------------------------------------------------------------------------------------

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
"""Base URLs tried in order when downloading MNIST; each file is fetched as ``mirror + name``."""

MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
"""The four standard MNIST files and their MD5 checksums (the values torchvision uses)."""

DOWNLOAD_TIMEOUT = 5.0
"""Seconds to wait for a mirror to answer before trying the next one."""

_MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024  # the largest MNIST file is about 10 MB

# (images file, labels file, number of images) for each part of MNIST
_MNIST_PARTS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60_000),
    "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10_000),
}
_SPLITS = ("test", "train", "all")

# IDX type codes: https://yann.lecun.com/exdb/mnist/ ("THE IDX FILE FORMAT")
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Read an IDX file, the binary format of the MNIST files (chapter 9).

    An IDX file starts with a 4-byte magic number ``0x00 0x00 <type code> <number of dims>``,
    then one big-endian uint32 per dimension, then the values in C order. Files compressed with
    gzip (as distributed, ``*.gz``) are recognised by their content, not their name.

    Parameters
    ----------
    path : str or os.PathLike
        The file, plain or gzip-compressed.

    Returns
    -------
    ndarray
        The values with the shape stored in the file, in native byte order: MNIST images come
        back as uint8 of shape ``(n, 28, 28)``, labels as uint8 of shape ``(n,)``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a valid IDX file: wrong magic number, unknown type code, or a payload
        that is shorter or longer than the header says (a truncated or corrupt download).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}.")
    path = Path(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, ValueError) as err:  # BadGzipFile is an OSError
            raise ValueError(f"{path}: corrupt or truncated gzip data ({err}).") from err
    if len(raw) < 4:
        raise ValueError(f"{path}: too short to be an IDX file ({len(raw)} bytes).")
    zero0, zero1, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()}; "
                         "it must start with two zero bytes).")
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{type_code:02x} "
                         f"(valid: {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)}).")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions.")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} of {header_len} bytes).")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise ValueError(f"{path}: IDX payload {what}: header says shape {shape} "
                         f"({expected} bytes), file holds {actual} bytes.")
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


@dataclass(frozen=True)
class DigitsData:
    """Images of handwritten digits as returned by :func:`load_mnist` (chapter 9).

    Attributes
    ----------
    X : ndarray of shape (n_samples, h * w), float64
        One flattened grey-scale image per row, values in [0, 1].
    y : ndarray of shape (n_samples,), int64
        The digit shown in each image, 0–9.
    image_shape : tuple of int
        ``(28, 28)`` for MNIST, ``(8, 8)`` for the scikit-learn fallback digits.
    source : str
        Short name of what was loaded, e.g. ``"MNIST (t10k, 10,000 images)"``.
    note : str
        A sentence saying what was loaded, from where, and (on fallback) why MNIST was not.
    """

    X: np.ndarray
    y: np.ndarray
    image_shape: tuple
    source: str
    note: str

    @property
    def images(self):
        """The images as an array of shape ``(n_samples, h, w)`` (a view of ``X``)."""
        return self.X.reshape((-1, *self.image_shape))

    @property
    def is_mnist(self):
        """True when the real 28×28 MNIST digits were loaded, False for the 8×8 fallback."""
        return tuple(self.image_shape) == (28, 28)

    def __len__(self):
        return int(self.X.shape[0])


def _default_cache_dir():
    """``$XDG_CACHE_HOME/nnlib/mnist``, or ``~/.cache/nnlib/mnist`` when the variable is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnlib" / "mnist"


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download_file(filename, dest_dir):
    """Download one MNIST file into ``dest_dir``, verified and atomically; return its path.

    Each mirror of ``MNIST_MIRRORS`` is tried in turn. The body goes to a temporary file in
    ``dest_dir``; only when its length and MD5 checksum are right is it renamed to its final name
    (``os.replace``, atomic). On any failure the temporary file is deleted, so nothing
    half-written ever stays in the cache. Raises RuntimeError listing each mirror's failure.
    """
    expected_md5 = MNIST_FILES[filename]
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / filename
    failures = []
    for mirror in MNIST_MIRRORS:
        url = mirror.rstrip("/") + "/" + filename
        fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{filename}.", suffix=".part")
        try:
            digest = hashlib.md5()
            received = 0
            with os.fdopen(fd, "wb") as out, \
                    urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
                declared = response.headers.get("Content-Length")
                while chunk := response.read(1 << 16):
                    received += len(chunk)
                    if received > _MAX_DOWNLOAD_BYTES:
                        raise ValueError(f"more than {_MAX_DOWNLOAD_BYTES} bytes: not MNIST")
                    digest.update(chunk)
                    out.write(chunk)
            if declared is not None and received != int(declared):
                raise ValueError(f"incomplete body: {received} of {declared} bytes")
            if digest.hexdigest() != expected_md5:
                raise ValueError(f"MD5 checksum mismatch (got {digest.hexdigest()}, "
                                 f"expected {expected_md5})")
            os.replace(tmp_name, target)
            return target
        except (OSError, ValueError, http.client.HTTPException) as err:
            # URLError/HTTPError, timeouts and refused connections are OSErrors; a body cut short
            # is an http.client.IncompleteRead or our own ValueError: try the next mirror.
            failures.append(f"{url}: {err}")
        finally:
            if os.path.exists(tmp_name):
                os.remove(tmp_name)
    raise RuntimeError(f"could not download {filename}: " + "; ".join(failures))


def _find_part(part, folders):
    """Return the first folder in ``folders`` that holds both files of ``part``, or None."""
    images_name, labels_name, _ = _MNIST_PARTS[part]
    for folder in folders:
        if (folder / images_name).is_file() and (folder / labels_name).is_file():
            return folder
    return None


def _read_part(part, folder):
    """Read images and labels of one MNIST part from ``folder``; return (X, y)."""
    images_name, labels_name, _ = _MNIST_PARTS[part]
    images = read_idx(folder / images_name)
    labels = read_idx(folder / labels_name)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"{folder / images_name}: expected uint8 images of shape (n, 28, 28), "
                         f"got {images.dtype} {images.shape}.")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"{folder / labels_name}: expected {images.shape[0]} labels to match "
                         f"the images, got shape {labels.shape}.")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{folder / labels_name}: labels must be digits 0-9, "
                         f"found {int(labels.max())}.")
    X = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    return X, labels.astype(np.int64)


def _locate_or_download(part, folders, cache, download):
    """Folder holding ``part`` (downloading it into ``cache`` if allowed), plus a failure note."""
    folder = _find_part(part, folders)
    if folder is not None or not download:
        return folder, None
    try:
        for name in _MNIST_PARTS[part][:2]:
            if not (cache / name).is_file():
                _download_file(name, cache)
    except (OSError, RuntimeError) as err:
        return None, str(err)
    return cache, None


def _fallback(reason):
    """The 8×8 scikit-learn digits as DigitsData, with a note and a warning saying why."""
    X, y = load_digits()
    note = (f"MNIST could not be loaded ({reason}); using scikit-learn's 8x8 digits instead "
            f"({len(y):,} images of 8x8 pixels). Set NNLIB_DATA_DIR to a folder with the MNIST "
            "files, or allow download=True with internet access, to get the 28x28 MNIST digits.")
    warnings.warn(note, RuntimeWarning, stacklevel=3)
    return DigitsData(X=X, y=y, image_shape=(8, 8), source="scikit-learn 8x8 digits", note=note)


def load_mnist(data_dir=None, *, split="test", download=True, fallback=False, cache_dir=None):
    """Load the MNIST handwritten digits (chapter 9).

    The standard files (``t10k-images-idx3-ubyte.gz`` etc.) are looked for, in this order, in
    ``data_dir``, in the folder named by the environment variable ``NNLIB_DATA_DIR``, and in the
    user cache (``cache_dir``, by default ``$XDG_CACHE_HOME/nnlib/mnist`` or
    ``~/.cache/nnlib/mnist``). Missing files are downloaded into the cache when ``download`` is
    true, from the mirrors in ``MNIST_MIRRORS``, and kept only when their MD5 checksum matches.

    A folder may hold only the official test set (``t10k-*``, 10,000 images); chapter 9 uses just
    that, splitting it into 8,000 training and 2,000 test images with
    :func:`train_val_test_split`.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        A folder to search first.
    split : {"test", "train", "all"}, default "test"
        ``"test"``: the 10,000 t10k images; ``"train"``: the 60,000 training images; ``"all"``:
        training then test images (70,000), or only the 10,000 test images when the training
        files cannot be had (``note`` says so).
    download : bool, default True
        Download missing files into the cache.
    fallback : bool, default False
        If MNIST cannot be loaded, return scikit-learn's 8×8 digits (:func:`load_digits`) with a
        ``note`` explaining why, and emit a warning, instead of raising.
    cache_dir : str or os.PathLike, optional
        Where downloads go (and the last folder searched).

    Returns
    -------
    DigitsData
        ``X`` of shape (n, 784) float64 in [0, 1], ``y`` of shape (n,) int64, ``image_shape``
        (28, 28), and the strings ``source`` and ``note``. With the fallback: ``X`` (1797, 64),
        ``image_shape`` (8, 8).

    Raises
    ------
    FileNotFoundError
        When the files are neither found nor downloadable and ``fallback`` is false.
    ValueError
        When a file is found but corrupt (and ``fallback`` is false), or an argument is invalid.
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, _SPLITS))}, got {split!r}.")
    for flag_name, flag in (("download", download), ("fallback", fallback)):
        if not isinstance(flag, bool):
            raise TypeError(f"{flag_name} must be True or False, got {flag!r}.")
    for arg_name, arg in (("data_dir", data_dir), ("cache_dir", cache_dir)):
        if arg is not None and not isinstance(arg, (str, os.PathLike)):
            raise TypeError(f"{arg_name} must be a path (str or os.PathLike) or None, "
                            f"got {type(arg).__name__}.")

    cache = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
    folders = []
    if data_dir is not None:
        folders.append(Path(data_dir).expanduser())
    if os.environ.get("NNLIB_DATA_DIR"):
        folders.append(Path(os.environ["NNLIB_DATA_DIR"]).expanduser())
    folders.append(cache)
    searched = ", ".join(str(f) for f in folders)

    wanted = {"test": ["t10k"], "train": ["train"], "all": ["train", "t10k"]}[split]
    found, problems = {}, {}
    for part in wanted:
        folder, problem = _locate_or_download(part, folders, cache, download)
        if folder is not None:
            found[part] = folder
        else:
            problems[part] = problem or "not downloaded because download=False"

    # "all" still succeeds with only the test set; any other missing part is a failure.
    if split == "all":
        missing = [] if "t10k" in found else ["t10k"]
    else:
        missing = [p for p in wanted if p not in found]
    if missing:
        part = missing[0]
        reason = (f"the {part} files {' and '.join(_MNIST_PARTS[part][:2])} were not found in "
                  f"{searched} ({problems[part]})")
        if fallback:
            return _fallback(reason)
        raise FileNotFoundError(
            f"MNIST: {reason}. Point the environment variable NNLIB_DATA_DIR (or the data_dir "
            "argument) at a folder holding the files, allow download=True with internet access, "
            "or pass fallback=True to use scikit-learn's 8x8 digits instead.")

    try:
        loaded = {part: _read_part(part, folder) for part, folder in found.items()}
    except ValueError as err:
        if fallback:
            return _fallback(str(err))
        raise

    parts = [p for p in ("train", "t10k") if p in loaded]
    X = np.concatenate([loaded[p][0] for p in parts]) if len(parts) > 1 else loaded[parts[0]][0]
    y = np.concatenate([loaded[p][1] for p in parts]) if len(parts) > 1 else loaded[parts[0]][1]
    source = f"MNIST ({' + '.join(parts)}, {len(y):,} images)"
    where = "; ".join(f"{p} from {found[p]}" for p in parts)
    note = f"Loaded {len(y):,} MNIST images of 28x28 pixels ({where})."
    if split == "all" and "train" not in loaded:
        note += (f" The training files were not available ({problems['train']}), "
                 "so only the 10,000 test images (t10k) are included.")
    return DigitsData(X=X, y=y, image_shape=(28, 28), source=source, note=note)


# ----------------------------------------------------------------------------------------------
# Chapter 9: splitting a dataset
# ----------------------------------------------------------------------------------------------

def _split_count(value, name, n):
    """Turn one entry of ``sizes`` (int count or float fraction) into a count."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"sizes: {name} must be an int (a count) or a float in (0, 1) "
                        f"(a fraction), got {value!r}.")
    if isinstance(value, numbers.Integral):
        count = int(value)
        if count < 0:
            raise ValueError(f"sizes: {name} count must be >= 0, got {count}.")
        return count
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"sizes: {name} fraction must lie strictly between 0 and 1, got {value} "
                         "(use an int for a number of samples).")
    return int(round(value * n))


def train_val_test_split(X, y, sizes=(0.7, 0.15, 0.15), seed=0, stratify=True):
    """Split a dataset into training, validation and test sets (chapters 8 and 9).

    The split is random but reproducible (same ``seed``, same split) and stratified: each part
    keeps the class proportions of ``y``. It uses scikit-learn's ``train_test_split`` twice,
    first to set the test set aside, then to split the rest into training and validation sets.

    Parameters
    ----------
    X : array_like of shape (n_samples, ...)
        The inputs.
    y : array_like of shape (n_samples,)
        The integer class labels.
    sizes : tuple (train, val, test), default (0.7, 0.15, 0.15)
        Size of each part, either an int (number of samples) or a float in (0, 1) (fraction of
        ``n_samples``); ``train`` may be None for "all the rest". ``val`` may be 0 for no
        validation set. Samples not assigned to any part are left out. Chapter 9 trains on
        8,000 and tests on 2,000 of the 10,000 MNIST test images: ``sizes=(8000, 0, 2000)``.
    seed : int, default 0
        Seed of the shuffling.
    stratify : bool, default True
        Keep the class proportions in every part.

    Returns
    -------
    (X_train, y_train), (X_val, y_val), (X_test, y_test)
        Three pairs of arrays; the ``X`` parts keep the dtype and trailing shape of ``X``.

    Examples
    --------
    >>> X, y = make_2d("moons", n_samples=100)
    >>> (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, sizes=(60, 20, 20))
    >>> Xtr.shape, Xva.shape, Xte.shape
    ((60, 2), (20, 2), (20, 2))
    """
    from sklearn.model_selection import train_test_split

    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0:
        raise ValueError("X must be an array of shape (n_samples, n_features), got a scalar.")
    if y.ndim != 1:
        raise ValueError("y must be a 1-D array of labels of shape (n_samples,), "
                         f"got shape {y.shape}.")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of samples: X has {X.shape[0]}, "
                         f"y has {y.shape[0]}.")
    if not isinstance(sizes, (tuple, list)) or len(sizes) != 3:
        raise TypeError(f"sizes must be a tuple (train, val, test), got {sizes!r}.")
    seed = _check_int(seed, "seed", minimum=0)
    if not isinstance(stratify, bool):
        raise TypeError(f"stratify must be True or False, got {stratify!r}.")

    n = X.shape[0]
    n_test = _split_count(sizes[2], "test", n)
    n_val = _split_count(sizes[1], "val", n)
    n_train = n - n_test - n_val if sizes[0] is None else _split_count(sizes[0], "train", n)
    if all(isinstance(s, float) for s in sizes) and sum(sizes) <= 1 + 1e-9:
        n_train = min(n_train, n - n_test - n_val)   # fractions that add up to 1: rounding slack
    if n_test < 1 or n_train < 1:
        raise ValueError(f"sizes {tuple(sizes)} give {n_train} training and {n_test} test samples "
                         f"out of {n}; both need at least one.")
    if n_train + n_val + n_test > n:
        raise ValueError(f"sizes {tuple(sizes)} ask for {n_train} + {n_val} + {n_test} = "
                         f"{n_train + n_val + n_test} samples, but X has only {n}.")

    def split(X_, y_, first, second):
        try:
            return train_test_split(X_, y_, train_size=first, test_size=second,
                                    random_state=seed, stratify=y_ if stratify else None)
        except ValueError as err:
            raise ValueError(f"cannot split {len(y_)} samples into {first} and {second} with "
                             f"stratify=True ({err}); use larger parts or stratify=False.") from err

    X_rest, X_test, y_rest, y_test = split(X, y, n_train + n_val, n_test)
    if n_val == 0:
        X_train, y_train = X_rest, y_rest
        X_val, y_val = X[:0], y[:0]
    else:
        X_train, X_val, y_train, y_val = split(X_rest, y_rest, n_train, n_val)
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)
