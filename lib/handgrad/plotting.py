"""The book's one plotting style: every figure is made through these helpers.

Call :func:`use_style` once at the top of a chapter, then make figures with :func:`subplots`.
Axes are always labelled (:func:`label`), and a title says what the reader should see.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["COLORS", "use_style", "subplots", "label", "mark_vertical", "grid_points",
           "decision_regions", "image_grid", "draw_boxes"]

#: A colour-blind-safe cycle (Okabe-Ito), used in this order by every figure.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.constrained_layout.use": True,
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's matplotlib style (colours, sizes, grid) to every later figure."""
    mpl.rcParams.update(_STYLE)


def subplots(nrows: int = 1, ncols: int = 1, *, width: float | None = None,
             height: float | None = None, **kwargs):
    """``plt.subplots`` in the book's style, sized for the page.

    Parameters
    ----------
    nrows, ncols : int
        Grid of axes.
    width, height : float, optional
        Figure size in inches; by default 6.4 wide (9.6 for three or more columns) and
        4.0 high per row (3.2 per row when there are several).
    **kwargs
        Passed to ``matplotlib.pyplot.subplots`` (``sharex``, ``squeeze``, ...).

    Returns
    -------
    fig, axes
    """
    use_style()
    if width is None:
        width = 9.6 if ncols >= 3 else 6.4 if ncols == 1 else 8.0
    if height is None:
        height = 4.0 if nrows == 1 and ncols < 3 else 3.2 * nrows
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def label(ax, xlabel: str, ylabel: str, title: str | None = None, legend: bool = False) -> None:
    """Label the axes of ``ax`` (both are required) and optionally give a title and a legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend()


def mark_vertical(ax, x: float, text: str, color: str = "0.4") -> None:
    """Draw a dashed vertical line at ``x`` with a small label near the top of ``ax``."""
    ax.axvline(x, color=color, linestyle="--", linewidth=1.0)
    ymax = ax.get_ylim()[1]
    ax.annotate(text, (x, ymax), xytext=(3, -12), textcoords="offset points",
                fontsize=8, color=color, va="top")


def grid_points(xlim, ylim, n: int = 200):
    """A regular ``n x n`` grid over a rectangle, as (xx, yy, points (n*n, 2)), for decision maps."""
    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def decision_regions(ax, predict, X, y, *, n: int = 200, margin: float = 0.5,
                     title: str | None = None, xlabel: str = "$x_1$", ylabel: str = "$x_2$",
                     legend: bool = True, alpha: float = 0.25):
    """Draw the class regions of a two-dimensional classifier, with the data on top.

    The plane around the data is covered by an ``n x n`` grid (:func:`grid_points`); every grid
    point is coloured by the class ``predict`` gives it, class ``k`` in ``COLORS[k]``, lightly;
    the points of ``X`` are drawn in the full colour of their true class ``y``. The axes are
    labelled.

    Parameters
    ----------
    ax : matplotlib Axes
    predict : callable
        Takes points of shape (M, 2) and returns their classes, integers of shape (M,).
    X : ndarray, shape (N, 2)
        The data points.
    y : ndarray of int, shape (N,)
        Their classes, in ``0 .. len(COLORS) - 1``.
    n : int
        Grid points per side.
    margin : float
        Space left around the data, in data units.
    title, xlabel, ylabel : str
        Title (optional) and axis labels.
    legend : bool
        Add a legend naming the classes.
    alpha : float
        Opacity of the regions.

    Returns
    -------
    ax : the same Axes
    """
    from matplotlib.colors import ListedColormap

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_regions: X must have shape (N, 2), got shape {X.shape}")
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"decision_regions: y must be integers of shape ({X.shape[0]},), "
                         f"got shape {y.shape} and dtype {y.dtype}")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy, points = grid_points((lo[0], hi[0]), (lo[1], hi[1]), n)
    classes = np.asarray(predict(points))
    if classes.shape != (points.shape[0],):
        raise ValueError(f"decision_regions: predict must return shape ({points.shape[0]},) "
                         f"for points of shape {points.shape}, got shape {classes.shape}")
    k = int(max(classes.max(), y.max() if y.size else 0)) + 1
    if k > len(COLORS) or min(classes.min(), y.min() if y.size else 0) < 0:
        raise ValueError(f"decision_regions: classes must lie in [0, {len(COLORS) - 1}]")
    cmap = ListedColormap(COLORS[:k])
    ax.contourf(xx, yy, classes.reshape(xx.shape), levels=np.arange(k + 1) - 0.5, cmap=cmap,
                alpha=alpha, antialiased=True)
    for c in range(k):
        pts = X[y == c]
        if len(pts):
            ax.scatter(pts[:, 0], pts[:, 1], s=14, color=COLORS[c], edgecolors="white",
                       linewidths=0.4, label=f"class {c}")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal", adjustable="box")
    label(ax, xlabel, ylabel, title, legend=legend)
    return ax


def image_grid(images, *, ncols: int = 8, titles=None, title: str | None = None,
               symmetric: bool = False, cmap: str | None = None, size: float = 1.2,
               colorbar: bool = False):
    """Show a stack of small images (digits, filters, feature maps) in a grid, without axes.

    Parameters
    ----------
    images : array_like, shape (K, H, W)
        K grey-level images.
    ncols : int
        Images per row; the number of rows follows.
    titles : list of str, optional
        One short caption per image.
    title : str, optional
        A title for the whole figure: say what to see.
    symmetric : bool
        For signed images such as filters and gradients: a diverging colour map (blue negative,
        red positive) centred at zero, with limits +-max|value| shared by every image, so that
        colours compare across the grid. Otherwise the inverted grey map ``gray_r`` (high
        values dark, like ink on paper) with shared limits; pass ``cmap="gray"`` for bright
        objects on a dark background.
    cmap : str, optional
        Overrides the colour map.
    size : float
        Inches per image.
    colorbar : bool
        Add one colour bar for the whole grid.

    Returns
    -------
    fig, axes : the figure and its 2-D array of Axes
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"image_grid: images must have shape (K, H, W), got shape "
                         f"{images.shape}")
    k = images.shape[0]
    if titles is not None and len(titles) != k:
        raise ValueError(f"image_grid: titles must have one entry per image ({k}), got "
                         f"{len(titles)}")
    ncols = max(1, min(ncols, k))
    nrows = -(-k // ncols)
    if symmetric:
        vmax = float(np.abs(images).max()) or 1.0
        vmin, cmap = -vmax, cmap or "RdBu_r"
    else:
        vmin, vmax, cmap = float(images.min()), float(images.max()), cmap or "gray_r"
    use_style()
    extra = 0.35 if title else 0.0
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(size * ncols + (0.6 if colorbar else 0),
                                      size * nrows + extra + (0.25 if titles else 0) * nrows))
    im = None
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < k:
            im = ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8, fontweight="normal")
    if title:
        fig.suptitle(title, fontweight="bold", fontsize=11)
    if colorbar and im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8)
    return fig, axes


def draw_boxes(ax, boxes, image_size, *, color=None, label=None, linestyle="-",
               texts=None) -> None:
    """Draw boxes ``(cx, cy, w, h)``, given as fractions of an image, on an image shown by imshow.

    Parameters
    ----------
    ax : matplotlib Axes showing the image (pixel coordinates, y down)
    boxes : array_like, shape (K, 4) or (4,)
    image_size : int or (height, width)
        The image's size in pixels, to turn fractions into pixels.
    color : str, optional
        Edge colour; the first of :data:`COLORS` by default.
    label : str, optional
        Legend entry (given once, for the first box).
    linestyle : str
    texts : list of str, optional
        A short caption per box, written above its top-left corner.
    """
    from matplotlib.patches import Rectangle

    boxes = np.atleast_2d(np.asarray(boxes, dtype=np.float64))
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"draw_boxes: boxes must have shape (K, 4) as (cx, cy, w, h), got "
                         f"shape {boxes.shape}")
    height, width = (image_size, image_size) if np.isscalar(image_size) else image_size
    color = color or COLORS[0]
    for k, (cx, cy, w, h) in enumerate(boxes):
        # Pixel i covers [i - 0.5, i + 0.5] in imshow's coordinates.
        x0, y0 = (cx - w / 2) * width - 0.5, (cy - h / 2) * height - 0.5
        ax.add_patch(Rectangle((x0, y0), w * width, h * height, fill=False, edgecolor=color,
                               linewidth=1.6, linestyle=linestyle,
                               label=label if k == 0 else None))
        if texts is not None:
            ax.text(x0, y0 - 0.6, texts[k], color=color, fontsize=7, va="bottom")
