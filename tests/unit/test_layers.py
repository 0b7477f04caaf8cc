"""The import contract of docs/architecture.md: the package reads as the pipeline, and imports run only
from a layer to the layers below it (no cycle, nothing running back up).

Every ``import espnet_ser...`` of every module is read from its source (``ast``), so a new import that
breaks the layering fails here with the file and line named.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "espnet_ser"

#: bottom to top; a unit (a top-level module, or a sub-package as a whole) imports only from lower layers
LAYERS = (
    {"__init__"},
    {"errors", "metrics", "testing", "fusion"},
    {"labels", "compute_dtype", "locks", "safe_load", "waveform", "opensmile_views"},
    {"class_list"},
    {"corpora", "model"},
    {"classical"},
    {"spec"},
    {"inference"},
    {"recipe"},
    {"evaluation"},
    {"bin"},
)
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """``espnet_ser.model.decoder.branch`` -> ``model``; ``espnet_ser.labels`` -> ``labels``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    return ".".join(p for p in rel.parts if p != "__init__")


def imports(path: Path):
    """(line, imported espnet_ser module) of every absolute import in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names if a.name.startswith("espnet_ser"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("espnet_ser"):
            if node.module == "espnet_ser":  # from espnet_ser import labels: the module; DEFAULT_CLASSES: __init__
                yield from ((node.lineno, f"espnet_ser.{a.name}" if (PKG / f"{a.name}.py").exists()
                             or (PKG / a.name).is_dir() else "espnet_ser") for a in node.names)
            else:
                yield node.lineno, node.module


def test_every_unit_of_the_package_has_a_layer():
    units = {p.stem if p.is_file() else p.name for p in PKG.iterdir()
             if (p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").exists())}
    assert units == set(LAYER)


def test_unit_of_and_module_name_on_known_paths():
    assert unit_of("espnet_ser.model.decoder.branch") == "model"
    assert unit_of("espnet_ser") == "__init__"
    assert module_name(PKG / "model" / "decoder" / "__init__.py") == "espnet_ser.model.decoder"


def test_imports_run_down_the_layers_only():
    upward = []
    for path in sorted(PKG.rglob("*.py")):
        src = unit_of(module_name(path))
        for line, target in imports(path):
            dst = unit_of(target)
            if dst != src and LAYER[dst] >= LAYER[src]:
                upward.append(f"{path.relative_to(PKG.parent)}:{line}: {src} (layer {LAYER[src]}) imports {target} "
                              f"(layer {LAYER[dst]})")
    assert upward == []


def test_the_check_catches_an_upward_import(tmp_path):
    """The checker itself: a model module importing the recipe layer is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom espnet_ser.recipe.plan import make_splits\nfrom espnet_ser import labels, MISSING\n")
    found = list(imports(bad))
    assert found == [(2, "espnet_ser.recipe.plan"), (3, "espnet_ser.labels"), (3, "espnet_ser")]
    assert LAYER[unit_of(found[0][1])] > LAYER["model"] and LAYER[unit_of(found[1][1])] < LAYER["model"]


@pytest.mark.parametrize("name", ["model", "corpora"])
def test_siblings_of_one_layer_do_not_import_each_other(name):
    other = ({"model", "corpora"} - {name}).pop()
    hits = [f"{p.relative_to(PKG.parent)}:{line}" for p in (PKG / name).rglob("*.py")
            for line, target in imports(p) if unit_of(target) == other]
    assert hits == []
