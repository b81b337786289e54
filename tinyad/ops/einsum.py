"""einsum: NumPy's subscript language (explicit ``->`` or implicit output, ``...`` for
broadcast axes, a letter repeated within one operand for a diagonal), composed from the table.

Each operand first loses its repeated letters (``diagonal``) and the letters nothing else needs
(``sum``). Operands are then contracted left to right, two at a time, as one batched ``matmul``:

    A (batch, free_a, shared) @ B (batch, shared, free_b) -> (batch, free_a, free_b)

where "batch" letters are in both and still needed (by the output or a later operand),
"shared" letters are in both and needed no more (summed by the product), and "free" letters
are in one of the two. A letter of size 1 broadcasts against the same letter's other size. No
(n, n, n) outer product is ever formed, and both derivatives come from the pieces.
"""
import math
import string

from ..errors import ShapeError
from .linalg import matmul
from .lifting import lift
from .reductions import sum
from .shape import broadcast_to, reshape, transpose
from .triangles import diagonal

LETTERS = set(string.ascii_letters)


def _parse(subscripts, operands):
    """Input terms (one letter per axis, ellipses expanded) and the output term."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ShapeError(f"einsum: '{subscripts}' names {len(terms)} operands, got "
                         f"{len(operands)}")
    if any(c not in LETTERS for c in spec.replace("...", "").replace(",", "")
           .replace("->", "")):
        raise ShapeError(f"einsum: '{subscripts}' may use only letters, ',', '->' and '...'")
    spare = iter(sorted(chr(c) for c in range(0x100, 0x140)))     # letters for '...' axes
    widths = [x.ndim - (len(t) - 3) if "..." in t else 0 for t, x in zip(terms, operands)]
    ellipsis = "".join(next(spare) for _ in range(max(widths, default=0)))
    expanded = []
    for t, x, w in zip(terms, operands, widths):
        t = t.replace("...", ellipsis[len(ellipsis) - w:]) if "..." in t else t
        if len(t) != x.ndim or w < 0:
            raise ShapeError(f"einsum: term '{t}' of '{subscripts}' does not match an operand "
                             f"of shape {x.shape}")
        expanded.append(t)
    if arrow:
        out = rhs.replace("...", ellipsis)
    else:
        counts = "".join(expanded)
        out = ellipsis + "".join(sorted(c for c in set(counts) - set(ellipsis)
                                        if counts.count(c) == 1))
    if len(set(out)) != len(out) or not set(out) <= set("".join(expanded)):
        raise ShapeError(f"einsum: the output of '{subscripts}' must name each input letter "
                         "at most once and no other")
    return expanded, out


def _sizes(subscripts, terms, operands):
    sizes = {}
    for t, x in zip(terms, operands):
        for c, n in zip(t, x.shape):
            known = sizes.get(c, 1)
            if known != 1 and n not in (1, known):
                raise ShapeError(f"einsum: letter '{c}' of '{subscripts}' has sizes "
                                 f"{known} and {n} (operand shapes "
                                 f"{[o.shape for o in operands]})")
            sizes[c] = n if known == 1 else known
    return sizes


def _without_repeats(x, term):
    """x with each repeated letter's axes replaced by their diagonal (as the last axis)."""
    for c in sorted(set(term)):
        while term.count(c) > 1:
            first = term.index(c)
            second = term.index(c, first + 1)
            x = diagonal(x, 0, first, second)
            term = term[:first] + term[first + 1:second] + term[second + 1:] + c
    return x, term


def _sum_out(x, term, needed):
    """Sum the letters of term that `needed` does not hold."""
    gone = tuple(i for i, c in enumerate(term) if c not in needed)
    if not gone:
        return x, term
    return sum(x, gone), "".join(c for c in term if c in needed)


def _arrange(x, term, order, sizes):
    """x with its axes in `order` (letters), broadcast to the letters' full sizes."""
    x = transpose(x, *[term.index(c) for c in order]) if term != order else x
    return broadcast_to(x, tuple(sizes[c] for c in order))


def _contract(a, ta, b, tb, needed, sizes):
    batch = [c for c in ta if c in tb and c in needed]
    shared = [c for c in ta if c in tb and c not in needed]
    free_a = [c for c in ta if c not in tb]
    free_b = [c for c in tb if c not in ta]
    size = lambda letters: math.prod(sizes[c] for c in letters)      # noqa: E731
    a = reshape(_arrange(a, ta, "".join(batch + free_a + shared), sizes),
                size(batch), size(free_a), size(shared))
    b = reshape(_arrange(b, tb, "".join(batch + shared + free_b), sizes),
                size(batch), size(shared), size(free_b))
    term = "".join(batch + free_a + free_b)
    return reshape(matmul(a, b), *(sizes[c] for c in term)), term


def einsum(subscripts, *operands):
    """Sums of products over the letters of `subscripts`, as NumPy's einsum:
    ``einsum("ij,jk->ik", a, b)`` is a @ b, ``einsum("ii", a)`` the trace, ``einsum("bi,bi->b",
    x, y)`` rowwise dot products."""
    operands = [lift(x) for x in operands]
    terms, out = _parse(subscripts, operands)
    sizes = _sizes(subscripts, terms, operands)
    pieces = []
    for i, (x, t) in enumerate(zip(operands, terms)):
        x, t = _without_repeats(x, t)
        others = "".join(terms[:i] + terms[i + 1:])
        pieces.append(_sum_out(x, t, out + others))
    x, t = pieces[0]
    for i, (y, u) in enumerate(pieces[1:], start=1):
        later = out + "".join(v for _, v in pieces[i + 1:])
        x, t = _sum_out(x, t, later + u)
        y, u = _sum_out(y, u, later + t)
        x, t = _contract(x, t, y, u, later, sizes)
    x, t = _sum_out(x, t, out)
    return _arrange(x, t, out, sizes)
