"""Synthetic models and audio for the tests and the benchmarks (no corpus, no download)."""
