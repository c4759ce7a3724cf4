"""The public contract of handgrad: every forward/backward pair, importable from one place.

Each op ``<name>`` is a pair of plain functions::

    out, cache = ops.<name>_forward(*inputs, **options)
    grads = ops.<name>_backward(dout, cache)

``grads`` is the gradient of each differentiable input in the forward's argument order: one array
when there is one, a tuple otherwise; a loss's backward returns the gradient of its prediction
only. Arrays are batch first and follow PyTorch's functional conventions; floating dtypes are kept
(float32 in, float32 out). Bad input raises a ``ValueError`` naming the op, the argument and the
shapes. The table of the contract is on the library reference page.

The chapters fill this module as they derive each op; ``ops.__all__`` lists what exists today.
"""

from .activations import (logistic_backward, logistic_forward, relu_backward, relu_forward,
                          sigmoid_backward, sigmoid_forward, tanh_backward, tanh_forward)
from .batchnorm import batchnorm_backward, batchnorm_forward
from .bilinear import bilinear_backward, bilinear_forward
from .conv import conv1d_backward, conv1d_forward, conv2d_backward, conv2d_forward
from .linear import linear_backward, linear_forward
from .local import (locally_connected2d_backward, locally_connected2d_forward,
                    tiled_conv2d_backward, tiled_conv2d_forward)
from .losses import (bce_with_logits_backward, bce_with_logits_forward, cross_entropy_backward,
                     cross_entropy_forward, log_softmax_backward, log_softmax_forward,
                     mse_backward, mse_forward, softmax_backward, softmax_forward)
from .recurrent import (lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward,
                        rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward)
from .pool import (avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward,
                   max_pool2d_forward)

#: The op names that exist, each with a ``<name>_forward`` and a ``<name>_backward``.
OPS = ["sigmoid", "logistic", "tanh", "relu", "softmax", "log_softmax", "cross_entropy",
       "bce_with_logits", "mse", "linear", "batchnorm", "conv1d", "conv2d", "avg_pool2d",
       "max_pool2d", "locally_connected2d", "tiled_conv2d", "rnn_step", "rnn", "lstm_step",
       "lstm", "bilinear"]

__all__ = ["OPS"] + [f"{name}_{half}" for name in OPS for half in ("forward", "backward")]
