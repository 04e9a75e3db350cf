"""Nested structures of lists, tuples and dicts (a layer's inputs, a model's x and y): flatten and map.

Only ``list``, ``tuple`` and ``dict`` nest; everything else (tensors, arrays, numbers, None) is a leaf. Dicts
are walked in their own key order, so a structure rebuilt by ``pack_like`` keeps its keys in place.
"""
from __future__ import annotations


def flatten(structure) -> list:
    """The leaves of ``structure``, depth first."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for item in structure.values() for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """``structure`` with ``fn`` applied to each leaf (lists stay lists, tuples tuples, dicts dicts)."""
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        items = [map_structure(fn, item) for item in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else tuple(items)
    if isinstance(structure, dict):
        return {key: map_structure(fn, item) for key, item in structure.items()}
    return fn(structure)


def pack_like(structure, leaves):
    """Rebuild ``structure`` with ``leaves`` (in ``flatten`` order) in place of its own leaves."""
    it = iter(leaves)
    return map_structure(lambda _: next(it), structure)


def batch_rows(structure) -> int:
    """Rows (the batch dimension) of a batch that may be one tensor or a list/dict of them."""
    return len(structure) if not isinstance(structure, (list, tuple, dict)) else len(flatten(structure)[0])


def first_leaf(structure):
    return flatten(structure)[0] if isinstance(structure, (list, tuple, dict)) else structure
