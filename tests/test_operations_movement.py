"""Shape and movement: pad (NumPy's and PyTorch's forms, every mode), flip, roll, tril/triu,
diagonal/diag, tile/repeat, unsqueeze/flatten/unflatten, split/array_split/chunk,
permute/moveaxis/swapaxes: values against NumPy and derivatives by gradcheck."""
import numpy as np
import pytest

import tinyad as ad
from tinyad.nn import functional as F

RNG = np.random.default_rng(2)
X = RNG.uniform(-2, 2, (2, 3, 4))


def t(v):
    return ad.tensor(np.asarray(v, dtype=np.float64))


# each: (ours, NumPy's), on X
MOVES = {
    "flip": (lambda x: ad.flip(x, 1), lambda x: np.flip(x, 1)),
    "flip_all": (ad.flip, np.flip),
    "flip_two": (lambda x: x.flip((0, -1)), lambda x: np.flip(x, (0, -1))),
    "roll": (lambda x: ad.roll(x, 2, -1), lambda x: np.roll(x, 2, -1)),
    "roll_flat": (lambda x: ad.roll(x, -5), lambda x: np.roll(x, -5)),
    "roll_axes": (lambda x: ad.roll(x, (1, 7), (0, 2)), lambda x: np.roll(x, (1, 7), (0, 2))),
    "tril": (lambda x: ad.tril(x, -1), lambda x: np.tril(x, -1)),
    "triu": (lambda x: x.triu(1), lambda x: np.triu(x, 1)),
    "diagonal": (lambda x: ad.diagonal(x, 1, 1, 2), lambda x: np.diagonal(x, 1, 1, 2)),
    "diagonal_neg": (lambda x: x.diagonal(-1, -1, 0), lambda x: np.diagonal(x, -1, -1, 0)),
    "diag_of_matrix": (lambda x: ad.diag(x[0], 1), lambda x: np.diag(x[0], 1)),
    "diag_of_vector": (lambda x: ad.diag(x[0, 0], -2), lambda x: np.diag(x[0, 0], -2)),
    "tile": (lambda x: ad.tile(x, (2, 1, 1, 3)), lambda x: np.tile(x, (2, 1, 1, 3))),
    "tile_short": (lambda x: x.tile(2), lambda x: np.tile(x, 2)),
    "repeat": (lambda x: ad.repeat(x, 2, 1), lambda x: np.repeat(x, 2, 1)),
    "repeat_flat": (lambda x: x.repeat(2), lambda x: np.repeat(x, 2)),
    "repeat_counts": (lambda x: ad.repeat_interleave(x, [0, 2, 1], 1),
                      lambda x: np.repeat(x, [0, 2, 1], 1)),
    "unsqueeze": (lambda x: ad.unsqueeze(x, -2), lambda x: np.expand_dims(x, -2)),
    "squeeze": (lambda x: x[:, :1].squeeze(1), lambda x: x[:, :1].squeeze(1)),
    "flatten": (lambda x: ad.flatten(x, 1), lambda x: x.reshape(2, 12)),
    "flatten_all": (lambda x: x.flatten(), lambda x: x.flatten()),
    "unflatten": (lambda x: ad.unflatten(x, -1, (2, -1)), lambda x: x.reshape(2, 3, 2, 2)),
    "permute": (lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1)),
    "moveaxis": (lambda x: ad.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1)),
    "movedim_two": (lambda x: x.movedim((0, 1), (2, 0)), lambda x: np.moveaxis(x, (0, 1), (2, 0))),
    "swapaxes": (lambda x: ad.swapdims(x, 0, 2), lambda x: np.swapaxes(x, 0, 2)),
}


@pytest.mark.parametrize("name", sorted(MOVES))
def test_movements_match_numpy_with_derivatives(name):
    ours, theirs = MOVES[name]
    np.testing.assert_array_equal(ours(t(X)).numpy(), theirs(X))
    assert ad.gradcheck(ours, t(X), order=2)


def test_integer_tensors_keep_their_dtype():
    i = ad.tensor(np.arange(12, dtype=np.int32).reshape(3, 4))
    for out in (ad.tril(i), ad.flip(i), ad.roll(i, 1), ad.tile(i, 2), ad.repeat(i, 2),
                ad.diagonal(i), ad.diag(i[0]), ad.pad(i, 1), ad.pad(i, 1, "reflect")):
        assert out.dtype == np.int32


MODES = ["constant", "reflect", "edge", "wrap", "symmetric"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("widths", [1, (2, 1), ((0, 0), (2, 3), (1, 0)), ((1, 7), (0, 0), (9, 4))])
def test_pad_matches_numpy_in_every_mode(mode, widths):
    np.testing.assert_array_equal(ad.pad(t(X), widths, mode).numpy(), np.pad(X, widths, mode))
    assert ad.gradcheck(lambda x: ad.pad(x, widths, mode), t(X))


def test_pad_constant_value_pytorch_names_and_errors():
    np.testing.assert_array_equal(ad.pad(t(X), 1, value=-2.5).numpy(),
                                  np.pad(X, 1, constant_values=-2.5))
    np.testing.assert_array_equal(ad.pad(t(X), 2, "replicate").numpy(), np.pad(X, 2, "edge"))
    np.testing.assert_array_equal(ad.pad(t(X), 5, "circular").numpy(), np.pad(X, 5, "wrap"))
    np.testing.assert_array_equal(ad.pad(t([[3.0]]), 2, "reflect").numpy(),   # one entry: kept
                                  np.pad([[3.0]], 2, "reflect"))
    with pytest.raises(ad.ShapeError, match="pad_width"):
        ad.pad(t(X), ((1, 1), (1, 1)))
    with pytest.raises(ad.ShapeError, match=">= 0"):
        ad.pad(t(X), -1)
    with pytest.raises(ValueError, match="mode"):
        ad.pad(t(X), 1, "mirror")
    with pytest.raises(ad.ShapeError, match="no entry to copy"):
        ad.pad(t(np.zeros((0, 2))), 1, "edge")


def test_functional_pad_reads_pairs_from_the_last_axis_backwards():
    out = F.pad(t(X), (1, 2, 3, 0), value=9.0)                     # W: (1, 2), H: (3, 0)
    np.testing.assert_array_equal(out.numpy(),
                                  np.pad(X, ((0, 0), (3, 0), (1, 2)), constant_values=9.0))
    np.testing.assert_array_equal(F.pad(t(X), (2, 2), "reflect").numpy(),
                                  np.pad(X, ((0, 0), (0, 0), (2, 2)), "reflect"))
    np.testing.assert_array_equal(F.pad(t(X), (1, 1, 1, 1), "circular").numpy(),
                                  np.pad(X, ((0, 0), (1, 1), (1, 1)), "wrap"))
    with pytest.raises(ad.ShapeError, match="smaller than the axis"):
        F.pad(t(X), (4, 0), "reflect")
    with pytest.raises(ad.ShapeError, match="pairs"):
        F.pad(t(X), (1, 1, 1))


SPLITS = [
    (lambda x: ad.split(x, 2, 2), lambda x: np.split(x, 2, 2)),
    (lambda x: ad.split(x, [1, -1, 10], -1), lambda x: np.split(x, [1, -1, 10], -1)),
    (lambda x: ad.array_split(x, 3, 2), lambda x: np.array_split(x, 3, 2)),
    (lambda x: ad.array_split(x, [2], 1), lambda x: np.array_split(x, [2], 1)),
    (lambda x: ad.chunk(x, 3, 2), lambda x: [x[..., :2], x[..., 2:]]),       # PyTorch's sizes
    (lambda x: x.chunk(2, 1), lambda x: [x[:, :2], x[:, 2:]]),
    (lambda x: ad.chunk(x, 5, 0), lambda x: [x[:1], x[1:]]),
]


@pytest.mark.parametrize("ours, theirs", SPLITS)
def test_splits_match_with_derivatives(ours, theirs):
    pieces = ours(t(X))
    want = theirs(X)
    assert len(pieces) == len(want)
    for p, w in zip(pieces, want):
        np.testing.assert_array_equal(p.numpy(), w)
    weights = [RNG.uniform(size=w.shape) for w in want]
    assert ad.gradcheck(lambda x: sum((p * w).sum() for p, w in zip(ours(x), weights)), t(X))


def test_movement_errors_name_the_operation_and_shape():
    x = t(X)
    for call, match in ((lambda: ad.split(x, 3, 2), r"split: axis 2 of length 4 \(shape"),
                        (lambda: ad.permute(x, 1, 0), "permute: needs all 3 axes"),
                        (lambda: ad.unflatten(x, 2, (3, -1)), "unflatten: sizes"),
                        (lambda: ad.flatten(x, 2, 1), "flatten: start axis"),
                        (lambda: ad.repeat(x, [1, 2], 1), "repeat: repeats"),
                        (lambda: ad.tile(x, -1), "tile"), (lambda: ad.tril(t([1.0])), "tril"),
                        (lambda: ad.diagonal(x, 0, 1, -2), "diagonal: axis1 and axis2"),
                        (lambda: ad.moveaxis(x, (0, 1), 2), "moveaxis"),
                        (lambda: ad.roll(x, (1, 2), 0), "roll"),
                        (lambda: ad.chunk(x, 0), "chunk")):
        with pytest.raises(ad.ShapeError, match=match):
            call()
    with pytest.raises(ad.AxisError, match="flip"):
        ad.flip(x, 3)
