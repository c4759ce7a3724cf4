"""The YOLO-style detection loss: a loop reference, the gradient on both sides of every threshold,
each class option, the assignment, the overlap, bad input; the shapes data set; a CNN that learns."""

import math

import matplotlib
import numpy as np
import pytest

from _checks import assert_parameter_gradients_match
from handgrad import data, detection as det, gradcheck as gc, nn, optim, plotting

matplotlib.use("Agg")

S, C = 3, 2
TRUTH = np.array([[0.5, 0.5, 0.6, 0.6]])        # centre in cell (1, 1) of a 3 x 3 grid
BAND = (0.1, 0.3)                                # thresholds lo, hi of the regime tests


def logit(p):
    return math.log(p / (1 - p))


def raw_outputs(rng, n=1, s=S, c=C):
    """Random raw outputs whose boxes are small and far from the truth (overlap 0)."""
    x = rng.standard_normal((n, 5 + c, s, s))
    x[:, 2:4] = 0.05
    return x


def set_box(x, n, i, j, box):
    """Make cell (i, j) of image n predict ``box`` (cx, cy, w, h)."""
    s = x.shape[2]
    cx, cy, w, h = box
    x[n, 0, i, j], x[n, 1, i, j] = logit(cx * s - j), logit(cy * s - i)
    x[n, 2, i, j], x[n, 3, i, j] = w, h


def box_with_iou(iou, truth, i, j, s=S):
    """A box that cell (i, j) can predict, with the overlap ``iou`` with ``truth``: its centre is
    the point of the cell nearest the truth's centre, its height the truth's, and its width is
    found by bisection on the rising side of the overlap."""
    cx = min(max(truth[0], (j + 0.01) / s), (j + 0.99) / s)
    cy = min(max(truth[1], (i + 0.01) / s), (i + 0.99) / s)

    def overlap(w):
        return det.box_iou((cx, cy, w, truth[3]), truth)

    widths = np.linspace(1e-3, 1, 1000)
    peak = widths[np.argmax([overlap(w) for w in widths])]
    lo, hi = 1e-3, peak
    assert overlap(hi) > iou, "this cell cannot reach that overlap"
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if overlap(mid) < iou else (lo, mid)
    return (cx, cy, (lo + hi) / 2, truth[3])


def bce(t, x):
    y = 1 / (1 + math.exp(-x))
    return -t * math.log(y) - (1 - t) * math.log(1 - y)


def loop_loss(x, boxes, labels, lo, hi, all_classes):
    """The loss of the module docstring, cell by cell, independently of the library's arrays."""
    n_img, c5, s, _ = x.shape
    total = 0.0
    for n in range(n_img):
        owner = {}
        for k in range(boxes.shape[1]):
            if labels[n, k] >= 0:
                cx, cy = boxes[n, k, 0] * s, boxes[n, k, 1] * s
                owner[(int(cy), int(cx))] = k
        for i in range(s):
            for j in range(s):
                v = x[n, :, i, j]
                pred = ((j + 1 / (1 + math.exp(-v[0]))) / s, (i + 1 / (1 + math.exp(-v[1]))) / s,
                        v[2], v[3])
                q = max([det.box_iou(pred, boxes[n, k]) for k in range(boxes.shape[1])
                         if labels[n, k] >= 0], default=0.0)
                if (i, j) in owner:
                    k = owner[(i, j)]
                    cx, cy, tw, th = boxes[n, k]
                    tx, ty = cx * s - j, cy * s - i
                    total += (2 - tw * th) * (bce(tx, v[0]) + bce(ty, v[1])
                                              + 0.5 * (v[2] - tw) ** 2 + 0.5 * (v[3] - th) ** 2)
                    total += bce(1.0, v[4])
                    r = labels[n, k]
                    if all_classes[n, i, j]:
                        total += sum(bce(float(p == r), v[5 + p]) for p in range(c5 - 5))
                    else:
                        total += bce(1.0, v[5 + r])
                elif q >= hi:
                    total += bce(1.0, v[4])
                elif q <= lo:
                    total += bce(0.0, v[4])
    return total / n_img


@pytest.mark.parametrize("class_loss", ["all", "one", "random"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_detection_loss_matches_a_cell_by_cell_loop(class_loss, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 5 + C, S, S))
    boxes = np.stack([data.make_shapes(3, seed=seed + k)[1] for k in range(2)], axis=1)
    labels = rng.integers(-1, C, (3, 2))
    loss, cache = det.detection_loss_forward(x, boxes, labels, class_loss=class_loss, seed=seed)
    expected = loop_loss(x, boxes, labels, 0.15, 0.6, cache["all_classes"])
    assert loss == pytest.approx(expected, rel=1e-12)
    assert sum(cache["terms"].values()) == pytest.approx(loss, rel=1e-12)


def regimes_case():
    """One image, one box; four cells whose predicted boxes put them in every regime."""
    rng = np.random.default_rng(3)
    x = raw_outputs(rng)
    set_box(x, 0, 1, 1, (0.45, 0.55, 0.2, 0.3))                 # responsible, overlap 0.17
    set_box(x, 0, 0, 1, box_with_iou(0.05, TRUTH[0], 0, 1))     # iou 0.05 <= lo: negative
    set_box(x, 0, 1, 0, box_with_iou(0.2, TRUTH[0], 1, 0))      # lo < iou 0.2 < hi: ignored
    set_box(x, 0, 2, 1, box_with_iou(0.45, TRUTH[0], 2, 1))     # iou 0.45 >= hi: positive
    return x, TRUTH, np.array([1])


def test_the_assignment_puts_each_cell_in_its_regime():
    x, boxes, labels = regimes_case()
    a = det.assign_targets(x, boxes, labels, ignore_band=BAND)
    assert a["responsible"][0].sum() == 1 and a["responsible"][0, 1, 1]
    np.testing.assert_allclose(a["box"][0, 1, 1], [0.5, 0.5, 0.6, 0.6], rtol=1e-12)
    assert a["label"][0, 1, 1] == 1 and (a["label"][0] >= 0).sum() == 1
    np.testing.assert_allclose([a["iou"][0, 0, 1], a["iou"][0, 1, 0], a["iou"][0, 2, 1]],
                               [0.05, 0.2, 0.45], rtol=1e-9)
    assert (a["objectness"][0, 1, 1], a["obj_mask"][0, 1, 1]) == (1, 1)    # responsible
    assert (a["objectness"][0, 0, 1], a["obj_mask"][0, 0, 1]) == (0, 1)    # negative
    assert a["obj_mask"][0, 1, 0] == 0                                      # ignored
    assert (a["objectness"][0, 2, 1], a["obj_mask"][0, 2, 1]) == (1, 1)    # positive by overlap


@pytest.mark.parametrize("class_loss", ["all", "one", "random"])
def test_detection_loss_backward_matches_numeric_gradient_in_every_regime(class_loss):
    x, boxes, labels = regimes_case()
    report = gc.check_op(det.detection_loss_forward, det.detection_loss_backward,
                         [x, boxes, labels],
                         {"class_loss": class_loss, "seed": 4, "ignore_band": BAND})
    assert report.passed, str(report)


@pytest.mark.parametrize("iou", [0.09, 0.11, 0.29, 0.31])
def test_the_gradient_is_right_just_inside_and_outside_each_threshold(iou):
    x, boxes, labels = regimes_case()
    set_box(x, 0, 1, 0, box_with_iou(iou, TRUTH[0], 1, 0))
    report = gc.check_op(det.detection_loss_forward, det.detection_loss_backward,
                         [x, boxes, labels], {"ignore_band": BAND})
    assert report.passed, str(report)
    _, cache = det.detection_loss_forward(x, boxes, labels, ignore_band=BAND)
    ignored = BAND[0] < iou < BAND[1]
    assert cache["obj_mask"][0, 1, 0] == (0 if ignored else 1)


def test_a_central_difference_across_a_threshold_sees_the_jump_not_the_gradient():
    x, boxes, labels = regimes_case()
    set_box(x, 0, 1, 0, box_with_iou(BAND[1], TRUTH[0], 1, 0))   # on the upper threshold
    x[0, 2, 1, 0] -= 1e-7                                # just below it: ignored
    _, cache = det.detection_loss_forward(x, boxes, labels, ignore_band=BAND)
    analytic = det.detection_loss_backward(1.0, cache)[0, 2, 1, 0]
    assert analytic == 0.0                               # an ignored cell's box has no gradient

    def loss_of_width(w):
        x2 = x.copy()
        x2[0, 2, 1, 0] = w
        return det.detection_loss_forward(x2, boxes, labels, ignore_band=BAND)[0]

    w, eps = x[0, 2, 1, 0], 1e-6
    numeric = (loss_of_width(w + eps) - loss_of_width(w - eps)) / (2 * eps)
    jump = -math.log(1 / (1 + math.exp(-x[0, 4, 1, 0])))            # H_b(1, y_c) switched on
    assert numeric == pytest.approx(jump / (2 * eps), rel=1e-3)


def test_every_partial_is_output_minus_target_times_its_weight():
    x, boxes, labels = regimes_case()
    _, cache = det.detection_loss_forward(x, boxes, labels, class_loss="one", ignore_band=BAND)
    dx = det.detection_loss_backward(1.0, cache)[0]
    y = 1 / (1 + np.exp(-x[0]))
    t = np.array([0.5, 0.5, 0.6, 0.6])
    weight = 2 - 0.6 * 0.6
    np.testing.assert_allclose(dx[0:2, 1, 1], weight * (y[0:2, 1, 1] - t[0:2]), rtol=1e-12)
    np.testing.assert_allclose(dx[2:4, 1, 1], weight * (x[0, 2:4, 1, 1] - t[2:4]), rtol=1e-12)
    assert dx[4, 1, 1] == pytest.approx(y[4, 1, 1] - 1)           # positive: y_c - 1
    assert dx[4, 0, 1] == pytest.approx(y[4, 0, 1])               # negative: y_c
    assert dx[4, 1, 0] == 0                                       # ignored
    # 'one': only the true class (1) of the responsible cell has a gradient, y_p - 1.
    assert dx[6, 1, 1] == pytest.approx(y[6, 1, 1] - 1) and dx[5, 1, 1] == 0
    responsible = np.zeros((S, S), dtype=bool)
    responsible[1, 1] = True
    assert not dx[[0, 1, 2, 3, 5, 6]][:, ~responsible].any()     # box and class: r only


def test_the_notes_one_class_gradient_on_every_class_is_caught():
    """Problem 59 gives y_p - t_p for every class in both branches; with the one-class
    cross-entropy the other classes have no gradient."""
    def notes_backward(dout, cache):
        dx = det.detection_loss_backward(dout, cache)
        y = 1 / (1 + np.exp(-cache["x"][:, 5:]))
        dx[:, 5:] = cache["responsible"][:, None] * (y - cache["onehot"]) * cache["scale"]
        return dx

    x, boxes, labels = regimes_case()
    report = gc.check_op(det.detection_loss_forward, notes_backward, [x, boxes, labels],
                         {"class_loss": "one", "ignore_band": BAND})
    assert not report.passed


def test_the_random_class_choice_is_seeded_and_fair():
    rng = np.random.default_rng(5)
    n = 400
    x = rng.standard_normal((n, 5 + C, S, S))
    boxes, labels = data.make_shapes(n, seed=5)[1:]
    _, a = det.detection_loss_forward(x, boxes, labels, class_loss="random", seed=7)
    _, b = det.detection_loss_forward(x, boxes, labels, class_loss="random", seed=7)
    _, c = det.detection_loss_forward(x, boxes, labels, class_loss="random", seed=8)
    np.testing.assert_array_equal(a["all_classes"], b["all_classes"])
    assert (a["all_classes"] != c["all_classes"]).any()
    assert not a["all_classes"][~a["responsible"]].any()
    share = a["all_classes"].sum() / a["responsible"].sum()
    assert 0.42 < share < 0.58                                   # 1/2, within 3 sigma


def test_images_without_objects_and_with_two_objects():
    rng = np.random.default_rng(6)
    x = raw_outputs(rng, n=2)
    boxes = np.array([[[0.2, 0.2, 0.2, 0.2], [0.8, 0.8, 0.3, 0.2]],
                      [[0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]]])
    labels = np.array([[0, 1], [-1, -1]])                          # image 1 has no object
    loss, cache = det.detection_loss_forward(x, boxes, labels)
    assert cache["responsible"][0].sum() == 2 and not cache["responsible"][1].any()
    assert (cache["label"][0, 0, 0], cache["label"][0, 2, 2]) == (0, 1)
    np.testing.assert_array_equal(cache["objectness"][1], 0)       # all negatives
    np.testing.assert_array_equal(cache["obj_mask"][1], 1)
    report = gc.check_op(det.detection_loss_forward, det.detection_loss_backward,
                         [x, boxes, labels])
    assert report.passed, str(report)


def test_sum_reduction_is_n_times_the_mean_and_float32_is_kept():
    x, boxes, labels = regimes_case()
    x2, boxes2, labels2 = np.concatenate([x, x]), np.concatenate([boxes] * 2), np.tile(labels, 2)
    mean, _ = det.detection_loss_forward(x2, boxes2, labels2)
    total, _ = det.detection_loss_forward(x2, boxes2, labels2, reduction="sum")
    assert total == pytest.approx(2 * mean)
    loss, cache = det.detection_loss_forward(x.astype(np.float32), boxes, labels)
    assert loss.dtype == np.float32
    assert det.detection_loss_backward(1.0, cache).dtype == np.float32


def test_box_iou_known_values():
    a = np.array([0.5, 0.5, 0.2, 0.2])
    assert det.box_iou(a, a) == pytest.approx(1.0)
    assert det.box_iou(a, [0.9, 0.9, 0.1, 0.1]) == 0.0                       # disjoint
    assert det.box_iou(a, [0.6, 0.5, 0.2, 0.2]) == pytest.approx(1 / 3)      # half overlaps
    assert det.box_iou(a, [0.5, 0.5, 0.1, 0.2]) == pytest.approx(0.5)        # nested
    assert det.box_iou(a, [0.5, 0.5, -0.1, 0.2]) == 0.0                      # no area
    pairs = np.random.default_rng(7).uniform(0.1, 0.9, (50, 2, 4))
    np.testing.assert_allclose(det.box_iou(pairs[:, 0], pairs[:, 1]),
                               det.box_iou(pairs[:, 1], pairs[:, 0]))


def test_decode_and_predict_boxes_read_the_most_confident_cell():
    rng = np.random.default_rng(8)
    x = raw_outputs(rng, n=2)
    set_box(x, 0, 2, 0, (0.1, 0.9, 0.2, 0.1))
    set_box(x, 1, 0, 2, (0.8, 0.2, 0.3, 0.3))
    x[:, 4] = -5.0
    x[0, 4, 2, 0] = x[1, 4, 0, 2] = 3.0
    x[0, 5:, 2, 0] = [2.0, -1.0]
    x[1, 5:, 0, 2] = [-1.0, 2.0]
    np.testing.assert_allclose(det.decode_boxes(x)[0, 2, 0], [0.1, 0.9, 0.2, 0.1], rtol=1e-12)
    boxes, labels, scores = det.predict_boxes(x)
    np.testing.assert_allclose(boxes, [[0.1, 0.9, 0.2, 0.1], [0.8, 0.2, 0.3, 0.3]], rtol=1e-12)
    np.testing.assert_array_equal(labels, [0, 1])
    np.testing.assert_allclose(scores, 1 / (1 + np.exp(-3.0)))


@pytest.mark.parametrize("call, message", [
    (lambda x, b, l: det.detection_loss_forward(x[:, :5], b, l),
     r"detection_loss: x must have shape \(N, 5 \+ C, S, S\) with C >= 1"),
    (lambda x, b, l: det.detection_loss_forward(x, b[:, :3], l),
     r"detection_loss: boxes must have shape \(N, 4\) or \(N, K, 4\) with N = 1"),
    (lambda x, b, l: det.detection_loss_forward(x, b, l + 5),
     r"detection_loss: labels must lie in \[0, 2\)"),
    (lambda x, b, l: det.detection_loss_forward(x, b, l.astype(float)),
     r"detection_loss: labels must be integers of shape \(1, 1\)"),
    (lambda x, b, l: det.detection_loss_forward(x, b + 1, l),
     r"detection_loss: box centres must lie in \[0, 1\)"),
    (lambda x, b, l: det.detection_loss_forward(x, b, l, ignore_band=(0.6, 0.15)),
     r"detection_loss: ignore_band must satisfy 0 <= lo < hi <= 1"),
    (lambda x, b, l: det.detection_loss_forward(x, b, l, class_loss="some"),
     r"detection_loss: class_loss must be 'all', 'one' or 'random'"),
    (lambda x, b, l: det.detection_loss_backward(np.ones(2),
                                                 det.detection_loss_forward(x, b, l)[1]),
     r"detection_loss_backward: dout must have the output's shape \(\)"),
    (lambda x, b, l: det.box_iou(b[0, :3], b[0]),
     r"box_iou: boxes must have shape \(\.\.\., 4\)"),
    (lambda x, b, l: det.assign_targets(x, b, l, ignore_band=0.5),
     r"assign_targets: ignore_band must be a pair \(lo, hi\)"),
])
def test_bad_input_raises_a_value_error_naming_the_operation(call, message):
    x, boxes, labels = regimes_case()
    with pytest.raises(ValueError, match=message):
        call(x, boxes, labels)


def test_a_cnn_with_the_detection_loss_has_the_right_parameter_gradients():
    rng = np.random.default_rng(9)
    X, boxes, labels = data.make_shapes(2, size=8, seed=9)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(2, 7, 1, rng))

    def loss_and_grads():
        model.zero_grad()
        loss, cache = det.detection_loss_forward(model.forward(X), boxes, labels)
        model.backward(det.detection_loss_backward(1.0, cache))
        return loss

    assert_parameter_gradients_match(model, loss_and_grads)


def test_a_small_cnn_learns_to_locate_the_shape():
    rng = np.random.default_rng(0)
    X, boxes, labels = data.make_shapes(1000, size=16, seed=0)
    Xt, bt, lt = data.make_shapes(200, size=16, seed=1)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, rng, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, rng, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 7, 1, rng))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    before = det.box_iou(det.predict_boxes(model.forward(Xt))[0], bt).mean()
    for _ in range(15):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 50):
            i = order[start:start + 50]
            model.zero_grad()
            _, cache = det.detection_loss_forward(model.forward(X[i]), boxes[i], labels[i])
            model.backward(det.detection_loss_backward(1.0, cache))
            opt.step()
    iou = det.box_iou(det.predict_boxes(model.forward(Xt))[0], bt)
    assert before < 0.1
    assert iou.mean() > 0.45, iou.mean()
    assert (iou > 0.5).mean() > 0.45, (iou > 0.5).mean()


def test_shapes_are_inside_their_boxes_and_seeded():
    X, boxes, labels = data.make_shapes(50, size=24, noise=0.0, seed=10)
    assert X.shape == (50, 1, 24, 24) and X.dtype == np.float64
    assert boxes.shape == (50, 4) and labels.dtype == np.int64 and set(labels) == {0, 1}
    lo, hi = boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2
    assert (lo >= -1e-12).all() and (hi <= 1 + 1e-12).all()
    np.testing.assert_allclose(boxes[labels == 1, 2], boxes[labels == 1, 3])   # discs: square
    centres = (np.arange(24) + 0.5) / 24
    for img, (x0, y0), (x1, y1) in zip(X[:, 0], lo, hi):
        rows, cols = np.nonzero(img)
        assert len(rows) > 0
        assert centres[cols].min() >= x0 and centres[cols].max() <= x1
        assert centres[rows].min() >= y0 and centres[rows].max() <= y1
    rect = X[labels == 0][0, 0]
    assert (rect[rect > 0] == rect.max()).all()          # a filled rectangle, one brightness
    np.testing.assert_array_equal(data.make_shapes(3, seed=1)[0], data.make_shapes(3, seed=1)[0])
    with pytest.raises(ValueError, match="make_shapes: need 0 < min_extent <= max_extent <= 1"):
        data.make_shapes(3, min_extent=0.7, max_extent=0.5)


def test_draw_boxes_draws_one_rectangle_per_box_in_pixels():
    fig, ax = plotting.subplots()
    ax.imshow(np.zeros((10, 20)))
    plotting.draw_boxes(ax, [[0.5, 0.5, 0.2, 0.4], [0.1, 0.1, 0.1, 0.1]], (10, 20), label="true",
                        texts=["a", "b"])
    first = ax.patches[0]
    assert len(ax.patches) == 2 and len(ax.texts) == 2
    assert (first.get_x(), first.get_y(), first.get_width(), first.get_height()) == \
        pytest.approx((7.5, 2.5, 4.0, 4.0))
    with pytest.raises(ValueError, match=r"draw_boxes: boxes must have shape \(K, 4\)"):
        plotting.draw_boxes(ax, np.zeros((2, 3)), 10)
