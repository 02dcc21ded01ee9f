"""``make bench``: Kiln's figures beside floors measured in the same run (see docs/benchmarks.md)."""
