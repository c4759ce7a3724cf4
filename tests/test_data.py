"""The small data sets of handgrad.data, and the decision-region plot that shows classifiers on them."""

import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from handgrad import data, plotting

GENERATORS = {
    "make_blobs": lambda **kw: data.make_blobs(7, **kw),
    "make_spirals": lambda **kw: data.make_spirals(7, **kw),
}


# ---------------------------------------------------------------------------------------------
# shapes, dtypes, balance, determinism
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, k", [(1, 2), (5, 3), (40, 4)])
def test_blobs_have_the_documented_shapes_dtypes_and_balanced_ordered_classes(n, k):
    X, y = data.make_blobs(n, centers=k, std=0.5, seed=1)
    assert X.shape == (n * k, 2) and X.dtype == np.float64
    assert y.shape == (n * k,) and y.dtype == np.int64
    np.testing.assert_array_equal(y, np.repeat(np.arange(k), n))
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("n, k", [(2, 2), (5, 3), (50, 5)])
def test_spirals_have_the_documented_shapes_dtypes_and_balanced_ordered_classes(n, k):
    X, y = data.make_spirals(n, n_classes=k, noise=0.1, seed=1)
    assert X.shape == (n * k, 2) and X.dtype == np.float64
    assert y.shape == (n * k,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), np.full(k, n))
    np.testing.assert_array_equal(y, np.repeat(np.arange(k), n))
    # every arm runs from the origin to the unit circle
    radius = np.linalg.norm(X, axis=1).reshape(k, n)
    np.testing.assert_allclose(radius[:, 0], 0.0, atol=1e-15)
    np.testing.assert_allclose(radius[:, -1], 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", GENERATORS)
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(name):
    make = GENERATORS[name]
    X1, y1 = make(seed=3)
    X2, y2 = make(seed=3)
    X3, _ = make(seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    X4, _ = make(seed=np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X4)


def test_blobs_sit_around_their_centres_with_the_given_spread():
    centers = np.array([[0.0, 0.0], [10.0, -5.0], [-4.0, 8.0]])
    X, y = data.make_blobs(4000, centers=centers, std=0.5, seed=0)
    for c, mu in enumerate(centers):
        pts = X[y == c]
        np.testing.assert_allclose(pts.mean(axis=0), mu, atol=0.05)
        np.testing.assert_allclose(pts.std(axis=0), 0.5, rtol=0.05)


def test_blob_centres_given_by_number_lie_evenly_on_the_circle():
    X, y = data.make_blobs(1, centers=4, std=0.0, seed=0)
    r = data.BLOB_RADIUS
    np.testing.assert_allclose(X, [[r, 0], [0, r], [-r, 0], [0, -r]], atol=1e-12)


def test_spirals_without_noise_are_exact_arms():
    X, y = data.make_spirals(5, n_classes=2, noise=0.0, seed=0)
    r = np.linspace(0, 1, 5)
    for k in range(2):
        theta = 4 * (k + r)
        np.testing.assert_allclose(X[y == k], np.column_stack([r * np.sin(theta),
                                                               r * np.cos(theta)]))


def test_train_test_split_is_stratified_disjoint_complete_and_seeded():
    X, y = data.make_blobs(20, centers=3, seed=0)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_fraction=0.25, seed=1)
    assert Xtr.shape == (45, 2) and Xte.shape == (15, 2)
    np.testing.assert_array_equal(np.bincount(yte), [5, 5, 5])
    np.testing.assert_array_equal(np.bincount(ytr), [15, 15, 15])
    # the two parts are the data set, each point exactly once, with its own label
    both = np.concatenate([np.column_stack([Xtr, ytr]), np.column_stack([Xte, yte])])
    ref = np.column_stack([X, y])
    np.testing.assert_array_equal(both[np.lexsort(both.T)], ref[np.lexsort(ref.T)])
    again = data.train_test_split(X, y, test_fraction=0.25, seed=1)
    for a, b in zip((Xtr, Xte, ytr, yte), again):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# bad arguments: a ValueError naming the function and the argument
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, fn, arg", [
    (lambda: data.make_blobs(0), "make_blobs", "n_per_class"),
    (lambda: data.make_blobs(2.5), "make_blobs", "n_per_class"),
    (lambda: data.make_blobs(True), "make_blobs", "n_per_class"),
    (lambda: data.make_blobs(5, centers=1), "make_blobs", "centers"),
    (lambda: data.make_blobs(5, centers=[[0, 0, 0], [1, 1, 1]]), "make_blobs", "centers"),
    (lambda: data.make_blobs(5, centers=[[0, 0]]), "make_blobs", "centers"),
    (lambda: data.make_blobs(5, centers=[[0, np.nan], [1, 1]]), "make_blobs", "centers"),
    (lambda: data.make_blobs(5, centers="three"), "make_blobs", "centers"),
    (lambda: data.make_blobs(5, std=-1.0), "make_blobs", "std"),
    (lambda: data.make_blobs(5, std=np.inf), "make_blobs", "std"),
    (lambda: data.make_blobs(5, seed=-1), "make_blobs", "seed"),
    (lambda: data.make_blobs(5, seed="a"), "make_blobs", "seed"),
    (lambda: data.make_spirals(1), "make_spirals", "n_per_class"),
    (lambda: data.make_spirals(5, n_classes=1), "make_spirals", "n_classes"),
    (lambda: data.make_spirals(5, n_classes=3.0), "make_spirals", "n_classes"),
    (lambda: data.make_spirals(5, noise=-0.1), "make_spirals", "noise"),
    (lambda: data.make_spirals(5, noise=float("nan")), "make_spirals", "noise"),
    (lambda: data.make_spirals(5, seed=1.5), "make_spirals", "seed"),
    (lambda: data.train_test_split(np.zeros(4), np.zeros(4, int)), "train_test_split", "X"),
    (lambda: data.train_test_split(np.zeros((4, 2)), np.zeros(3, int)), "train_test_split", "y"),
    (lambda: data.train_test_split(np.zeros((4, 2)), np.zeros(4)), "train_test_split", "y"),
    (lambda: data.train_test_split(np.zeros((4, 2)), np.zeros(4, int), test_fraction=1.0),
     "train_test_split", "test_fraction"),
])
def test_bad_arguments_raise_a_value_error_naming_the_function_and_argument(call, fn, arg):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{fn}:") and arg in message, message


# ---------------------------------------------------------------------------------------------
# decision_regions
# ---------------------------------------------------------------------------------------------


def test_decision_regions_colours_the_plane_by_the_predicted_class_and_labels_the_axes():
    X, y = data.make_blobs(10, centers=3, std=0.3, seed=0)
    fig = Figure()                       # not registered with pyplot: no global state
    ax = fig.add_subplot()
    n_open = len(plt.get_fignums())
    calls = []

    def predict(points):
        calls.append(points.shape)
        angle = np.arctan2(points[:, 1], points[:, 0]) % (2 * np.pi)
        return np.floor((angle + np.pi / 3) / (2 * np.pi / 3)).astype(int) % 3

    out = plotting.decision_regions(ax, predict, X, y, n=50, title="three sectors")
    assert out is ax
    assert calls == [(2500, 2)]
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    assert ax.get_title() == "three sectors"
    # one filled contour set for the regions, one scatter per class
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 3
    for k, sc in enumerate(scatters):
        assert sc.get_offsets().shape == (10, 2)
        np.testing.assert_allclose(sc.get_facecolor()[0][:3],
                                   matplotlib.colors.to_rgb(plotting.COLORS[k]))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]
    xmin, xmax = ax.get_xlim()
    assert xmin < X[:, 0].min() and xmax > X[:, 0].max()
    fig.savefig(io.BytesIO(), format="png")   # it renders
    assert len(plt.get_fignums()) == n_open


def test_decision_regions_rejects_bad_shapes():
    fig = Figure()
    ax = fig.add_subplot()
    X, y = data.make_blobs(3, seed=0)
    with pytest.raises(ValueError, match="decision_regions: X"):
        plotting.decision_regions(ax, lambda p: np.zeros(len(p), int), X[:, :1], y)
    with pytest.raises(ValueError, match="decision_regions: y"):
        plotting.decision_regions(ax, lambda p: np.zeros(len(p), int), X, y[:-1])
    with pytest.raises(ValueError, match="decision_regions: predict"):
        plotting.decision_regions(ax, lambda p: np.zeros((len(p), 1), int), X, y)


def test_load_digits_gives_images_in_the_batch_first_layout():
    X, y = data.load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_fraction=0.2, seed=0)
    assert Xtr.shape[1:] == (1, 8, 8) and len(Xtr) + len(Xte) == 1797


def test_image_grid_shows_every_image_with_shared_limits():
    from handgrad import plotting

    images = np.stack([np.full((3, 3), v) for v in (-2.0, 0.5, 1.0)])
    fig, axes = plotting.image_grid(images, ncols=2, symmetric=True, titles=["a", "b", "c"])
    shown = [ax.images[0] for ax in axes.flat if ax.images]
    assert len(shown) == 3 and axes.shape == (2, 2)
    assert all(im.get_clim() == (-2.0, 2.0) for im in shown)
    with pytest.raises(ValueError, match=r"image_grid: images must have shape \(K, H, W\)"):
        plotting.image_grid(np.zeros((3, 3)))
    import matplotlib.pyplot as plt

    plt.close("all")
