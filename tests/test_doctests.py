"""The worked examples in the docstrings of the metric, significance and protocol modules hold."""

import doctest

import pytest

import espnet_ser.metrics
import espnet_ser.evaluation.significance
import espnet_ser.spec


@pytest.mark.parametrize("module", [espnet_ser.metrics, espnet_ser.evaluation.significance, espnet_ser.spec])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
