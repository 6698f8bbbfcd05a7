"""Figures in a notebook: readable at 100 % zoom, sharp on HiDPI screens, small enough for git.

:func:`notebook_figures` sets this up once, in the first cell of a notebook, after
``%matplotlib inline``. Figures are drawn at ``dpi`` CSS pixels per inch (text of 8 pt is then
11 px on screen), stored with twice the pixels (``retina``: sharp on HiDPI screens) and as
PNG with a palette of ``colors`` colours - about three times smaller than a true-colour PNG
for charts, which are flat colours and text. The bundled notebooks use it: their budget is
3 MB per notebook and 12 MB for all of them (checked by the tests).
"""

from __future__ import annotations

import io

from .._core.validation import BOOL, Int, Optional, checked

__all__ = ["notebook_figures", "figure_png"]


def figure_png(fig, *, dpi: int = 100, retina: bool = True, colors: int | None = 256) -> tuple[bytes, dict]:
    """The PNG of a matplotlib figure as :func:`notebook_figures` shows it, and its display size.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default 100
        CSS pixels per inch of the displayed figure.
    retina : bool, default True
        Store twice the pixels (shown at the same size, sharp on HiDPI screens).
    colors : int or None, default 256
        Quantize to a palette of this many colours (2-256); None keeps true colour.

    Returns
    -------
    (bytes, dict)
        The PNG and ``{"width": ..., "height": ...}`` in CSS pixels (what IPython's display takes).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(4, 3))
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> png, size = figure_png(fig, dpi=100)
    >>> png[:4] == b"\\x89PNG", size["width"] <= 400
    (True, True)
    >>> plt.close(fig)
    """
    from PIL import Image

    scale = 2 if retina else 1
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi * scale, bbox_inches="tight", facecolor=fig.get_facecolor())
    image = Image.open(io.BytesIO(buf.getvalue()))
    width, height = image.size
    if colors is not None:
        if image.mode == "RGBA":  # onto white, as the notebook shows it
            back = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(back, image)
        image = image.convert("RGB").quantize(colors=int(colors), method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        image.save(out, format="png", optimize=True)
        png = out.getvalue()
    else:
        png = buf.getvalue()
    return png, {"width": width // scale, "height": height // scale}


@checked(dpi=Int(minimum=50, maximum=400, example=100), retina=BOOL,
         colors=Optional(Int(minimum=2, maximum=256, example=256)))
def notebook_figures(*, dpi: int = 100, retina: bool = True, colors: int | None = 256) -> None:
    """Show the matplotlib figures of this notebook readable, sharp and small (see the module docstring).

    Call it in the first cell, after ``%matplotlib inline``. Outside IPython it does nothing.

    Parameters
    ----------
    dpi : int, default 100
        CSS pixels per inch: 100 makes 8 pt text 11 px on screen at 100 % zoom.
    retina : bool, default True
        Twice the pixels, for HiDPI screens.
    colors : int or None, default 256
        PNG palette size (None: true colour, about three times larger).

    Returns
    -------
    None

    Examples
    --------
    >>> notebook_figures()  # outside a notebook: nothing to do
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    plt.rcParams["figure.dpi"] = dpi
    formatters = shell.display_formatter.formatters
    for mime in ("image/svg+xml", "image/jpeg", "application/pdf"):  # one image per figure
        if mime in formatters:
            formatters[mime].pop(Figure, None)
    formatters["image/png"].for_type(Figure, lambda fig: figure_png(fig, dpi=dpi, retina=retina, colors=colors))
