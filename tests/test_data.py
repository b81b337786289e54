"""tinyad.data: IDX files, MNIST-style loaders (local folders, checked download), DataLoader,
synthetic sets. No test touches the internet: downloads come from a local http.server."""
import ast
import functools
import gzip
import hashlib
import http.server
import json
import os
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinyad import data
from tinyad.data import datasets

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def test_data_package_imports_nothing_else_from_tinyad():
    for source in Path(data.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1 and not (node.module or "").startswith("tinyad"), source
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("tinyad") for a in node.names), source


# ---------------------------------------------------------------- IDX files

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@given(array=hnp.arrays(st.sampled_from(IDX_DTYPES),
                        hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)),
       compress=st.booleans())
def test_idx_round_trip(array, compress):
    with tempfile.TemporaryDirectory() as tmp:
        path = data.write_idx(Path(tmp) / "a.idx", array, gzip=compress)
        assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
        back = data.read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative and back.flags.writeable
    np.testing.assert_array_equal(back, array)


def test_idx_layout_and_gzip_detected_by_content(tmp_path):
    raw = data.write_idx(tmp_path / "raw.gz", np.array([[1, 2, 3], [4, 5, 6]], np.int16))
    header, payload = "0000 0b02 00000002 00000003", "0001 0002 0003 0004 0005 0006"
    assert raw.read_bytes() == bytes.fromhex(header + payload)
    packed = data.write_idx(tmp_path / "packed.idx", np.arange(3, dtype=np.uint8), gzip=True)
    np.testing.assert_array_equal(data.read_idx(raw), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(data.read_idx(packed), [0, 1, 2])


def _idx_bytes(folder, array):
    return data.write_idx(folder / "source", array).read_bytes()


@pytest.mark.parametrize("compress", [False, True])
def test_idx_truncated_and_trailing_bytes_are_reported(tmp_path, compress):
    good = _idx_bytes(tmp_path, np.zeros((3, 4), np.int32))  # 12 header + 48 data bytes
    for name, content, problem, actual in [("short", good[:-5], "truncated file", 43),
                                           ("long", good + b"xy", "trailing bytes", 50)]:
        path = tmp_path / name
        path.write_bytes(gzip.compress(content) if compress else content)
        with pytest.raises(ValueError) as err:
            data.read_idx(path)
        message = str(err.value)
        assert str(path) in message and problem in message
        assert "48 bytes" in message and f"found {actual}" in message


@pytest.mark.parametrize("content, found", [
    (b"PK\x03\x04rest", "0x50 0x4B 0x03 0x04"),            # a zip file
    (b"\x00\x00\x0a\x01\x00\x00\x00\x00", "0x00 0x00 0x0A 0x01"),  # unknown type code
    (b"", "nothing (empty file)"),
])
def test_idx_bad_magic_names_the_bytes_found(tmp_path, content, found):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not an IDX file") as err:
        data.read_idx(path)
    assert found in str(err.value) and str(path) in str(err.value)


def test_idx_truncated_header_and_gzip_stream(tmp_path):
    (tmp_path / "head").write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x02")
    with pytest.raises(ValueError, match="truncated IDX header: 3 dimensions need 16"):
        data.read_idx(tmp_path / "head")
    packed = gzip.compress(_idx_bytes(tmp_path, np.arange(999, dtype=np.int32)))
    (tmp_path / "cut.gz").write_bytes(packed[:-30])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        data.read_idx(tmp_path / "cut.gz")


def test_write_idx_rejects_types_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="cannot store dtype int64"):
        data.write_idx(tmp_path / "x", np.arange(3))


# ---------------------------------------------------------------- the real MNIST test set

needs_mnist = pytest.mark.skipif(not (MNIST_DIR / f"{TEST_FILES[0]}.gz").exists(),
                                 reason=f"the MNIST test set is not in {MNIST_DIR}")


@needs_mnist
def test_real_mnist_test_set():
    x, y = data.load_mnist(root=MNIST_DIR, train=False, download=False)
    assert x.shape == (10000, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    for stem in TEST_FILES:
        md5 = hashlib.md5((MNIST_DIR / f"{stem}.gz").read_bytes()).hexdigest()
        assert md5 == datasets.CHECKSUMS["mnist"][f"{stem}.gz"]
    folder = data.load_idx_folder(MNIST_DIR)
    assert list(folder) == ["test"]
    np.testing.assert_array_equal(folder["test"][1], y)


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_system_fashion_mnist_test_set(isolated, monkeypatch):
    monkeypatch.setattr(datasets, "SYSTEM_DIR", FASHION_DIR.parent)
    x, y = data.load_fashion_mnist(train=False, download=False)
    assert x.shape == (10000, 784) and np.bincount(y).tolist() == [1000] * 10


# ---------------------------------------------------------------- search order and download

@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real cache, system folder, $TINYAD_DATA or mirror; local URLs bypass any proxy."""
    for var in ("TINYAD_DATA", "TINYAD_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setattr(datasets, "SYSTEM_DIR", tmp_path / "system")
    monkeypatch.setattr(datasets, "MIRRORS", {"mnist": ["http://127.0.0.1:1/"],
                                              "fashion-mnist": ["http://127.0.0.1:1/"]})
    return tmp_path


def write_split(folder, n, train=False, compress=True, seed=0):
    """A tiny MNIST-format split of ``n`` random images; returns (images uint8, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    stems = datasets.FILES[train]
    for stem, array in zip(stems, (images, labels)):
        data.write_idx(folder / (f"{stem}.gz" if compress else stem), array, gzip=compress)
    return images, labels


def test_search_order(isolated, monkeypatch):
    root, env = isolated / "root", isolated / "env"
    assert data.search_dirs("mnist") == [isolated / "cache/tinyad/mnist", isolated / "system/mnist"]
    monkeypatch.setenv("TINYAD_DATA", str(env))
    assert data.search_dirs("fashion-mnist", root=root) == [
        root, root / "fashion-mnist", env, env / "fashion-mnist",
        isolated / "cache/tinyad/fashion-mnist", isolated / "system/fashion-mnist"]
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(isolated / "home"))
    assert data.cache_dir("mnist") == isolated / "home/.cache/tinyad/mnist"


def test_loading_takes_the_first_folder_that_has_the_files(isolated, monkeypatch):
    monkeypatch.setenv("TINYAD_DATA", str(isolated / "env"))
    places = [isolated / "system/mnist", isolated / "cache/tinyad/mnist", isolated / "env/mnist",
              isolated / "env", isolated / "root"]
    for size, folder in enumerate(places, start=1):     # fill from last to first in the order
        write_split(folder, size, compress=size % 2 == 0)
        x, y = data.load_mnist(root=isolated / "root", train=False, download=False)
        assert len(x) == len(y) == size
    with pytest.raises(data.DatasetNotFoundError):      # only the test split was written
        data.load_mnist(root=isolated / "root", train=True, download=False)


def test_values_scaled_to_unit_interval(isolated):
    images, labels = write_split(isolated / "d", 7, compress=False)
    x, y = data.load_mnist(root=isolated / "d", train=False, download=False)
    np.testing.assert_array_equal(x, images.reshape(7, 784) / np.float32(255))
    assert x.dtype == np.float32 and y.dtype == np.int64 and (y == labels).all()


def test_load_idx_folder_returns_the_pairs_present(isolated):
    write_split(isolated / "both", 3, train=True)
    write_split(isolated / "both", 2, train=False)
    found = data.load_idx_folder(isolated / "both")
    assert {k: len(v[0]) for k, v in found.items()} == {"train": 3, "test": 2}
    (isolated / "empty").mkdir()
    with pytest.raises(data.DatasetNotFoundError, match="no IDX image/label pair"):
        data.load_idx_folder(isolated / "empty")


@pytest.fixture
def mirror(isolated, monkeypatch):
    """A local HTTP mirror serving a tiny MNIST test split; the checksum table matches it."""
    served = isolated / "served"
    images, labels = write_split(served, 5, seed=1)
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in served.iterdir()}
    monkeypatch.setitem(datasets.CHECKSUMS, "mnist", sums)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(served)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", images, labels
    server.shutdown()
    server.server_close()


def test_download_lands_atomically_in_the_cache(mirror, isolated, monkeypatch, capsys):
    url, images, labels = mirror
    renames = []

    def checked_replace(src, dst, real=os.replace):
        assert not Path(dst).exists() and Path(src).parent == Path(dst).parent
        renames.append(Path(dst).name)
        real(src, dst)

    monkeypatch.setattr(datasets.os, "replace", checked_replace)
    monkeypatch.setitem(datasets.MIRRORS, "mnist", ["http://127.0.0.1:1/", url])  # 1st is dead
    x, y = data.load_mnist(train=False)
    assert renames == [f"{stem}.gz" for stem in TEST_FILES]
    cache = isolated / "cache/tinyad/mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(renames)   # no temporary left
    np.testing.assert_array_equal(x, images.reshape(5, 784) / np.float32(255))
    assert (y == labels).all()
    assert "100%" in capsys.readouterr().err
    data.load_mnist(train=False, download=False)        # now found in the cache


def test_download_into_root_from_mirror_argument_or_env(mirror, isolated, monkeypatch):
    url, images, _ = mirror
    x, _ = data.load_mnist(root=isolated / "mine", train=False, mirrors=[url])
    assert len(x) == 5 and (isolated / f"mine/{TEST_FILES[0]}.gz").is_file()
    monkeypatch.setenv("TINYAD_MIRROR", f" http://127.0.0.1:1/ ,{url}")
    x, _ = data.load_mnist(train=False)
    assert len(x) == 5 and (isolated / f"cache/tinyad/mnist/{TEST_FILES[1]}.gz").is_file()


def test_wrong_checksum_raises_and_leaves_nothing(mirror, isolated, monkeypatch):
    url, _, _ = mirror
    monkeypatch.setitem(datasets.CHECKSUMS["mnist"], f"{TEST_FILES[0]}.gz", "0" * 32)
    with pytest.raises(data.ChecksumError, match="does not match the expected 0000"):
        data.load_mnist(train=False, mirrors=[url])
    assert list((isolated / "cache/tinyad/mnist").iterdir()) == []


def test_offline_error_lists_every_folder_and_the_remedies(isolated, monkeypatch):
    monkeypatch.setenv("TINYAD_DATA", str(isolated / "env"))
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.load_fashion_mnist(root=isolated / "root", train=False, download=False)
    message = str(err.value)
    for folder in data.search_dirs("fashion-mnist", root=isolated / "root"):
        assert f"  {folder}\n" in message
    for remedy in ("root=", "TINYAD_DATA", "apt-get install dataset-fashion-mnist",
                   "download=False"):
        assert remedy in message
    with pytest.raises(data.DatasetNotFoundError, match=r"Download failed:\n  http://127.0.0.1:1/"):
        data.load_mnist(train=False)                    # the only mirror refuses connections


# ---------------------------------------------------------------- DataLoader

def epoch(loader):
    """One epoch as (list of sample ids, list of batch sizes); checks x and y stay paired."""
    ids, sizes = [], []
    for xb, yb in loader:
        assert (yb == 10 * xb[:, 0]).all()
        ids += xb[:, 0].tolist()
        sizes.append(len(xb))
    return ids, sizes


@given(n=st.integers(1, 60), batch_size=st.integers(1, 20), shuffle=st.booleans(),
       drop_last=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_dataloader_epochs(n, batch_size, shuffle, drop_last, seed):
    x, y = np.stack([np.arange(n), -np.arange(n)], 1), 10 * np.arange(n)
    make = functools.partial(data.DataLoader, x, y, batch_size, shuffle=shuffle, seed=seed,
                             drop_last=drop_last)
    loader = make()
    first, sizes = epoch(loader)
    assert len(sizes) == len(loader)
    assert all(s == batch_size for s in sizes[:-1]) and all(0 < s <= batch_size for s in sizes)
    if drop_last:
        assert len(first) == n // batch_size * batch_size and len(set(first)) == len(first)
        assert not sizes or sizes[-1] == batch_size
    else:
        assert sorted(first) == list(range(n))
    if not shuffle:
        assert first == list(range(len(first)))
    second, _ = epoch(loader)
    state = json.loads(json.dumps(loader.state_dict()))     # plain data, survives a checkpoint
    third, _ = epoch(loader)
    same_seed = make()
    assert [epoch(same_seed)[0] for _ in range(3)] == [first, second, third]
    resumed = data.DataLoader(x, y, batch_size, shuffle=shuffle, seed=seed + 1, drop_last=drop_last)
    resumed.load_state_dict(state)
    assert epoch(resumed)[0] == third and resumed.epoch == loader.epoch == 3
    if shuffle and n >= 12 and not drop_last:
        assert first != second != third


def test_dataloader_validates_its_arguments():
    with pytest.raises(ValueError, match=r"x.shape=\(5, 2\) and y.shape=\(4,\)"):
        data.DataLoader(np.zeros((5, 2)), np.zeros(4), 2)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
            data.DataLoader(np.zeros((5, 2)), np.zeros(5), bad)


# ---------------------------------------------------------------- synthetic sets

@pytest.mark.parametrize("make, classes", [(data.make_moons, 2), (data.make_circles, 2),
                                           (data.make_xor, 2), (data.make_spirals, 3)])
def test_two_d_sets(make, classes):
    x, y = make(n=301, seed=4)
    assert x.shape == (301, 2) and x.dtype == np.float32
    assert y.shape == (301,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == classes and counts.max() - counts.min() <= 1
    assert np.isfinite(x).all() and np.abs(x).max() < 3
    same, other = make(n=301, seed=4), make(n=301, seed=5)
    np.testing.assert_array_equal(same[0], x)
    assert not np.array_equal(other[0], x)


def test_two_d_set_options():
    assert np.bincount(data.make_spirals(n=10, classes=4)[1]).tolist() == [3, 3, 2, 2]
    x, y = data.make_circles(n=400, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.where(y == 0, 1.0, 0.3), rtol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        data.make_circles(factor=1.5)


def test_default_set_shapes_and_determinism():
    (x, y), (xt, yt) = data.load_default(train=True), data.load_default(train=False)
    assert x.shape == (10000, 784) and xt.shape == (2000, 784)
    assert x.dtype == xt.dtype == np.float32 and y.dtype == yt.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0 and 0.05 < x.mean() < 0.3
    assert np.bincount(y).tolist() == [1000] * 10 and np.bincount(yt).tolist() == [200] * 10
    kept = x.copy()
    x[:] = 0                                            # callers get copies, not the cache
    np.testing.assert_array_equal(data.load_default()[0], kept)
    a, b = data.make_digits(300, seed=7), data.make_digits(300, seed=7)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], data.make_digits(300, seed=8)[0])


def test_default_set_is_learnable_by_softmax_regression():
    (x, y), (xt, yt) = data.load_default(train=True), data.load_default(train=False)
    w, b = np.zeros((784, 10), np.float32), np.zeros(10, np.float32)
    rng = np.random.default_rng(0)
    for _ in range(5):                                  # 5 epochs of mini-batch SGD
        for idx in np.array_split(rng.permutation(len(x)), len(x) // 100):
            z = x[idx] @ w + b
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1
            w -= 0.1 * x[idx].T @ p / len(idx)
            b -= 0.1 * p.mean(0)
    accuracy = ((xt @ w + b).argmax(1) == yt).mean()
    assert accuracy > 0.7, accuracy                     # chance is 0.1


def test_resize_is_bilinear_with_centre_aligned_corners():
    """PyTorch's interpolate(mode='bilinear', align_corners=False) of [[0, 1], [2, 3]] to 4x4."""
    from tinyad.data import resize
    out = resize(np.array([[0, 1, 2, 3]], np.float32), 4).reshape(4, 4)
    np.testing.assert_allclose(out, [[0, .25, .75, 1], [.5, .75, 1.25, 1.5],
                                     [1.5, 1.75, 2.25, 2.5], [2, 2.25, 2.75, 3]])
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    assert resize(x, 32).shape == (3, 1024) and resize(x, 32).dtype == np.float32
    np.testing.assert_allclose(resize(x, 28), x, atol=1e-6)
    with pytest.raises(ValueError, match="square images"):
        resize(np.zeros((2, 10)), 4)
