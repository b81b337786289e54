"""What interprets an operation now: one answer per thread and per asyncio task.

For every operation ``apply`` (interpreter.py) asks: is the tape recording? which dual levels
are open? which batch levels (vmap) are open? who observes the applications
(``ad.viz.forward_trace``)? The answers are one immutable ``Modes`` value held in a
``contextvars.ContextVar``, so

- each thread starts from the defaults (recording on, no dual level open but level 0, no
  observer), as PyTorch's grad mode is thread-local: one thread's ``no_grad`` or ``jvp`` never
  changes what another records or differentiates;
- each asyncio task starts from a copy of the modes where it was created, and what it changes
  afterwards stays its own.

Each question is answered by a stack of entries, innermost last. ``entered(stack, value)`` pushes
an entry for the length of a ``with`` block and on leaving removes exactly that entry. Properly
nested blocks thus restore the state they saw, and blocks left in crossed order
(``a.__enter__(); b.__enter__(); a.__exit__(); b.__exit__()``) still end in the state from
before both: restoring a snapshot instead (a ContextVar token's reset) would leave b's setting
behind for good.

Levels, dual (jvp) and batch (vmap) alike, are numbered by one counter, ``new_level()``: a
transform entered later gets a higher number, and an operation interprets the highest level among
its inputs first (interpreter.py), so a jvp inside a vmap and a vmap inside a jvp are never
confused. Numbers are never reused.
"""
import contextvars
import itertools
from contextlib import contextmanager

STACKS = ("grad_modes", "dual_levels", "batch_levels", "observers")
new_level = itertools.count(1).__next__   # level numbers for all threads (0 is plain ad.dual's)


class Modes:
    """One immutable state: per stack a tuple of entries, innermost last, and what the
    interpreter reads on every operation, derived once:

        recording    the innermost grad mode (no_grad False, enable_grad True), else True
        dual_level   the innermost open dual level, else 0 (plain ``ad.dual``)
        batching     the open batch levels (a frozenset): vmaps running in this thread or task
        observers    callbacks ``fn(prim, args, params, out)`` run after every application
    """
    __slots__ = STACKS + ("recording", "dual_level", "batching")

    def __init__(self, grad_modes=(), dual_levels=(), batch_levels=(), observers=()):
        self.grad_modes, self.dual_levels, self.observers = grad_modes, dual_levels, observers
        self.batch_levels = batch_levels
        self.recording = grad_modes[-1].value if grad_modes else True
        self.dual_level = dual_levels[-1].value if dual_levels else 0
        self.batching = frozenset(e.value for e in batch_levels)

    def with_stack(self, stack, entries):
        """A copy with `stack` replaced by `entries`."""
        stacks = {name: getattr(self, name) for name in STACKS}
        stacks[stack] = entries
        return Modes(**stacks)


class Entry:
    """One block's entry on a stack; its identity tells it apart from an equal value."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


_CURRENT = contextvars.ContextVar("tinyad_modes", default=Modes())
current = _CURRENT.get          # current() -> the Modes in force in this thread or task


@contextmanager
def entered(stack, value):
    """Push `value` on `stack` (one of STACKS) for the length of a ``with`` block; yields it."""
    entry = Entry(value)
    modes = current()
    _CURRENT.set(modes.with_stack(stack, getattr(modes, stack) + (entry,)))
    try:
        yield value
    finally:
        modes = current()
        entries = getattr(modes, stack)
        kept = tuple(e for e in entries if e is not entry)
        if len(kept) == len(entries):
            raise RuntimeError(f"tinyad: a '{stack}' block was left in a thread or asyncio task "
                               "other than the one that entered it")
        _CURRENT.set(modes.with_stack(stack, kept))
