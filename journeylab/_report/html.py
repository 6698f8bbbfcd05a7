"""The HTML pieces the report's sections are built from: tables, inline figures, sections, notes and
warnings. Every string that comes from the data is escaped here.

>>> section("A <b>", note("x < y"))
'<section><h2>A &lt;b&gt;</h2><p class="note">x &lt; y</p></section>'
"""

from __future__ import annotations

import base64
import io
from html import escape

import pandas as pd

__all__ = ["table", "figure", "section", "note", "warn"]


def table(df: pd.DataFrame, *, numeric: tuple[str, ...] = ()) -> str:
    """An HTML table of ``df``'s cells as text (escaped); ``numeric`` columns are right-aligned."""
    head = "".join(f'<th class="{"num" if c in numeric else ""}">{escape(str(c))}</th>' for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = "".join(
            f'<td class="{"num" if c in numeric else ""}">{escape(str(v))}</td>' for c, v in zip(df.columns, rec)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def figure(fig) -> str:
    """Inline PNG of a figure (or of the figure of an Axes / array of Axes that a plot() returned)."""
    import matplotlib.pyplot as plt
    import numpy as np

    if isinstance(fig, np.ndarray):
        fig = fig.flat[0]
    fig = getattr(fig, "figure", fig)

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def section(title: str, body: str) -> str:
    """A report section: its title (escaped) and its finished HTML ``body``."""
    return f"<section><h2>{escape(title)}</h2>{body}</section>"


def note(text: str) -> str:
    """A note paragraph (escaped)."""
    return f'<p class="note">{escape(text)}</p>'


def warn(text: str) -> str:
    """A warning box (escaped)."""
    return f'<div class="warn">{escape(text)}</div>'
