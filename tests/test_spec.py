"""One fact, one place: the recipe spec (espnet_ser/spec.py) and the variant registry are the only lists.

Each test reads the spec and greps the tracked code (Python and shell; the docs are prose and the
tests' transcriptions of the paper are the independent references the spec is checked against).
"""

import re
import subprocess
from pathlib import Path

from espnet_ser import spec
from espnet_ser.model.decoder import VARIANTS as REGISTRY

ROOT = Path(__file__).resolve().parents[1]
SPEC = "espnet_ser/spec.py"
REGISTRY_FILE = "espnet_ser/model/decoder/__init__.py"


def tracked_code(tests: bool = False):
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        p = ROOT / f
        if p.is_symlink() or not p.is_file() or f.startswith("tests/") != tests:
            continue
        if p.suffix in (".py", ".sh") or (p.suffix == "" and p.read_bytes()[:2] == b"#!"):
            yield f, p.read_text(encoding="utf-8")


def words(text: str, names) -> set:
    return {n for n in names if re.search(rf"(?<![\w/]){re.escape(n)}(?![\w])", text)}


def test_variant_names_are_listed_only_by_the_registry():
    assert spec.VARIANTS == tuple(REGISTRY) and len(REGISTRY) == 5
    # outside the registry (and the spec that reads it), code may name a variant (a default, an example),
    # but never two: two names in one file are the start of another list
    # (the paper's printed numbers are keyed by variant; their keys must be the registry's)
    from espnet_ser.evaluation.paper_numbers import PAPER

    assert set(PAPER["table1"]) == set(PAPER["table3"]) == set(spec.VARIANTS)
    exempt = (REGISTRY_FILE, SPEC, "espnet_ser/evaluation/paper_numbers.py")
    lists = {f: sorted(words(t, spec.VARIANTS)) for f, t in tracked_code() if f not in exempt}
    assert {f: v for f, v in lists.items() if len(v) > 1} == {}
    # tests read the list from the spec: a test names the variants it exercises, but never three or more
    # in a row (each within 30 characters of the last: a restated list or mapping)
    name = re.compile(r"(?<![\w/])(" + "|".join(spec.VARIANTS) + r")(?![\w])")
    restated = []
    for f, t in tracked_code(tests=True):
        run = 1
        for a, b in zip(list(name.finditer(t)), list(name.finditer(t))[1:]):
            run = run + 1 if b.start() - a.end() <= 30 else 1
            if run >= 3:
                restated.append(f"{f}: ...{t[max(0, b.start() - 60):b.end()]}")
    assert restated == []


def test_each_recipe_maps_to_its_table_in_the_spec_only():
    assert {r.table for r in spec.RECIPES.values() if r.paper} == {"table1", "table2", "table3"}
    assert sorted(p.parent.name for p in ROOT.glob("egs2/*/ser1") if p.parent.name != "TEMPLATE") == sorted(spec.RECIPES)
    table = re.compile(r"\btable[123]\b")
    hits = []
    for f, text in tracked_code():
        if f == SPEC:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if table.search(line) and words(line, spec.RECIPES):
                hits.append(f"{f}:{n}: {line.strip()}")
    assert hits == []
    # and the stage scripts do not enumerate the recipes (they ask: recipe fact recipes)
    stage_scripts = {f: sorted(words(t, spec.RECIPES)) for f, t in tracked_code() if f in ("run.sh", "egs2/TEMPLATE/ser1/ser.sh")}
    assert len(stage_scripts) == 2 and {f: r for f, r in stage_scripts.items() if len(r) > 1} == {}


def test_table2_rows_are_defined_only_in_the_spec():
    assert sorted(spec.TABLE2_ROWS) == list(range(1, 9))
    pair = re.compile(r"\(\s*(None|\"vad\"|\"emotion\"|'vad'|'emotion')\s*,\s*(None|\"vad\"|\"emotion\"|'vad'|'emotion')\s*\)")
    label_words = re.compile(r"\"(Cont|Disc)\.\"")
    hits = [f"{f}: {m.group(0)}" for f, t in tracked_code() if f not in (SPEC, REGISTRY_FILE)
            for m in [*pair.finditer(t), *label_words.finditer(t)]]
    # the one pair allowed outside: the label-file contract's definition of the label types
    assert hits == ['espnet_ser/labels.py: ("emotion", "vad")']
    assert 'LABEL_TYPES = ("emotion", "vad")' in (ROOT / "espnet_ser/labels.py").read_text()
