"""Thin command-line entry points (``python -m espnet_ser.bin.<name> --help``)."""
