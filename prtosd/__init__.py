"""prtosd: the supervisor of a PRTOS-style partitioned system running on an ordinary machine."""

__version__ = "0.1.0"
