"""Progress bars for long work: tqdm.auto (a widget in Jupyter, text in a terminal), shown only when the
work lasts more than two seconds, so quick calls stay quiet.

>>> sum(progress(range(3), total=3, desc="counting", enabled=False))
3
"""

from __future__ import annotations

__all__ = ["progress"]


def progress(iterable, *, total: int | None = None, desc: str = "", enabled: bool = True):
    """``iterable`` wrapped in a tqdm.auto bar that appears after 2 s (or as is when ``enabled`` is False)."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return iterable
    return tqdm(iterable, total=total, desc=desc, delay=2.0, leave=False)
