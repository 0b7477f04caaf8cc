"""Fold aggregation, significance tests, the paper's tables and figures (``ser_report``)."""
