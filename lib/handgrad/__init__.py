"""handgrad: backpropagation derived by hand, one numpy function per formula.

Modules
-------
ops
    the public contract: every ``<name>_forward`` / ``<name>_backward`` pair (defined in
    ``activations``, ``losses``, ``linear``, ``batchnorm``, ``conv``, ``pool``, ``local``,
    ``recurrent``, ``bilinear``).
tensors, conv, inclusions
    contractions of tensors; im2col, col2im and the reference convolution; the embeddings of
    pooling, convolution, tiled and locally connected layers into one another.
detection
    a YOLO-style detection loss, its target assignment and box overlaps.
gradcheck
    numeric, complex-step and directional gradient checks.
jacobians
    explicit Jacobians of the small functions of the chain-rule chapter.
nn, optim, training
    layer objects, a sequential container, SGD with momentum and Adam, the training loop.
data
    small data sets made offline.
plotting
    the book's one plotting style.
display
    showing library source code inside the notebooks.
"""

from . import gradcheck, ops, plotting
from .display import show_source
from .gradcheck import check_op, relative_error

__version__ = "0.1.0"

__all__ = ["gradcheck", "ops", "plotting", "show_source", "check_op", "relative_error", "__version__"]
