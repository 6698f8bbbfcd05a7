"""What the explorers share."""

from __future__ import annotations


def in_kernel() -> bool:
    """True inside a running Jupyter kernel, where widgets are displayed; False in scripts,
    doctests and tests (the explorers then only compute).

    >>> in_kernel()
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets needs IPython
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
