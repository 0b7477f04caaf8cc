"""The recipe spec (espnet_ser/spec.py) against the registry, the paper and the recipe dirs it describes."""

import subprocess
from pathlib import Path

import pytest

from espnet_ser import spec
from espnet_ser.evaluation.paper_numbers import PAPER
from espnet_ser.model.decoder import VARIANTS as REGISTRY

ROOT = Path(__file__).resolve().parents[2]
RECIPE_DIRS = sorted(p.parent.name for p in ROOT.glob("egs2/*/ser1") if p.parent.name != "TEMPLATE")


def test_variants_are_the_registry_and_the_papers():
    assert spec.VARIANTS == tuple(REGISTRY) and len(spec.VARIANTS) == 5
    assert set(PAPER["table1"]) == set(PAPER["table3"]) == set(spec.VARIANTS)
    # the baselines predict one label type each, as the paper's names say
    assert spec.VARIANT_OUTPUTS[spec.BASELINES["vad"]] == ("vad",)
    assert spec.VARIANT_OUTPUTS[spec.BASELINES["emotion"]] == ("emotion",)


def test_recipes_are_the_recipe_dirs_and_the_paper_tables():
    assert RECIPE_DIRS == sorted(spec.RECIPES)
    assert {r.table for r in spec.RECIPES.values() if r.paper} == {"table1", "table2", "table3"}
    assert spec.fact("paper_recipes").split() == [n for n, r in spec.RECIPES.items() if r.paper]


def test_table2_rows_are_the_papers_eight():
    # the paper's Table 2, transcribed: (IEMOCAP, MSP-Podcast) label types per row
    paper = {1: (None, "vad"), 2: ("vad", None), 3: (None, "emotion"), 4: ("emotion", None),
             5: ("vad", "vad"), 6: ("emotion", "emotion"), 7: ("vad", "emotion"), 8: ("emotion", "vad")}
    assert spec.TABLE2_ROWS == paper


def recipe_choices(name: str) -> dict:
    """The variables a recipe's run.sh sets before it calls ser.sh, as bash evaluates them."""
    script = ROOT / "egs2" / name / "ser1" / "run.sh"
    lines = [ln for ln in script.read_text().splitlines()
             if ln.split("=", 1)[0] in ("ser_config", "variants", "folds", "declaration")]
    out = subprocess.run(["bash", "-c", "\n".join(lines) + '\nprintf "%s\\n" "$ser_config" "${variants-}" "${folds-}"'],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert f'--recipe {name}' in script.read_text() and '"$@"' in script.read_text()
    return {"ser_config": out[0], "variants": out[1].split(), "folds": [int(f) for f in out[2].split()]}


@pytest.mark.parametrize("name", RECIPE_DIRS)
def test_each_recipe_names_an_existing_config_registered_variants_and_its_folds(name):
    c = recipe_choices(name)
    assert c["variants"] and set(c["variants"]) <= set(spec.VARIANTS)
    for v in c["variants"]:
        assert (ROOT / "egs2" / name / "ser1" / c["ser_config"].replace("{variant}", v)).is_file()
    assert set(c["folds"]) <= set(spec.recipe(name).folds)
    # a recipe with folds runs all of them; one without (a split, or folds as prepared) names none
    assert c["folds"] == list(spec.recipe(name).folds)


def test_fact_answers_the_shell():
    assert spec.fact("folds", "emodb") == " ".join(map(str, range(1, 11)))
    assert spec.fact("table", "msp_podcast") == "table3"
    with pytest.raises(ValueError, match="unknown fact"):
        spec.fact("nonsense", "iemocap")
