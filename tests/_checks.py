"""A check shared by the tests of whole models: every parameter's gradient against a numeric one."""

from handgrad.training import parameter_gradient_errors


def assert_parameter_gradients_match(model, loss_and_grads, eps=1e-6, tol=1e-7):
    """``loss_and_grads()`` must return the loss and leave fresh gradients in the parameters."""
    errors = parameter_gradient_errors(model, loss_and_grads, eps)
    for p, error in zip(model.parameters(), errors):
        assert error < tol, f"{p}: relative error {error:.1e}"
