"""Small two-dimensional classification data sets, made offline from a seed.

Every generator returns ``(X, y)``: ``X`` of shape (N, 2) and dtype float64, the points as rows
(batch first, as everywhere in the library), and ``y`` of shape (N,) and dtype int64, the class
of each point, in ``0 .. n_classes - 1``. The classes are balanced (``n_per_class`` points each)
and stored in order: first every point of class 0, then class 1, and so on. The same seed gives
the same arrays on every machine.

* :func:`make_blobs` -- Gaussian clouds around given or evenly spread centres: linearly
  separable up to their overlap, the data set of a linear classifier;
* :func:`make_spirals` -- interleaved spiral arms (the CS231n data set): no linear classifier
  separates them, a network with a hidden layer does;
* :func:`train_test_split` -- a stratified random split of such a data set.

A short text for character-level language models ships with the library: :func:`load_text`.

For detection, :func:`make_shapes` draws one bright rectangle or disc on a noisy image and returns
its bounding box and its class.

One real image data set needs no download: :func:`load_digits` returns the 1,797 8x8 handwritten
digits that ship inside scikit-learn (UCI optical digits), as images in the (N, C, H, W) layout.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["make_blobs", "make_spirals", "train_test_split", "load_digits", "load_text",
           "make_shapes"]

#: Radius of the circle on which :func:`make_blobs` spreads its centres when given their number.
BLOB_RADIUS = 3.0


def _check_count(value, fn: str, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{fn}: {name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _check_scale(value, fn: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or value < 0:
        raise ValueError(f"{fn}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_seed(seed, fn: str):
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{fn}: seed must be a non-negative integer, None or a "
                         f"numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def make_blobs(n_per_class, centers=3, std=1.0, seed=0):
    """Gaussian blobs in the plane, one per class.

    Parameters
    ----------
    n_per_class : int, >= 1
        Number of points of each class.
    centers : int or array_like of shape (n_classes, 2)
        The centres of the blobs, or their number (>= 2): that many centres evenly spread on a
        circle of radius ``BLOB_RADIUS`` (3) around the origin, the first on the positive x-axis.
    std : float, >= 0
        Standard deviation of each coordinate around its centre.
    seed : int, None or numpy.random.Generator
        Seed of the random points; an integer gives the same data on every call.

    Returns
    -------
    X : ndarray, shape (n_classes * n_per_class, 2), float64
        The points, grouped by class.
    y : ndarray, shape (n_classes * n_per_class,), int64
        The class of each point, ``[0] * n_per_class + [1] * n_per_class + ...``.
    """
    fn = "make_blobs"
    n = _check_count(n_per_class, fn, "n_per_class", 1)
    std = _check_scale(std, fn, "std")
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = _check_count(centers, fn, "centers", 2)
        angles = 2 * np.pi * np.arange(k) / k
        mu = BLOB_RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        try:
            mu = np.array(centers, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{fn}: centers must be an integer >= 2 or an array of shape "
                             f"(n_classes, 2), got {centers!r}") from None
        if mu.ndim != 2 or mu.shape[1] != 2 or mu.shape[0] < 2:
            raise ValueError(f"{fn}: centers must be an integer >= 2 or an array of shape "
                             f"(n_classes, 2) with n_classes >= 2, got shape {mu.shape}")
        if not np.all(np.isfinite(mu)):
            raise ValueError(f"{fn}: centers must be finite, got {mu.tolist()}")
    rng = _check_seed(seed, fn)
    k = mu.shape[0]
    X = np.repeat(mu, n, axis=0) + std * rng.standard_normal((k * n, 2))
    y = np.repeat(np.arange(k, dtype=np.int64), n)
    return X, y


def make_spirals(n_per_class, n_classes=3, noise=0.2, seed=0):
    r"""Interleaved spiral arms in the plane, one per class (the CS231n spiral data set).

    Point :math:`i` of class :math:`k` is at radius :math:`r_i = i / (n - 1)` and angle
    :math:`\theta = 4 (k + r_i) + \text{noise} \cdot \mathcal{N}(0, 1)` (radians):
    :math:`(r_i \sin\theta, r_i \cos\theta)`. Every arm starts at the origin and turns by 4 radians.

    Parameters
    ----------
    n_per_class : int, >= 2
        Number of points of each arm.
    n_classes : int, >= 2
        Number of arms (classes).
    noise : float, >= 0
        Standard deviation of the angle, in radians.
    seed : int, None or numpy.random.Generator
        Seed of the noise; an integer gives the same data on every call.

    Returns
    -------
    X : ndarray, shape (n_classes * n_per_class, 2), float64
        The points, grouped by class, inside the unit disc.
    y : ndarray, shape (n_classes * n_per_class,), int64
        The class of each point.
    """
    fn = "make_spirals"
    n = _check_count(n_per_class, fn, "n_per_class", 2)
    k = _check_count(n_classes, fn, "n_classes", 2)
    noise = _check_scale(noise, fn, "noise")
    rng = _check_seed(seed, fn)
    r = np.tile(np.linspace(0.0, 1.0, n), k)
    cls = np.repeat(np.arange(k, dtype=np.int64), n)
    theta = 4.0 * (cls + r) + noise * rng.standard_normal(k * n)
    X = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    return X, cls


def train_test_split(X, y, test_fraction=0.25, seed=0):
    """Split a classification data set at random, class by class (stratified).

    From each class, ``round(test_fraction * count)`` points go to the test set, chosen at random;
    both parts are then shuffled.

    Parameters
    ----------
    X : ndarray, shape (N, ...)
        Samples along the first axis: points (N, D) or images (N, C, H, W).
    y : ndarray of int, shape (N,)
    test_fraction : float, in (0, 1)
    seed : int, None or numpy.random.Generator

    Returns
    -------
    X_train : ndarray, shape (N - N_test, ...)
    X_test : ndarray, shape (N_test, ...)
    y_train : ndarray, shape (N - N_test,)
    y_test : ndarray, shape (N_test,)
    """
    fn = "train_test_split"
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 2:
        raise ValueError(f"{fn}: X must have shape (N, ...) with at least 2 axes, such as (N, D) "
                         f"or (N, C, H, W), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"{fn}: y must have shape (N,) = ({X.shape[0]},), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{fn}: y must hold integer classes, got dtype {y.dtype}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) \
            or not 0 < test_fraction < 1:
        raise ValueError(f"{fn}: test_fraction must lie in (0, 1), got {test_fraction!r}")
    rng = _check_seed(seed, fn)
    test = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test.append(idx[: int(round(test_fraction * idx.size))])
    test = np.concatenate(test)
    is_test = np.zeros(y.size, dtype=bool)
    is_test[test] = True
    train = rng.permutation(np.flatnonzero(~is_test))
    test = rng.permutation(test)
    return X[train], X[test], y[train], y[test]


def load_digits():
    """The 8x8 handwritten digits bundled with scikit-learn, as images scaled to [0, 1].

    The data file is part of the scikit-learn package (``sklearn/datasets/data/digits.csv.gz``);
    nothing is downloaded. There are 1,797 images of the digits 0-9 (about 180 of each), each an
    8x8 grid of grey levels 0..16 from the UCI optical recognition data set, here divided by 16.

    Returns
    -------
    X : ndarray, shape (1797, 1, 8, 8), float64
        One channel per image, values in [0, 1].
    y : ndarray, shape (1797,), int64
        The digit shown, 0..9.
    """
    from sklearn.datasets import load_digits as _sklearn_digits  # imported only when used

    digits = _sklearn_digits()
    X = (digits.images / 16.0).astype(np.float64)[:, None, :, :]
    return X, digits.target.astype(np.int64)


def load_text():
    """The first eleven chapters of Genesis, King James Version: a 35 KB text in the public domain.

    The King James Version was translated in 1611 and its copyright has long expired. This copy
    was extracted from Debian's ``bible-kjv-text`` package (Chip Chapin's Bible Retrieval System)
    and ships inside the library (``handgrad/texts/genesis_1_11.txt``): one verse per line, verse
    numbers removed, a blank line between chapters. Nothing is downloaded.

    Returns
    -------
    str
        34,849 characters, 59 distinct ones (letters, digits, punctuation, space and newline).
    """
    from pathlib import Path

    return (Path(__file__).parent / "texts" / "genesis_1_11.txt").read_text(encoding="utf-8")


#: The classes of :func:`make_shapes`, in label order.
SHAPES = ("rectangle", "disc")


def make_shapes(n, size=32, noise=0.1, min_extent=0.2, max_extent=0.6, seed=0):
    r"""Images of one bright shape on a noisy background, with its bounding box and its class.

    Each image holds one object, a filled axis-aligned rectangle (class 0) or a filled disc
    (class 1), with equal odds, of brightness uniform in [0.6, 1], on a black background with
    Gaussian noise. The object lies entirely inside the image; its width and height (the disc's
    diameter) are uniform between ``min_extent`` and ``max_extent`` of the image size.

    Parameters
    ----------
    n : int
        Number of images.
    size : int
        Height and width in pixels.
    noise : float
        Standard deviation of the noise added to every pixel.
    min_extent, max_extent : float
        Range of the object's size, as fractions of the image, ``0 < min <= max <= 1``.
    seed : int, None or numpy Generator

    Returns
    -------
    X : ndarray, shape (n, 1, size, size), float64
    boxes : ndarray, shape (n, 4)
        ``(cx, cy, w, h)`` of each object's bounding box, as fractions of the image (x to the
        right, y down, as in an image).
    labels : ndarray, shape (n,), int64
        0 for a rectangle, 1 for a disc (their names are ``data.SHAPES``).
    """
    fn = "make_shapes"
    n = _check_count(n, fn, "n", 1)
    size = _check_count(size, fn, "size", 4)
    noise = _check_scale(noise, fn, "noise")
    if not 0 < min_extent <= max_extent <= 1:
        raise ValueError(f"{fn}: need 0 < min_extent <= max_extent <= 1, got {min_extent} and "
                         f"{max_extent}")
    rng = _check_seed(seed, fn)
    labels = rng.integers(0, 2, n)
    extent = rng.uniform(min_extent, max_extent, (n, 2))
    extent[labels == 1, 1] = extent[labels == 1, 0]              # a disc is as tall as wide
    corner = rng.uniform(0, 1, (n, 2)) * (1 - extent)              # top-left corner, inside
    brightness = rng.uniform(0.6, 1.0, n)
    centre = (np.arange(size) + 0.5) / size                        # pixel centres, in fractions
    u, v = centre[None, None, :], centre[None, :, None]            # u across (x), v down (y)
    cx, cy = (corner + extent / 2).T[:, :, None, None]
    w, h = extent.T[:, :, None, None]
    rectangle = (np.abs(u - cx) <= w / 2) & (np.abs(v - cy) <= h / 2)
    disc = (u - cx) ** 2 + (v - cy) ** 2 <= (w / 2) ** 2
    shape = np.where(labels[:, None, None] == 1, disc, rectangle)
    X = shape * brightness[:, None, None] + noise * rng.standard_normal((n, size, size))
    boxes = np.column_stack([corner + extent / 2, extent])
    return X[:, None].astype(np.float64), boxes, labels.astype(np.int64)
