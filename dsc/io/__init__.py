"""Source readers: declared inputs to one Arrow table with stable row ids.

See :func:`dsc.io.sources.read_source`.
"""

from .model import Declared, HubRef, InputFile, ReadResult, Reject, SourceError, SourceSpec
from .sources import read_source

__all__ = [
    "Declared",
    "HubRef",
    "InputFile",
    "ReadResult",
    "Reject",
    "SourceError",
    "SourceSpec",
    "read_source",
]
