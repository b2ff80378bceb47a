"""Input checks shared by nnlib's public entry points (and the book kit, nnbook).

A bad argument raises a ``TypeError`` or ``ValueError`` whose message names it and says what to
fix, instead of numpy broadcasting two mismatched arrays into a silently wrong answer.
"""
from __future__ import annotations

import numbers

import numpy as np


def _as_array(x, name: str, what: str) -> np.ndarray:
    """``np.asarray(x)``, with a TypeError naming ``name`` for strings, None or ragged lists."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be {what}, got {type(x).__name__}")
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be {what}: {exc}") from None


def as_float_array(x, name: str, *, ndim=None, dtype=None, allow_empty: bool = False,
                   finite: bool = True) -> np.ndarray:
    """Return ``x`` as a float array, checking its dimensionality and values.

    ``ndim`` may be an int or a tuple of allowed ints. float32 and float64 are kept as they are
    (unless ``dtype`` asks for a specific one); integers and booleans are converted to float64.
    """
    arr = _as_array(x, name, "a numeric array")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must hold real numbers, got complex values")
    if arr.dtype.kind not in "biuf":  # objects, strings, bytes, dates, time deltas, records
        raise TypeError(f"{name} must hold numbers, got an array of dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape}"
                             + (" (a batch X has shape (n_samples, n_features))" if 2 in allowed else ""))
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); pass at least one value")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; clean or rescale the input")
    return arr


def as_labels(y, name: str = "y", *, n_samples: int | None = None,
              n_classes: int | None = None, samples_of: str = "X") -> np.ndarray:
    """Return integer class labels of shape ``(n_samples,)`` with values in ``[0, n_classes)``.

    ``samples_of`` names the array whose ``n_samples`` rows the labels must match (for messages).
    """
    arr = _as_array(y, name, "an array of integer class labels")
    if arr.dtype.kind not in "biuf":  # complex numbers, strings, objects, dates ...
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D integer class labels of shape (n_samples,), got shape "
                         f"{arr.shape}; for one-hot targets use argmax(axis=1)")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one label")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold whole-number class labels such as 0, 1, 2")
        if np.max(np.abs(arr)) >= 2.0 ** 62:  # would not survive the conversion to int64
            raise ValueError(f"{name} has labels out of range [{arr.min():g}, {arr.max():g}]")
    elif arr.dtype.kind == "u" and arr.max() >= 2 ** 62:
        raise ValueError(f"{name} has labels out of range [{arr.min()}, {arr.max()}]")
    arr = arr.astype(np.int64)
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} labels but {samples_of} has {n_samples} "
                         "samples; they must have the same length")
    if arr.min() < 0 or (n_classes is not None and arr.max() >= n_classes):
        hi = "" if n_classes is None else f" (this model has {n_classes} classes: 0..{n_classes - 1})"
        raise ValueError(f"{name} has labels out of range [{arr.min()}, {arr.max()}]{hi}")
    return arr


def real_number(value, name: str) -> float:
    """Check a single finite real number (a weight, a bias, a starting point) and return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def positive_number(value, name: str, *, allow_zero: bool = False) -> float:
    """Check a real hyper-parameter such as a learning rate, a slope or a tolerance."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else 'positive'}, got {value!r}")
    return value


def as_batch(X, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """A batch: a finite 2-D float array ``(n_samples, n_features)``, with ``n_features`` columns if given."""
    X = as_float_array(X, name, ndim=2)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features per sample but the model expects "
                         f"{n_features}; {name} must have shape (n_samples, {n_features})")
    return X


def whole_number(value, name: str, minimum: int = 1) -> int:
    """Check a count such as an epoch number, a batch size or a number of samples (>= ``minimum``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(value)


def choose(value, options, name: str):
    """Return ``value`` if it is one of ``options`` (names compare case-insensitively), else explain."""
    key = value.lower() if isinstance(value, str) else value
    for option in options:
        if option == key or (isinstance(option, str) and isinstance(key, str) and option.lower() == key):
            return option
    raise ValueError(f"unknown {name} {value!r}; choose one of {list(options)}")


def as_rng(seed, name: str = "seed") -> np.random.Generator:
    """A numpy Generator from a seed (an int, None, or an existing Generator, which is used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, float, str, bytes)):
        raise TypeError(f"{name} must be an int (or None), got {seed!r}")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name} must be a non-negative int (or None), got {seed!r}: {exc}") from None
