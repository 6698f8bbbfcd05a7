"""Transitional: the helpers that lived here moved to :mod:`journeylab._core` (issue 14). Import from there."""

from ._core.formatting import cut, format_duration as format_timedelta, show_path  # noqa: F401
from ._core.io import FORMULA_STARTS, atomic_write, check_output, csv_text, defuse_formula  # noqa: F401
from ._core.names import closest, did_you_mean  # noqa: F401
from ._core.validation import analysis_date, to_timedelta  # noqa: F401
