"""espnet_ser/__init__.py: the shared constants and defer_import (ESPnet's unused text front-ends)."""

import inspect
import sys

import pytest

from espnet_ser import DEFAULT_CLASSES, VAD_DIMS, defer_import


def test_the_papers_classes_and_dimensions():
    assert DEFAULT_CLASSES == ("neutral", "angry", "happy", "sad", "disgust")
    assert VAD_DIMS == ("valence", "arousal", "dominance")


@pytest.fixture
def packages(tmp_path, monkeypatch):
    """Two packages whose import appends to a log file: ``heavy`` (one module) and ``pk`` whose __init__
    imports its submodule ``sub``, as tacotron_cleaner's does."""
    log = tmp_path / "log"
    (tmp_path / "heavy").mkdir()
    (tmp_path / "heavy" / "__init__.py").write_text(f"open({str(log)!r}, 'a').write('heavy ')\ndef f():\n    return 7\n")
    (tmp_path / "pk").mkdir()
    (tmp_path / "pk" / "__init__.py").write_text(f"open({str(log)!r}, 'a').write('pk ')\nfrom . import sub\n")
    (tmp_path / "pk" / "sub.py").write_text(f"open({str(log)!r}, 'a').write('sub ')\ndef g(x):\n    return x + 1\n")
    (tmp_path / "solo.py").write_text(f"open({str(log)!r}, 'a').write('solo ')\ndef h():\n    return 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield lambda: log.read_text() if log.exists() else ""
    for name in ("heavy", "pk", "pk.sub", "solo"):
        sys.modules.pop(name, None)


def test_a_deferred_module_runs_when_first_used_and_then_behaves_as_itself(packages):
    defer_import("heavy")
    import heavy

    assert packages() == ""
    # what inspect.getmodule (torch, at import) asks of every module does not load it
    assert hasattr(heavy, "__file__") and heavy.__file__.endswith("heavy/__init__.py")
    inspect.getmodule(test_a_deferred_module_runs_when_first_used_and_then_behaves_as_itself)
    assert packages() == ""
    assert heavy.f() == 7 and packages() == "heavy "
    assert heavy.f() == 7 and packages() == "heavy "          # once
    with pytest.raises(AttributeError):
        heavy.nothing_of_that_name


def test_a_deferred_submodule_and_its_package(packages):
    defer_import("pk")
    defer_import("pk.sub")
    import pk.sub

    assert packages() == ""
    assert pk.sub.g(1) == 2 and packages() == "pk sub "


def test_from_a_deferred_module_import_a_name(packages):
    """``from solo import h`` asks the module whether it is a package (``__path__``) before it asks for
    ``h``: only ``h`` loads it."""
    defer_import("solo")
    import solo

    assert not hasattr(solo, "__path__") and packages() == ""
    from solo import h

    assert h() == 3 and packages() == "solo "


def test_missing_or_imported_modules_are_left_alone(packages):
    defer_import("no_such_module_here")
    assert "no_such_module_here" not in sys.modules
    import heavy

    defer_import("heavy")
    assert sys.modules["heavy"] is heavy and packages() == "heavy "


def test_espnets_task_imports_without_the_text_front_ends_which_still_work():
    import espnet_ser.model.task  # noqa: F401

    assert "inflect" not in sys.modules
    from espnet2.text.cleaner import TextCleaner

    assert TextCleaner(["tacotron"])("Dr. Smith paid $12") == "DOCTOR SMITH PAID TWELVE DOLLARS"
