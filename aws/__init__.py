"""Kiln's AWS-compatible endpoint: SigV4 verification, the router, protocol layers and per-service adapters."""
