"""The public contract of handgrad: every forward/backward pair, importable from one place.

Each op ``<name>`` is a pair of plain functions::

    out, cache = ops.<name>_forward(*inputs, **options)
    grads = ops.<name>_backward(dout, cache)

``grads`` is the gradient of each differentiable input in the forward's argument order: one array
when there is one, a tuple otherwise; a loss's backward returns the gradient of its prediction
only. Arrays are batch first and follow PyTorch's functional conventions. The table of the
contract is in the book's design (BOOK.md) and on the library reference page.

The chapters fill this module as they derive each op; ``ops.__all__`` lists what exists today.
"""

__all__: list[str] = []
