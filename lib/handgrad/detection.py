r"""A YOLO-style detection loss (chapter 15; problem 59 of seed 000) and its helpers.

A detector's head predicts, for every cell of an ``S x S`` grid laid over the image, one raw vector
:math:`x \in \R^{5 + C}`: a box ``(x, y, w, h)``, an *objectness* ``c`` (is there an object?) and
``C`` class scores ``p``. The outputs are

.. math::

    y_i = \sigma(x_i) \text{ for } i \in \{x, y, c, p_0, \dots, p_{C-1}\}, \qquad
    y_w = x_w, \quad y_h = x_h .

The box is read in the cell: its centre is ``((j + y_x) / S, (i + y_y) / S)`` for the cell in row
``i`` and column ``j``, and its size ``(y_w, y_h)``, all as fractions of the image's width and
height. Boxes are ``(cx, cy, w, h)`` everywhere in this module.

Targets come from the true boxes. The cell that holds a box's centre is *responsible* for it: its
box targets are the centre's offsets in the cell, :math:`t_x, t_y \in [0, 1)`, and the size,
:math:`t_w, t_h`, and its class target is the box's label. With the indicator
:math:`r = [\text{responsible}]`, the loss of one cell is

.. math::

    L = r\,(2 - t_w t_h)\bigl[H_b(t_x, y_x) + H_b(t_y, y_y)
        + \tfrac12 (y_w - t_w)^2 + \tfrac12 (y_h - t_h)^2\bigr]
      + m\, H_b(t_c, y_c) + r\, L_{\text{class}},

with :math:`H_b(p, q) = -p \log q - (1 - p) \log(1 - q)`. The objectness follows problem 57 with
two thresholds ``lo < hi`` on the overlap ``q`` (intersection over union) of the cell's predicted
box with the true box it overlaps most: a cell is a *positive* (:math:`t_c = 1`) when it is
responsible or :math:`q \ge hi`, a *negative* (:math:`t_c = 0`) when it is not responsible and
:math:`q \le lo`, and *ignored* in between: :math:`m = 0`. The note's thresholds are
``lo = k / 2`` and ``hi = 2 k``.

The class term is binary cross-entropy over all ``C`` classes (``'all'``), or over the true class
only (``'one'``), or one of the two at random per responsible cell (``'random'``: a standard normal
draw ``theta`` from a seeded generator, ``'all'`` when ``theta < 0``), the note's choice made
explicit and reproducible.

Every partial derivative is :math:`y_i - t_i` times its weight (problem 58). The assignment
(``r``, ``m``, the targets) is piecewise constant in ``x``, so this is the exact gradient wherever
it exists; the loss jumps where a cell that is not responsible has its overlap cross ``lo`` or
``hi``.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape, check_reduction
from .activations import _stable_sigmoid
from .losses import bce_elementwise

__all__ = ["BOX", "OBJECTNESS", "CLASSES", "box_iou", "decode_boxes", "assign_targets",
           "predict_boxes", "detection_loss_forward", "detection_loss_backward"]

#: The channels of the box ``(x, y, w, h)`` in a raw output.
BOX = slice(0, 4)
#: The channel of the objectness.
OBJECTNESS = 4
#: The channels of the class scores, after the objectness.
CLASSES = slice(5, None)


def box_iou(a, b):
    """Intersection over union of boxes ``(cx, cy, w, h)``, broadcast over the leading axes.

    A box with a width or height <= 0 has no area: its overlap with anything is 0.

    Parameters
    ----------
    a, b : ndarray, shapes (..., 4) that broadcast

    Returns
    -------
    ndarray, the broadcast leading shape, values in [0, 1]
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape[-1:] != (4,) or b.shape[-1:] != (4,):
        raise ValueError(f"box_iou: boxes must have shape (..., 4) as (cx, cy, w, h), got shapes "
                         f"{a.shape} and {b.shape}")
    aw, ah = np.maximum(a[..., 2], 0), np.maximum(a[..., 3], 0)
    bw, bh = np.maximum(b[..., 2], 0), np.maximum(b[..., 3], 0)
    iw = np.minimum(a[..., 0] + aw / 2, b[..., 0] + bw / 2) - np.maximum(a[..., 0] - aw / 2,
                                                                         b[..., 0] - bw / 2)
    ih = np.minimum(a[..., 1] + ah / 2, b[..., 1] + bh / 2) - np.maximum(a[..., 1] - ah / 2,
                                                                         b[..., 1] - bh / 2)
    inter = np.maximum(iw, 0) * np.maximum(ih, 0)
    union = aw * ah + bw * bh - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def _check_raw(x, op):
    x = as_float_array(x, op, "x")
    if x.ndim != 4 or x.shape[1] < 6 or x.shape[2] != x.shape[3]:
        raise ValueError(f"{op}: x must have shape (N, 5 + C, S, S) with C >= 1 (box, "
                         f"objectness, classes on the channel axis), got shape {x.shape}")
    return x


def decode_boxes(x):
    """The box predicted by every cell, in image fractions:
    ``((j + y_x) / S, (i + y_y) / S, y_w, y_h)``.

    Parameters
    ----------
    x : ndarray, shape (N, 5 + C, S, S)
        Raw outputs of the detection head.

    Returns
    -------
    ndarray, shape (N, S, S, 4)
        ``(cx, cy, w, h)`` of the cell in row ``i`` and column ``j`` at ``[:, i, j]``.
    """
    x = _check_raw(x, "decode_boxes")
    s = x.shape[2]
    cols = np.arange(s)[None, None, :]
    rows = np.arange(s)[None, :, None]
    return np.stack([(cols + _stable_sigmoid(x[:, 0])) / s, (rows + _stable_sigmoid(x[:, 1])) / s,
                     x[:, 2], x[:, 3]], axis=-1)


def _check_targets(boxes, labels, n, num_classes, op):
    boxes = np.asarray(boxes, dtype=np.float64)
    labels = np.asarray(labels)
    if boxes.ndim == 2:
        boxes, labels = boxes[:, None], labels[:, None] if labels.ndim == 1 else labels
    if boxes.ndim != 3 or boxes.shape[0] != n or boxes.shape[2] != 4:
        raise ValueError(f"{op}: boxes must have shape (N, 4) or (N, K, 4) with N = {n}, as "
                         f"(cx, cy, w, h), got shape {boxes.shape}")
    if labels.shape != boxes.shape[:2] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{op}: labels must be integers of shape {boxes.shape[:2]} to match "
                         f"boxes {boxes.shape}, got {labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < -1 or labels.max() >= num_classes):
        raise ValueError(f"{op}: labels must lie in [0, {num_classes}) (or be -1 for no box), "
                         f"got values in [{labels.min()}, {labels.max()}]")
    real = labels >= 0
    inside = (boxes[..., :2] >= 0).all(-1) & (boxes[..., :2] < 1).all(-1) \
        & (boxes[..., 2:] > 0).all(-1) & (boxes[..., 2:] <= 1).all(-1)
    if (real & ~inside).any():
        raise ValueError(f"{op}: box centres must lie in [0, 1) and sizes in (0, 1], as "
                         f"fractions of the image; got {boxes[real & ~inside][0]}")
    return boxes, labels


def assign_targets(x, boxes, labels, ignore_band=(0.15, 0.6)):
    r"""Which cell answers for which box, and every target of the loss (no gradient flows here).

    Parameters
    ----------
    x : ndarray, shape (N, 5 + C, S, S)
        Raw outputs: the predicted boxes decide which cells are ignored.
    boxes : ndarray, shape (N, 4) or (N, K, 4)
        True boxes ``(cx, cy, w, h)`` in image fractions, at most K per image.
    labels : ndarray of int, shape (N,) or (N, K)
        The class of each box, or -1 where an image has fewer than K boxes. If two boxes have
        their centre in the same cell, the later one is kept.
    ignore_band : (lo, hi)
        The objectness thresholds on the overlap, ``0 <= lo < hi <= 1``.

    Returns
    -------
    dict of ndarrays, each with leading shape (N, S, S)
        ``responsible`` (bool), ``box`` (targets t_x, t_y, t_w, t_h; shape (N, S, S, 4)),
        ``label`` (int, -1 where not responsible), ``iou`` (overlap q of the predicted box with
        the true box it overlaps most), ``objectness`` (target t_c), ``obj_mask`` (m: 1 unless
        ignored).
    """
    return _assign(x, boxes, labels, ignore_band, "assign_targets")


def _assign(x, boxes, labels, ignore_band, op):
    x = _check_raw(x, op)
    lo, hi = _check_band(ignore_band, op)
    n, c5, s, _ = x.shape
    boxes, labels = _check_targets(boxes, labels, n, c5 - 5, op)
    responsible = np.zeros((n, s, s), dtype=bool)
    box = np.zeros((n, s, s, 4))
    label = np.full((n, s, s), -1, dtype=np.int64)
    for k in range(boxes.shape[1]):
        img = np.flatnonzero(labels[:, k] >= 0)
        cx, cy = boxes[img, k, 0] * s, boxes[img, k, 1] * s
        col, row = cx.astype(int), cy.astype(int)
        responsible[img, row, col] = True
        box[img, row, col] = np.stack([cx - col, cy - row, boxes[img, k, 2], boxes[img, k, 3]], 1)
        label[img, row, col] = labels[img, k]
    ious = box_iou(decode_boxes(x)[:, :, :, None], boxes[:, None, None])     # (N, S, S, K)
    iou = np.where(labels[:, None, None] >= 0, ious, 0.0).max(axis=-1, initial=0.0)
    positive = responsible | (iou >= hi)
    negative = ~responsible & (iou <= lo)
    return {"responsible": responsible, "box": box, "label": label, "iou": iou,
            "objectness": positive.astype(np.float64),
            "obj_mask": (positive | negative).astype(np.float64)}


def _check_band(band, op):
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise ValueError(f"{op}: ignore_band must be a pair (lo, hi), got {band!r}") from None
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"{op}: ignore_band must satisfy 0 <= lo < hi <= 1, got ({lo}, {hi})")
    return lo, hi


def detection_loss_forward(x, boxes, labels, ignore_band=(0.15, 0.6), class_loss="all",
                           seed=0, reduction="mean"):
    r"""The YOLO-style loss of problem 59 over every cell of every image (see the module).

    Parameters
    ----------
    x : ndarray, shape (N, 5 + C, S, S)
        Raw outputs of the head: channels ``x, y, w, h``, objectness, then ``C`` class logits.
    boxes : ndarray, shape (N, 4) or (N, K, 4)
        True boxes ``(cx, cy, w, h)`` as fractions of the image.
    labels : ndarray of int, shape (N,) or (N, K)
        Class of each box in ``[0, C)``; -1 for no box.
    ignore_band : (lo, hi)
        Objectness thresholds on the overlap of predicted and true boxes (problem 57).
    class_loss : {'all', 'one', 'random'}
        Binary cross-entropy over all classes, over the true class only, or a seeded random
        choice between the two for each responsible cell.
    seed : int
        Seed of the draws of ``'random'``: the same seed gives the same choices, so that the
        forward is a function and can be checked. In a training loop pass a new seed at each
        step (the step number, say): a fixed seed repeats the same choice for the same cell
        of the same position in the batch.
    reduction : {'mean', 'sum'}
        Divide the sum over cells by the number of images N, or not.

    Returns
    -------
    loss : scalar
    cache : dict
        The assignment of :func:`assign_targets`; ``x``; the box targets ``t`` (N, 4, S, S);
        the box weight ``weight`` = r (2 - t_w t_h); the class targets ``onehot`` and the
        classes each cell's term includes, ``class_mask`` (both (N, C, S, S)); the per-cell
        choice ``all_classes``; the loss of each term (``terms``: 'box', 'objectness',
        'class'); and ``scale``, 1/N or 1.
    """
    op = "detection_loss"
    check_reduction(reduction, op)
    if class_loss not in ("all", "one", "random"):
        raise ValueError(f"{op}: class_loss must be 'all', 'one' or 'random', got {class_loss!r}")
    x = _check_raw(x, op)
    a = _assign(x, boxes, labels, ignore_band, op)
    n, c5, s, _ = x.shape
    r = a["responsible"]
    t = np.moveaxis(a["box"], -1, 1)                                      # (N, 4, S, S)
    weight = r * (2.0 - t[:, 2] * t[:, 3])                                 # r (2 - t_w t_h)
    box = weight * (bce_elementwise(x[:, 0], t[:, 0]) + bce_elementwise(x[:, 1], t[:, 1])
                    + 0.5 * (x[:, 2] - t[:, 2]) ** 2 + 0.5 * (x[:, 3] - t[:, 3]) ** 2)
    objectness = a["obj_mask"] * bce_elementwise(x[:, OBJECTNESS], a["objectness"])
    onehot = np.moveaxis(np.eye(c5 - 5)[np.maximum(a["label"], 0)], -1, 1) * r[:, None]
    if class_loss == "random":
        theta = np.random.default_rng(seed).standard_normal((n, s, s))
        all_classes = theta < 0
    else:
        all_classes = np.full((n, s, s), class_loss == "all")
    # 'all': every class; 'one': the true class only (where the one-hot target is 1).
    class_mask = r[:, None] * np.where(all_classes[:, None], 1.0, onehot)
    classes = class_mask * bce_elementwise(x[:, CLASSES], onehot)
    scale = 1.0 / n if reduction == "mean" else 1.0
    terms = {"box": float(box.sum() * scale), "objectness": float(objectness.sum() * scale),
             "class": float(classes.sum() * scale)}
    loss = x.dtype.type(sum(terms.values()))
    cache = dict(a, x=x, t=t, weight=weight, onehot=onehot, class_mask=class_mask,
                 all_classes=all_classes & r, terms=terms, scale=scale)
    return loss, cache


def detection_loss_backward(dout, cache):
    r"""Gradient of :func:`detection_loss_forward` with respect to the raw outputs ``x``.

    Each channel's partial derivative is its output minus its target, times the weight of its
    term: ``r (2 - t_w t_h) (y - t)`` for the box (sigmoid with :math:`H_b`, identity with half a
    squared error: problem 58), ``m (y_c - t_c)`` for the objectness and ``r (y_p - t_p)`` for each
    class the class term includes. ``dout`` and the ``1/N`` of the mean multiply all of them.

    Parameters
    ----------
    dout : scalar
    cache : from :func:`detection_loss_forward`

    Returns
    -------
    dx : ndarray, shape (N, 5 + C, S, S)
    """
    x, t = cache["x"], cache["t"]
    dout = check_dout_shape(dout, (), "detection_loss")
    y = _stable_sigmoid(x)
    dx = np.empty_like(x)
    dx[:, 0:2] = cache["weight"][:, None] * (y[:, 0:2] - t[:, 0:2])
    dx[:, 2:4] = cache["weight"][:, None] * (x[:, 2:4] - t[:, 2:4])
    dx[:, OBJECTNESS] = cache["obj_mask"] * (y[:, OBJECTNESS] - cache["objectness"])
    dx[:, CLASSES] = cache["class_mask"] * (y[:, CLASSES] - cache["onehot"])
    return dx * (dout * cache["scale"]).astype(x.dtype)


def predict_boxes(x):
    """Each image's detection: the box, class and objectness of its most confident cell.

    Parameters
    ----------
    x : ndarray, shape (N, 5 + C, S, S)

    Returns
    -------
    boxes : ndarray, shape (N, 4)
        ``(cx, cy, w, h)`` in image fractions.
    labels : ndarray of int, shape (N,)
        The most likely class of that cell.
    scores : ndarray, shape (N,)
        Its objectness :math:`\\sigma(x_c)`.
    """
    x = _check_raw(x, "predict_boxes")
    n, _, s, _ = x.shape
    best = x[:, OBJECTNESS].reshape(n, -1).argmax(axis=1)
    row, col = np.divmod(best, s)
    img = np.arange(n)
    return (decode_boxes(x)[img, row, col], x[img, CLASSES, row, col].argmax(axis=1),
            _stable_sigmoid(x[img, OBJECTNESS, row, col]))
