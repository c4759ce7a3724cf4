r"""Optimisers: SGD with momentum and Adam, updating :class:`handgrad.nn.Parameter` objects.

Both read ``p.grad`` and change ``p.value`` in place; the state they keep (velocities, moments)
is per parameter and explicit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SGD", "Adam"]


class SGD:
    r"""Stochastic gradient descent with (heavy-ball) momentum.

    :math:`v \leftarrow \mu v - \eta g`, :math:`\theta \leftarrow \theta + v`; ``momentum=0``
    is plain gradient descent :math:`\theta \leftarrow \theta - \eta g`.

    Parameters
    ----------
    params : list of Parameter
    lr : float
        The learning rate :math:`\eta`.
    momentum : float
        :math:`\mu \in [0, 1)`.
    """

    def __init__(self, params, lr: float = 0.1, momentum: float = 0.0):
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"SGD: need lr > 0 and 0 <= momentum < 1, got lr={lr}, "
                             f"momentum={momentum}")
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        for p, v in zip(self.params, self.velocity):
            v *= self.momentum
            v -= self.lr * p.grad
            p.value += v


class Adam:
    r"""Adam (Kingma and Ba, 2015): steps scaled by running moments of the gradient.

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)` with the
    bias-corrected :math:`\hat m = m / (1 - \beta_1^t)`, :math:`\hat v = v / (1 - \beta_2^t)`.

    Parameters
    ----------
    params : list of Parameter
    lr : float
    betas : (float, float)
    eps : float
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        if lr <= 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: need lr > 0 and betas in [0, 1), got lr={lr}, betas={betas}")
        self.params, self.lr, self.betas, self.eps = list(params), lr, tuple(betas), eps
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            m *= b1
            m += (1 - b1) * p.grad
            v *= b2
            v += (1 - b2) * p.grad ** 2
            m_hat = m / (1 - b1 ** self.t)
            v_hat = v / (1 - b2 ** self.t)
            p.value -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
