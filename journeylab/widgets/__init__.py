"""Interactive explorers (ipywidgets): the only package that imports ipywidgets.

Each explorer wires controls to the same public function a user calls, and exposes
``.result`` and ``.params`` so that what was found by clicking can be reproduced in code.
"""

from .process import ProcessExplorer, process_explorer

__all__ = ["process_explorer", "ProcessExplorer"]
