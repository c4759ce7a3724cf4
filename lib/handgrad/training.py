"""The training loop: mini-batches, a loss op, an optimiser, and a record of every epoch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import ops
from .sequence import clip_grad_norm

__all__ = ["History", "fit", "accuracy", "network_loss_and_grads", "parameter_gradient_errors",
           "network_gradient_errors"]


@dataclass
class History:
    """Per-epoch record of a training: mean training loss, and accuracies when classifying."""

    loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)


def accuracy(model, X, y) -> float:
    """Fraction of samples of ``X`` (N, ...) whose largest output is the class in ``y`` (N,)."""
    return float(np.mean(np.argmax(model.forward(X), axis=1) == y))


def network_loss_and_grads(model, X, y, loss: str = "cross_entropy"):
    """One forward and backward pass of ``model`` on (X, y) with a loss op of :mod:`handgrad.ops`.

    Returns the loss and leaves the gradients of the batch in the parameters (zeroed first).
    """
    fwd, bwd = getattr(ops, f"{loss}_forward"), getattr(ops, f"{loss}_backward")
    model.zero_grad()
    value, cache = fwd(model.forward(X), y)
    model.backward(bwd(1.0, cache))
    return float(value)


def parameter_gradient_errors(model, loss_and_grads, eps: float = 1e-6, loss=None) -> list:
    """Check every parameter's gradient against central differences of the loss.

    ``loss_and_grads()`` returns the loss and leaves the gradients in the parameters (zeroed
    first), as :func:`network_loss_and_grads` does. Its gradients are copied once; then each
    parameter in turn is perturbed entry by entry (:func:`handgrad.gradcheck.numeric_gradient`)
    and restored.

    Parameters
    ----------
    model : any layer with ``parameters()``
    loss_and_grads : callable, no arguments
    eps : float
        Step of the central differences.
    loss : callable, no arguments, optional
        The loss alone, without a backward (faster); by default ``loss_and_grads``.

    Returns
    -------
    list of float
        The relative error of each parameter's gradient, in the order of ``model.parameters()``.
    """
    from .gradcheck import numeric_gradient, relative_error

    loss = loss or loss_and_grads
    loss_and_grads()
    analytic = [p.grad.copy() for p in model.parameters()]
    errors = []
    for p, grad in zip(model.parameters(), analytic):
        start = p.value.copy()

        def loss_at(value, p=p):
            p.value = value
            return float(loss())

        numeric = numeric_gradient(loss_at, start, eps=eps)
        p.value = start
        errors.append(relative_error(grad, numeric))
    return errors


def network_gradient_errors(model, X, y, eps: float = 1e-6, loss: str = "cross_entropy") -> list:
    """:func:`parameter_gradient_errors` for ``model`` on one batch (X, y) with a loss op."""
    fwd = getattr(ops, f"{loss}_forward")
    return parameter_gradient_errors(model, lambda: network_loss_and_grads(model, X, y, loss),
                                     eps, loss=lambda: fwd(model.forward(X), y)[0])


def fit(model, optimizer, X, y, *, epochs: int, batch_size: int, rng: np.random.Generator,
        loss: str = "cross_entropy", X_val=None, y_val=None, classify: bool = True,
        max_norm: float | None = None) -> History:
    """Train ``model`` with mini-batch gradient steps and record each epoch.

    Parameters
    ----------
    model : handgrad.nn.Sequential (or any layer with parameters/zero_grad/forward/backward)
    optimizer : handgrad.optim.SGD or Adam, built on ``model.parameters()``
    X : ndarray, shape (N, ...)
        Samples along the first axis: vectors (N, D) or images (N, C, H, W).
    y : ndarray, shape (N,) of int for 'cross_entropy', or the target array of the loss
    epochs, batch_size : int
    rng : numpy Generator
        Shuffles the samples at every epoch.
    loss : str
        Name of a loss op: 'cross_entropy', 'mse' or 'bce_with_logits'.
    X_val, y_val : ndarray, optional
        A held-out set whose accuracy is recorded.
    classify : bool
        Record accuracies (argmax of the outputs against integer labels).
    max_norm : float, optional
        Clip the gradients of each batch to this joint norm before the step
        (:func:`handgrad.sequence.clip_grad_norm`).

    Returns
    -------
    History
    """
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"fit: y must have {n} rows to match X {X.shape}, got shape {y.shape}")
    history = History()
    for _ in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            total += network_loss_and_grads(model, X[idx], y[idx], loss) * len(idx)
            if max_norm is not None:
                clip_grad_norm(model.parameters(), max_norm)
            optimizer.step()
        history.loss.append(total / n)
        if classify:
            history.train_accuracy.append(accuracy(model, X, y))
            if X_val is not None:
                history.val_accuracy.append(accuracy(model, X_val, y_val))
    return history
