"""Evaluation: metrics, scoring, significance, the paper's tables and figures (RESULTS.md)."""
