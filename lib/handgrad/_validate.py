"""Input validation shared by the ops: every error names the op, the argument and the shapes."""

from __future__ import annotations

import numpy as np


def as_float_array(x, op: str, name: str) -> np.ndarray:
    """``x`` as a floating array: float inputs keep their dtype, integer and bool become float64.

    Complex arrays pass through too, so that analytic ops can be checked by the complex step.
    """
    arr = np.asarray(x)
    if np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.complexfloating):
        return arr
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_:
        return arr.astype(np.float64)
    raise ValueError(f"{op}: {name} must be a real array, got dtype {arr.dtype}")


def check_ndim(x: np.ndarray, ndim: int, op: str, name: str, layout: str) -> None:
    if x.ndim != ndim:
        raise ValueError(f"{op}: {name} must have shape {layout} ({ndim}-D), got shape {x.shape}")


def check_same_shape(a: np.ndarray, b: np.ndarray, op: str, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{op}: {name_b} must have the shape of {name_a} {a.shape}, got shape {b.shape}")


def check_axis(x: np.ndarray, axis: int, op: str) -> int:
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for x of shape {x.shape}")
    return axis % x.ndim


def check_reduction(reduction: str, op: str) -> None:
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{op}: reduction must be 'mean' or 'sum', got {reduction!r}")


def check_dout_shape(dout, shape: tuple, op: str) -> np.ndarray:
    d = np.asarray(dout)
    if d.shape != tuple(shape):
        raise ValueError(f"{op}_backward: dout must have the output's shape {tuple(shape)}, "
                         f"got shape {d.shape}")
    return d
