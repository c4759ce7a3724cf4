r"""Batch normalization in training mode: batch statistics, biased variance.

For each feature (a column of an (N, D) input, or a channel of an (N, C, H, W) input) over its
:math:`m` values in the batch (:math:`m = N`, or :math:`m = NHW`):

.. math::

    \mu = \tfrac1m \textstyle\sum_i x_i, \quad \sigma^2 = \tfrac1m \sum_i (x_i - \mu)^2, \quad
    \hat x_i = (x_i - \mu)/\sqrt{\sigma^2 + \epsilon}, \quad y_i = \gamma \hat x_i + \beta.

The backward is the compact formula
:math:`\partial L/\partial x_i = \frac{\gamma}{m \sqrt{\sigma^2+\epsilon}}
\big(m\, g_i - \sum_j g_j - \hat x_i \sum_j g_j \hat x_j\big)`;
:func:`batchnorm_backward_staged` is the same gradient through the intermediate quantities
(:math:`\hat x`, :math:`\sigma^2`, :math:`\mu`), kept as the reference the chapter derives first.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_dout_shape

__all__ = ["batchnorm_forward", "batchnorm_backward", "batchnorm_backward_staged"]


def _layout(x, gamma, beta, op="batchnorm"):
    if x.ndim == 2:
        axes, pshape, feat = (0,), (1, -1), x.shape[1]
    elif x.ndim == 4:
        axes, pshape, feat = (0, 2, 3), (1, -1, 1, 1), x.shape[1]
    else:
        raise ValueError(f"{op}: x must have shape (N, D) or (N, C, H, W), got shape {x.shape}")
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p.shape != (feat,):
            what = "(D,)" if x.ndim == 2 else "(C,)"
            raise ValueError(f"{op}: {name} must have shape {what} = ({feat},) to match x "
                             f"{x.shape}, got shape {p.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{op}: x must hold at least one sample, got shape {x.shape}")
    return axes, pshape


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch normalization with the statistics of this batch (training mode).

    Parameters
    ----------
    x : ndarray, shape (N, D) or (N, C, H, W)
        Normalised per column (D features) or per channel (C channels, over N, H and W).
    gamma : ndarray, shape (D,) or (C,)
        Scale.
    beta : ndarray, shape (D,) or (C,)
        Shift.
    eps : float
        Added to the variance; keeps the output finite for a constant feature or a batch of one.

    Returns
    -------
    y : ndarray, shape of ``x``
    cache : tuple
        ``(x_hat, gamma, inv_std, axes, m)`` with ``inv_std = 1 / sqrt(var + eps)``, plus what
        the staged backward needs.
    """
    op = "batchnorm"
    x = as_float_array(x, op, "x")
    gamma = as_float_array(gamma, op, "gamma")
    beta = as_float_array(beta, op, "beta")
    axes, pshape = _layout(x, gamma, beta)
    m = x.size // x.shape[1]
    mu = x.mean(axis=axes, keepdims=True)
    xc = x - mu
    var = _feature_sum(xc * xc, axes) / m
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xc * inv_std
    g = gamma.reshape(pshape)
    y = x_hat * g          # in place from here on: no temporary arrays of the size of x
    y += beta.reshape(pshape)
    return y, (x_hat, g, inv_std, axes, m, xc, var, eps)


def _feature_sum(a, axes):
    """Sum over the batch (and H, W) of each feature, kept as (1, D) or (1, C, 1, 1)."""
    if a.ndim == 4:  # contiguous per channel: sum each (H*W) row, then over the batch
        n, c = a.shape[:2]
        return a.reshape(n, c, -1).sum(axis=2).sum(axis=0).reshape(1, c, 1, 1)
    return a.sum(axis=axes, keepdims=True)


def batchnorm_backward(dy, cache):
    r"""Gradients of batch normalization, by the compact formula.

    :math:`\partial L/\partial x = \frac{\gamma}{m\sqrt{\sigma^2+\epsilon}}
    (m\,g - \textstyle\sum g - \hat x \sum g \hat x)`, :math:`\partial L/\partial\gamma = \sum g \hat x`,
    :math:`\partial L/\partial\beta = \sum g`, sums over the batch (and H, W) of each feature.

    Parameters
    ----------
    dy : ndarray, shape of ``x``
    cache : from :func:`batchnorm_forward`

    Returns
    -------
    dx : ndarray, shape of ``x``
    dgamma : ndarray, shape (D,) or (C,)
    dbeta : ndarray, shape (D,) or (C,)
    """
    x_hat, g, inv_std, axes, m = cache[:5]
    dy = check_dout_shape(dy, x_hat.shape, "batchnorm")
    dbeta = _feature_sum(dy, axes)
    dgamma = _feature_sum(dy * x_hat, axes)
    # dx = (g inv_std / m) (m dy - dbeta - x_hat dgamma), evaluated in place
    dx = x_hat * dgamma
    dx += dbeta
    np.subtract(m * dy, dx, out=dx)
    dx *= g * inv_std / m
    return dx, dgamma.ravel(), dbeta.ravel()


def batchnorm_backward_staged(dy, cache):
    r"""The same gradients, staged through :math:`\hat x`, :math:`\sigma^2` and :math:`\mu`.

    :math:`\partial L/\partial\hat x = \gamma g`;
    :math:`\partial L/\partial\sigma^2 = -\tfrac12 \sum \partial L/\partial\hat x\,(x-\mu)(\sigma^2+\epsilon)^{-3/2}`;
    :math:`\partial L/\partial\mu = -\sum \partial L/\partial\hat x\,(\sigma^2+\epsilon)^{-1/2}
    - \tfrac2m \partial L/\partial\sigma^2 \sum (x-\mu)`;
    :math:`\partial L/\partial x = \partial L/\partial\hat x\,(\sigma^2+\epsilon)^{-1/2}
    + \tfrac2m \partial L/\partial\sigma^2 (x-\mu) + \tfrac1m \partial L/\partial\mu`.

    Parameters and returns as :func:`batchnorm_backward`.
    """
    x_hat, g, inv_std, axes, m, xc, var, eps = cache
    dy = check_dout_shape(dy, x_hat.shape, "batchnorm")
    dx_hat = dy * g
    dvar = np.sum(dx_hat * xc, axis=axes, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmu = (-np.sum(dx_hat, axis=axes, keepdims=True) * inv_std
           - 2.0 / m * dvar * np.sum(xc, axis=axes, keepdims=True))
    dx = dx_hat * inv_std + 2.0 / m * dvar * xc + dmu / m
    dgamma = np.sum(dy * x_hat, axis=axes)
    dbeta = dy.sum(axis=axes)
    return dx, dgamma, dbeta
