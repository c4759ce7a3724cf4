"""handgrad: backpropagation derived by hand, one numpy function per formula.

Modules
-------
gradcheck
    numeric, complex-step and directional gradient checks (chapter 1).
jacobians
    explicit Jacobians of the small functions of chapter 2.
ops
    the public contract: every ``<name>_forward`` / ``<name>_backward`` pair.
plotting
    the book's one plotting style.
display
    showing library source code and tables inside the notebooks.
"""

from . import gradcheck, ops, plotting
from .display import show_source
from .gradcheck import check_op, relative_error

__version__ = "0.1.0"

__all__ = ["gradcheck", "ops", "plotting", "show_source", "check_op", "relative_error", "__version__"]
