"""espnet-ser: speech emotion recognition (discrete classes + valence/arousal/dominance) on ESPnet."""

__version__ = "0.1.0"

#: The paper's five classes, in the order of the model's outputs (token_list style).
DEFAULT_CLASSES = ("neutral", "angry", "happy", "sad", "disgust")
#: The continuous dimensions, in the order of the `vad` file's columns and the model's outputs.
VAD_DIMS = ("valence", "arousal", "dominance")
#: What a label file holds where a label is missing (class in `emotion`, a dimension in `vad`).
MISSING = "nan"


def defer_import(name: str) -> None:
    """Make ``import name`` cheap: ``sys.modules[name]`` becomes a stand-in that carries the module's
    ``__file__``, ``__path__`` and ``__spec__`` and imports the real module when any other attribute is
    first asked for (``name.G2p``), then takes on its contents. Code that uses the module sees no
    difference; a module already imported, or not installed, is left alone. (The standard library's
    ``LazyLoader`` does not serve here: ``inspect.getmodule``, which torch calls at import, asks every
    module for its ``__file__``, and that loads a ``LazyLoader`` module.)"""
    import importlib
    import importlib.util
    import sys
    import types

    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return

    def load() -> types.ModuleType:
        """The real module, imported on first use; the stand-in then holds its contents."""
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
            try:
                real = importlib.import_module(name)
            except BaseException:
                sys.modules[name] = stand_in
                raise
            stand_in.__dict__.update(real.__dict__)
        return sys.modules[name]

    class Deferred(types.ModuleType):
        def __getattr__(self, attr: str):  # only asked for what the stand-in does not hold
            if attr.startswith("__") and attr.endswith("__") and attr != "__all__":
                # what the import system and inspect ask of any module (a non-package's __path__, ...)
                raise AttributeError(attr)
            if sys._getframe(1).f_code.co_name == "whichmodule":
                # pickle's and skops's whichmodule ask every loaded module for a name to find an object's
                # home; a module nobody has used yet is not it
                raise AttributeError(attr)
            return getattr(load(), attr)

    stand_in = Deferred(name)
    stand_in.__spec__, stand_in.__file__ = spec, spec.origin
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = stand_in


# ESPnet's text front-ends run at import what speech emotion recognition never uses: the phoneme
# tokenizer imports g2p_en (with it nltk, and nltk's attempt to download its data) and the text cleaner
# imports tacotron_cleaner.cleaners, whose number expansion builds an inflect engine. Together about 4 s
# of CPU in every process that imports ESPnet's task; both still load, and work, the first time a
# tokenizer or cleaner uses them.
for _name in ("g2p_en", "tacotron_cleaner", "tacotron_cleaner.cleaners"):
    defer_import(_name)
del _name
