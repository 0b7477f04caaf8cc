"""The worked examples in the package's docstrings are checked: each is a hand-computed value."""

import doctest
import importlib
import pkgutil

import pytest

import espnet_ser

MODULES = sorted(m.name for m in pkgutil.walk_packages(espnet_ser.__path__, "espnet_ser.")
                 if not m.name.startswith("espnet_ser.bin."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed"
