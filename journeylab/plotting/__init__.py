"""Plots of journeylab results: the only package that imports matplotlib.

Every ``plot_*`` function takes the result first, draws on ``ax`` when given (else on a
new figure sized to the content), returns the Axes, never calls ``plt.show()`` and never
changes global rcParams. Numbers come from the result, never from the plot.
"""

from .model import plot_model
from .paths import plot_paths
from .process_map import plot_process_map
from .variants import plot_variants

__all__ = ["plot_process_map", "plot_variants", "plot_paths", "plot_model"]
