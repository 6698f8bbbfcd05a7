"""Arrays without their large copies: text columns without a Python object per value (the Arrow array
behind a Series, the position of each value in a short list of names: one vectorised lookup in C++ when
the column is Arrow-backed), and a feature matrix whose rows are made a block at a time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["RowBlocks", "arrow_of", "positions_in"]


def arrow_of(series: pd.Series):
    """The Arrow array behind a pyarrow-backed Series, or None.

    >>> arrow_of(pd.Series(["a"], dtype="string[pyarrow]")).to_pylist()
    ['a']
    >>> arrow_of(pd.Series([1.5])) is None
    True
    """
    proto = getattr(series.array, "__arrow_array__", None)
    if proto is None:
        return None
    try:
        return proto()
    except (TypeError, ValueError, NotImplementedError):  # pragma: no cover - cannot convert
        return None


def positions_in(series: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Per value of ``series``: its position in ``names`` (int32), or -1 (missing or not there).

    On an Arrow-backed column (pandas' text columns) this is one lookup in C++; an object column is
    looked up through a pandas Index. Either way no Python string is made per value (2M channel names:
    0 MB against 263 MB through ``to_numpy(dtype=object)``).

    >>> positions_in(pd.Series(["b", None, "z", "a"], dtype="string[pyarrow]"), ["a", "b"]).tolist()
    [1, -1, -1, 0]
    >>> positions_in(pd.Series(["b", None, "a"], dtype=object), ["a", "b"]).tolist()
    [1, -1, 0]
    """
    arr = arrow_of(series)
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type):
            found = pc.index_in(arr, value_set=pa.array(list(names), type=arr.type))
            return pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    return pd.Index(list(names), dtype=object).get_indexer(pd.Index(series.array, dtype=object)).astype(np.int32)


class RowBlocks:
    """A matrix kept as column groups, its rows made on demand: ``parts`` is a list of ``(values, expand)``,
    ``values`` a 2-D array or sparse matrix and ``expand`` None (its rows are the rows) or, per row, the row
    of ``values`` it takes (e.g. the variant of each case, when the values are computed per variant).

    A million cases by 240 features is 1 GB in float32 at once; :meth:`blocks` makes it 65,536 rows at a
    time, and :meth:`take` any rows (e.g. a sample).

    >>> rb = RowBlocks(3, [(np.array([[1.0], [2.0]]), np.array([1, 0, 1])),
    ...                    (sparse.csr_matrix(np.eye(3)), None)])
    >>> rb.take(slice(0, 2), np.float32).tolist()
    [[2.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]]
    >>> [(lo, b.shape) for lo, b in rb.blocks(np.float64, size=2)]
    [(0, (2, 4)), (2, (1, 4))]
    >>> bool((rb.matrix(np.float64) == rb.take(np.arange(3))).all())
    True
    """

    def __init__(self, n: int, parts: list):
        self.n = int(n)
        self.parts = [(a, None if e is None else np.asarray(e)) for a, e in parts]
        self.width = sum(int(a.shape[1]) for a, _ in self.parts)

    def take(self, rows, dtype=np.float64) -> np.ndarray:
        """The rows ``rows`` (a slice or integer positions) as a new dense array of ``dtype``."""
        idx = np.arange(self.n)[rows] if isinstance(rows, slice) else np.asarray(rows, dtype=np.int64)
        out = np.empty((len(idx), self.width), dtype=dtype)
        at = 0
        for a, expand in self.parts:
            w = int(a.shape[1])
            part = a[expand[idx]] if expand is not None else a[idx]
            out[:, at:at + w] = part.toarray() if sparse.issparse(part) else part
            at += w
        return out

    def blocks(self, dtype=np.float64, size: int = 65_536):
        """``(first row, block)`` for consecutive blocks of ``size`` rows."""
        for lo in range(0, self.n, size):
            yield lo, self.take(slice(lo, lo + size), dtype)

    def matrix(self, dtype=np.float64) -> np.ndarray:
        """Every row, filled a block at a time (no second matrix-sized copy)."""
        out = np.empty((self.n, self.width), dtype=dtype)
        for lo, block in self.blocks(dtype):
            out[lo:lo + len(block)] = block
        return out
