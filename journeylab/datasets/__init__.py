"""Bundled data and the journey simulator.

NOTE (lead): keep the two imports below - load_example / example_path (running example).
"""

from ._example import example_path, load_example

__all__ = ["example_path", "load_example"]
