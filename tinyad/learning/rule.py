"""The interface every learning rule shares.

    loss = rule.update_direction(model, loss_fn, x, y)

computes the loss on the batch (x, y) as a float and accumulates the rule's update direction into
each parameter's ``.grad`` (adding to what is there, as ``loss.backward()`` does with the gradient),
so ``opt.zero_grad(); rule.update_direction(model, loss_fn, x, y); opt.step()`` trains with any
rule. The direction is the exact gradient for backprop, an unbiased random estimate of it for
forward gradients (which never run a backward pass), and a different, aligned vector for feedback
alignment. ``loss_fn(logits, y)`` returns a scalar Tensor.
"""


class LearningRule:
    """Base of the learning rules: subclasses define ``update_direction`` and a short ``name``."""
    name = None

    def update_direction(self, model, loss_fn, x, y):
        raise NotImplementedError(f"{type(self).__name__} must define update_direction()")

    def backward(self, model, loss_fn, x, y):
        """The first name of ``update_direction``, kept for code written against it."""
        return self.update_direction(model, loss_fn, x, y)
