"""A check shared by the tests of whole models: every parameter's gradient against a numeric one."""

from handgrad import gradcheck as gc


def assert_parameter_gradients_match(model, loss_and_grads, eps=1e-6, tol=1e-7):
    """``loss_and_grads()`` must return the loss and leave fresh gradients in the parameters.

    The analytic gradients are copied before any parameter is perturbed; then each parameter's
    gradient is compared with central differences of the loss in that parameter alone.
    """
    loss_and_grads()
    analytic_grads = [p.grad.copy() for p in model.parameters()]
    for p, analytic in zip(model.parameters(), analytic_grads):

        def loss_of(value, p=p):
            saved = p.value
            p.value = value
            out = loss_and_grads()
            p.value = saved
            return out

        error = gc.relative_error(analytic, gc.numeric_gradient(loss_of, p.value, eps))
        assert error < tol, f"{p}: relative error {error:.1e}"
