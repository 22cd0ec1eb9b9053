"""Helpers of kgc's own tests and benchmarks (not installed with kgc; the public testing API is kgc.testing)."""
