"""Plain-text tables for the tape view and the forward trace: short values, aligned columns."""
import numpy as np


def abbrev(value, count=3):
    """A value in a few characters: ``2.5``, or the shape and the first `count` numbers,
    ``(10, 40) [0.12, -0.3, 0.5, ...]``."""
    array = np.asarray(value)
    if array.size == 1:
        return _number(array.item())
    head = ", ".join(_number(v) for v in array.ravel()[:count])
    more = ", ..." if array.size > count else ""
    return f"{tuple(array.shape)} [{head}{more}]"


def _number(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def show(title, rows, columns):
    """Print `rows` (dicts) under `title`; `columns` maps a header to a function of a row."""
    cells = [[str(cell(row)) for cell in columns.values()] for row in rows]
    widths = [max([len(h)] + [len(r[k]) for r in cells]) for k, h in enumerate(columns)]
    print(title)
    for line in [list(columns)] + cells:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
