"""ipc: the wire protocol between prtosd, partition processes and prtosctl, and its ZeroMQ transport."""
