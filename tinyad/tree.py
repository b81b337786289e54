"""Pytrees: nested containers of tensors, taken apart into a flat list of leaves and put back.

    leaves, treedef = flatten({"w": W, "b": [b1, b2]})   # [b1, b2, W]
    treedef                                               # PyTreeDef({'b': [*, *], 'w': *})
    unflatten(treedef, [g1, g2, gW])                      # {'b': [g1, g2], 'w': gW}
    map(lambda x, y: x - 0.1 * y, params, grads)          # leaf by leaf, same structure out

Every transform works on the flat list of leaves and hands results back in the caller's structure,
as JAX does: ``ad.grad(loss)(params_dict)`` returns a dict of the same keys. Containers are tuple,
list, dict (keys in sorted order, as in JAX), OrderedDict (insertion order), namedtuple, and None
(a container with no leaves); everything else (a Tensor, an array, a float) is a leaf.
``register_pytree_node`` adds a container type of your own.
"""
from collections import OrderedDict

# type -> (to_children: node -> (children, aux), from_children: (aux, children) -> node)
_NODES = {}


def register_pytree_node(kind, to_children, from_children):
    """Make `kind` a container: ``to_children(node) -> (children, aux)`` lists its sub-trees and
    whatever else rebuilding it needs (hashable, compared between structures), and
    ``from_children(aux, children) -> node`` rebuilds it (JAX's ``register_pytree_node``)."""
    if kind in _NODES:
        raise ValueError(f"register_pytree_node: {kind.__name__} is already a registered container")
    _NODES[kind] = (to_children, from_children)


def _dict_children(d):
    try:
        keys = tuple(sorted(d))
    except TypeError:
        raise TypeError(f"pytree: dict keys must be sortable (as in JAX) to give one leaf order, "
                        f"got {list(d)}") from None
    return [d[k] for k in keys], keys


register_pytree_node(tuple, lambda t: (t, None), lambda _, children: tuple(children))
register_pytree_node(list, lambda t: (t, None), lambda _, children: list(children))
register_pytree_node(type(None), lambda t: ((), None), lambda _, children: None)
register_pytree_node(dict, _dict_children, lambda keys, children: dict(zip(keys, children)))
register_pytree_node(OrderedDict, lambda d: (d.values(), tuple(d)),
                     lambda keys, children: OrderedDict(zip(keys, children)))


class _NamedTuple:
    """The container kind of every namedtuple class (the class itself is the aux data)."""


def _kind(node):
    kind = type(node)
    if kind in _NODES:
        return kind
    if isinstance(node, tuple) and hasattr(kind, "_fields"):
        return _NamedTuple
    return None


def _children(kind, node):
    if kind is _NamedTuple:
        return tuple(node), type(node)
    children, aux = _NODES[kind][0](node)
    return tuple(children), aux


class PyTreeDef:
    """A tree's structure without its leaves: the container kind, its aux data, the children's
    structures (``kind is None`` marks a leaf). Equal structures compare equal."""
    __slots__ = ("kind", "aux", "children", "num_leaves")

    def __init__(self, kind, aux, children):
        self.kind, self.aux, self.children = kind, aux, children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def __eq__(self, other):
        return (isinstance(other, PyTreeDef) and self.kind is other.kind
                and self.aux == other.aux and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.children))

    def unflatten(self, leaves):
        return unflatten(self, leaves)

    def paths(self):
        """One path per leaf, as you would index the tree: ``['w']``, ``[0]``, ``.field``."""
        if self.kind is None:
            return [""]
        return [step + rest for step, child in zip(self._steps(), self.children)
                for rest in child.paths()]

    def _steps(self):
        if self.kind in (dict, OrderedDict):
            return [f"[{k!r}]" for k in self.aux]
        if self.kind is _NamedTuple:
            return [f".{name}" for name in self.aux._fields]
        return [f"[{i}]" for i in range(len(self.children))]

    def __repr__(self):
        return f"PyTreeDef({self._show()})"

    def _show(self):
        if self.kind is None:
            return "*"
        inner = [c._show() for c in self.children]
        if self.kind in (dict, OrderedDict):
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.aux, inner)) + "}"
        if self.kind is tuple:
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        if self.kind is list:
            return "[" + ", ".join(inner) + "]"
        if self.kind is type(None):
            return "None"
        name = self.aux.__name__ if self.kind is _NamedTuple else self.kind.__name__
        return f"{name}(" + ", ".join(inner) + ")"


LEAF = PyTreeDef(None, None, ())


def flatten(tree):
    """``(leaves, treedef)``: the leaves left to right (dicts in sorted key order)."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(node, leaves):
    kind = _kind(node)
    if kind is None:
        leaves.append(node)
        return LEAF
    children, aux = _children(kind, node)
    return PyTreeDef(kind, aux, tuple(_flatten(c, leaves) for c in children))


def unflatten(treedef, leaves):
    """The tree of structure `treedef` holding `leaves` (a sequence of treedef.num_leaves)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"unflatten: {treedef} holds {treedef.num_leaves} leaves, "
                         f"got {len(leaves)}")
    return _build(treedef, iter(leaves))


def _build(treedef, leaves):
    if treedef.kind is None:
        return next(leaves)
    children = [_build(c, leaves) for c in treedef.children]
    if treedef.kind is _NamedTuple:
        return treedef.aux(*children)
    return _NODES[treedef.kind][1](treedef.aux, children)


def leaves(tree):
    return flatten(tree)[0]


def structure(tree):
    return flatten(tree)[1]


def map(f, tree, *rest):
    """``f(leaf, *matching leaves of rest)`` for every leaf, in `tree`'s structure; the trees in
    `rest` must have the same structure."""
    flat, treedef = flatten(tree)
    others = [flatten_as(treedef, r, "tree.map") for r in rest]
    return unflatten(treedef, [f(*xs) for xs in zip(flat, *others)])


def broadcast_prefix(prefix, tree, is_leaf, where):
    """One entry of `prefix` per leaf of `tree`: `prefix` has tree's structure down to some depth,
    where a leaf (``is_leaf(node)``, such as an int or None in vmap's ``in_axes``) stands for
    the whole subtree below it (JAX's tree prefixes). A ValueError from `where` otherwise."""
    out = []

    def walk(p, t, path):
        if is_leaf(p):
            out.extend([p] * len(leaves(t)))
            return
        kind = _kind(p)
        if kind is None or kind is not _kind(t):
            raise ValueError(f"{where}: {p!r} at {path or 'the top'} does not match the "
                             f"{type(t).__name__} there (expected {structure(t)})")
        (pc, pa), (tc, ta) = _children(kind, p), _children(kind, t)
        if pa != ta or len(pc) != len(tc):
            raise ValueError(f"{where}: {p!r} at {path or 'the top'} does not match the "
                             f"structure {structure(t)} there")
        steps = PyTreeDef(kind, ta, (LEAF,) * len(tc))._steps()
        for a, b, step in zip(pc, tc, steps):
            walk(a, b, path + step)
    walk(prefix, tree, "")
    return out


def flatten_as(treedef, tree, where):
    """The leaves of `tree`, which must have structure `treedef` (else a ValueError from `where`
    showing both structures)."""
    flat, other = flatten(tree)
    if other != treedef:
        raise ValueError(f"{where}: expected a tree of structure {treedef}, got {other}")
    return flat
