"""Bundled data and the journey simulator.

NOTE (lead): keep the imports below - load_example / example_path / load_default_log.
"""

from ._example import example_path, load_default_log, load_example

__all__ = ["example_path", "load_example", "load_default_log"]
