"""The notebooks as files: small enough for git, figures set up to be readable, checks out of the reader's way."""

from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import journeylab as jl  # noqa: E402
from journeylab.plotting import notebook_figures  # noqa: E402
from journeylab.plotting.notebook import figure_png  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MB = 1024 * 1024


def test_the_notebooks_keep_their_size_budget():
    sizes = {p.name: p.stat().st_size for p in NOTEBOOKS}
    assert len(sizes) >= 8
    too_big = {n: round(s / MB, 2) for n, s in sizes.items() if s > 3 * MB}
    assert not too_big, f"over the 3 MB budget per notebook: {too_big}"
    assert sum(sizes.values()) <= 12 * MB, f"all notebooks: {sum(sizes.values()) / MB:.1f} MB > 12 MB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_sets_up_readable_figures_and_hides_its_checks(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = "".join(code[0]["source"])
    assert "notebook_figures()" in first and "figure.dpi" not in first
    for cell in code:
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        top_level_asserts = [line for line in source.splitlines() if line.startswith("assert ")]
        if top_level_asserts:  # a check: tagged and collapsed, so that it does not interrupt the story
            assert "check" in tags and cell["metadata"].get("jupyter", {}).get("source_hidden") is True, source[:80]
        if "check" in tags:
            assert not cell.get("outputs"), f"a check cell shows output: {source[:80]}"


def test_figure_png_is_retina_sized_and_palette_compressed():
    sample = jl.datasets.load_example()
    fig = jl.discover(sample).plot().figure
    png, size = figure_png(fig, dpi=100)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P"  # a palette of at most 256 colours
    w, h = fig.get_size_inches()
    assert abs(image.size[0] - 2 * size["width"]) <= 1 and abs(image.size[1] - 2 * size["height"]) <= 1
    assert size["width"] <= w * 100 + 2  # bbox_inches="tight" only trims
    true_colour, _ = figure_png(fig, dpi=100, colors=None)
    assert Image.open(io.BytesIO(true_colour)).mode in ("RGBA", "RGB") and len(png) < len(true_colour)
    plt.close(fig)


def test_notebook_figures_registers_one_png_per_figure_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell

    import IPython

    shell = InteractiveShell.instance()
    real = IPython.get_ipython
    IPython.get_ipython = lambda: shell  # notebook_figures asks IPython for the running shell
    try:
        notebook_figures(dpi=120)
    finally:
        IPython.get_ipython = real
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    data, meta = shell.display_formatter.format(fig)
    assert "image/png" in data and meta["image/png"] == {"width": pytest.approx(360, abs=40),
                                                         "height": pytest.approx(240, abs=40)}
    assert plt.rcParams["figure.dpi"] == 120
    plt.close(fig)
    plt.rcParams["figure.dpi"] = 100
    with pytest.raises(jl.InvalidParameterError, match="colors=1 must be a whole number between 2 and 256"):
        notebook_figures(colors=1)
