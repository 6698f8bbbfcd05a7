"""Interactive explorers (ipywidgets): the only package that imports ipywidgets.

Each explorer (one base, :class:`~journeylab.widgets._common.Explorer`) wires controls to the same
public function a user calls, and exposes ``.result``, ``.params`` and ``.code`` so that what was
found by clicking can be reproduced in code.
"""

from ._common import Explorer
from .happy_path import HappyPathExplorer, happy_path_explorer
from .process import ProcessExplorer, process_explorer
from .segments import SegmentExplorer, segment_explorer

__all__ = ["process_explorer", "ProcessExplorer", "happy_path_explorer", "HappyPathExplorer", "segment_explorer",
           "SegmentExplorer", "Explorer"]
