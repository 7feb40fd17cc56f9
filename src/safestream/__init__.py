"""SafeStream: detect, report, investigate and share signals of live-streamed child abuse."""

from safestream.core.errors import SafeStreamError

__version__ = "0.1.0"
__all__ = ["SafeStreamError", "__version__"]
