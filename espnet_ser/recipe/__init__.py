"""The recipe: splits, stage data (format, filter, features, Table-2 combinations), jobs."""
