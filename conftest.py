"""nbval set-up for every notebook the suite runs (pytest applies a conftest.py to the folders
below it, so this one sits at the root: tests/ and notebooks/ both get it)."""

from __future__ import annotations

from pathlib import Path


def pytest_configure(config):
    """Resolve the nbval sanitize file from the repository, whatever the current folder."""
    path = getattr(config.option, "nbval_sanitize_with", None)
    if path and not Path(path).is_absolute():
        config.option.nbval_sanitize_with = str(config.rootpath / path)


def pytest_collectstart(collector):
    """nbval compares text only: ignore stderr (pm4py's banner, warnings) and widget/JS payloads."""
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "application/javascript", "application/vnd.jupyter.widget-view+json")
