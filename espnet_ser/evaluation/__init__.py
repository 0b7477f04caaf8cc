"""Evaluation: scoring (the metrics: espnet_ser.metrics), significance, the paper's tables and figures (RESULTS.md)."""
