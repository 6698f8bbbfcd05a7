"""Errors and warnings raised by journeylab.

Every error says what is wrong, the offending value, what is allowed or
available, and how to fix it.

Examples
--------
>>> import journeylab as jl
>>> try:
...     jl.from_pandas(__import__("pandas").DataFrame({"a": [1]}), case="c", activity="a", timestamp="t")
... except jl.SchemaError as err:
...     print(type(err).__name__)
SchemaError
"""

from __future__ import annotations

__all__ = [
    "JourneylabError",
    "SchemaError",
    "InvalidParameterError",
    "EmptyLogError",
    "TimestampError",
    "MissingValuesError",
    "FileFormatError",
    "JourneyDefinitionError",
    "OutputError",
    "EngineResourceError",
    "DataQualityWarning",
]


class JourneylabError(Exception):
    """Base class of every error journeylab raises on purpose."""


class SchemaError(JourneylabError, ValueError):
    """A column role names a column that does not exist, or has the wrong type."""


class InvalidParameterError(JourneylabError, ValueError):
    """A parameter value is outside what the function accepts."""


class EmptyLogError(JourneylabError, ValueError):
    """The log (or what is left of it after filtering) has no events."""


class TimestampError(JourneylabError, ValueError):
    """Timestamps that cannot be parsed."""


class MissingValuesError(JourneylabError, ValueError):
    """Nulls in the case, activity or timestamp column."""


class FileFormatError(JourneylabError, ValueError):
    """A file that does not exist, cannot be read, or is malformed or hostile."""


class JourneyDefinitionError(JourneylabError, ValueError):
    """A journey definition (YAML or code) that is invalid, or does not fit a log."""


class OutputError(InvalidParameterError, OSError):
    """An output path that cannot be written: a folder, a path under a file, a FIFO or device,
    a read-only folder or file system, or a write that failed (e.g. the disk is full).

    It is an :class:`InvalidParameterError` (choose another path) and an :class:`OSError`
    (``errno`` and ``filename`` are set when the system gave them), so ``except OSError``
    around a write keeps working. The message names the path and what to do.

    >>> import journeylab as jl
    >>> try:
    ...     jl.Journey("j", [jl.Milestone("a", ["x"])]).to_yaml("/dev/null")
    ... except jl.OutputError as err:
    ...     print(str(err)[:60])
    path='/dev/null' is a character device, not a regular file; 
    """

    def __init__(self, message: str, errno: int | None = None, filename: str | None = None):
        super().__init__(message)
        self.errno = errno
        self.filename = filename

    def __str__(self) -> str:  # the message only (OSError would show "[Errno ...]" once errno is set)
        return str(self.args[0]) if self.args else ""


class EngineResourceError(JourneylabError, RuntimeError):
    """The engine (DuckDB) ran out of memory it could not spill, or out of disk space in its spill folder.
    The message names the limit or the folder and the setting to change
    (:func:`journeylab.engine.configure`: ``memory_limit``, ``temp_directory``)."""


class DataQualityWarning(UserWarning):
    """Something in the data was dropped or looks suspicious; the message says what."""
