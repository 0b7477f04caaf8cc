"""Merge data dirs of several corpora, keeping only chosen label types from each (mismatched training).

A source is ``(prefix, data_dir, label_types)`` with label types among ``emotion`` and ``vad``. Ids and
speakers get ``<prefix>-`` in front; labels of the types not kept are written as missing (``nan``).
An utterance left with no label is dropped and counted. The evaluators' labels
(``emotion_votes``, ``vad_raters``) go with the label type they refine. The same corpus may appear twice with
different label types (it is then merged into one utterance carrying the union of kept types).

The paper's Table-2 rows (what each corpus contributes) are in :mod:`espnet_ser.spec`;
:func:`size_matched_subset` draws the MSP-Podcast training subset of the IEMOCAP training-set size.
"""

import json
from pathlib import Path
from typing import Dict, Iterable, Sequence, Tuple

import numpy as np

from espnet_ser.errors import InputError
from espnet_ser.corpora.drops import DropCounter
from espnet_ser.labels import (UTT_FILES, Utterance, check_name, read_data_dir, read_table, spk2utt_lines, write_data_dir,
                               write_table)

from espnet_ser.spec import LABEL_TYPES


#: the per-utterance files (``utt value`` lines) of a data dir, a formatted dir or a feature-cache dir
KEYED_FILES = ("wav.scp", "feats.scp", "utt2spk", "utt2num_samples", "feats_shape", *UTT_FILES)


def merge_dirs(dirs: Sequence[Path], out_dir) -> Path:
    """``out_dir``: the utterances of ``dirs`` (one corpus's sets, e.g. a fold's train and dev) as one dir.

    Every per-utterance file (:data:`KEYED_FILES`) present in the first dir is merged, lines sorted, and
    ``spk2utt`` rebuilt; ``frontend_args`` (a feature cache's) is copied. The audio or feature files are
    the sources' own (the scp lines are copied, not the files). A file that some of the dirs lack, a
    ``frontend_args`` that differs, or an utterance in two dirs is an error naming them (an optional data
    file lacking an utterance would fail ESPnet's loader mid-training). A file is rewritten only when its
    content changes, so a merge repeated by a later run leaves the dir as it was.
    """
    dirs, out = [Path(d) for d in dirs], Path(out_dir)
    names = [f for f in KEYED_FILES if (dirs[0] / f).is_file()]
    for d in dirs[1:]:
        have = {f for f in KEYED_FILES if (d / f).is_file()}
        if have != set(names):
            raise InputError(f"cannot merge {dirs[0]} and {d}: their per-utterance files differ "
                             f"({sorted(set(names) ^ have)})")
    args = {(d / "frontend_args").read_text() if (d / "frontend_args").is_file() else None for d in dirs}
    if len(args) > 1:
        raise InputError(f"cannot merge {', '.join(map(str, dirs))}: their frontend_args differ (features of other frontends)")
    tables = {}
    for f in names:
        merged: Dict[str, str] = {}
        for d in dirs:
            for utt, value in read_table(d / f).items():
                if utt in merged:
                    raise InputError(f"{d / f}: utterance {utt} is also in another of the merged dirs ({', '.join(map(str, dirs))})")
                merged[utt] = value
        tables[f] = merged
    files = {f: [f"{u} {v}" for u, v in sorted(t.items())] for f, t in tables.items()}
    files["spk2utt"] = spk2utt_lines(tables["utt2spk"].items())
    arg = args.pop()
    out.mkdir(parents=True, exist_ok=True)
    for f, lines in files.items():
        if not (out / f).is_file() or (out / f).read_text(encoding="utf-8").splitlines() != lines:
            write_table(out / f, lines)
    if arg is not None and (not (out / "frontend_args").is_file() or (out / "frontend_args").read_text() != arg):
        (out / "frontend_args").write_text(arg)
    return out


def size_matched_subset(src_dir, like_dir, out_dir, seed: int = 0) -> dict:
    """A seeded random subset of ``src_dir`` with as many utterances as ``like_dir`` (:func:`subset`)."""
    want = sum(1 for _ in open(Path(like_dir) / "wav.scp"))
    return subset(src_dir, want, out_dir, seed, size_of=str(like_dir))


def subset(src_dir, want: int, out_dir, seed: int = 0, **about) -> dict:
    """A seeded random subset of ``want`` utterances of ``src_dir`` (all of them if fewer).

    Writes the subset to ``out_dir`` and ``out_dir/subset.json`` (source, size asked, size drawn, seed,
    and ``about``).
    """
    utts = read_data_dir(src_dir)
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(utts), size=min(want, len(utts)), replace=False).tolist())
    out = write_data_dir([utts[i] for i in pick], out_dir)
    report = {"source": str(src_dir), **about, "asked": want, "drawn": len(pick), "seed": seed, "available": len(utts)}
    if len(pick) < want:
        report["note"] = f"the source has only {len(utts)} utterances: all taken, fewer than the {want} asked"
        print(f"[combine] WARNING {out}: {report['note']}")
    (out / "subset.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


def combine(sources: Iterable[Tuple[str, Path, Sequence[str]]], out_dir) -> dict:
    merged: Dict[str, Utterance] = {}
    counter = DropCounter("combine")
    per_source = {}
    dir_of: Dict[str, Path] = {}
    for prefix, data_dir, keep in sources:
        # a prefix names one corpus: the same prefix on two data dirs would merge one's audio with the other's labels
        if prefix in dir_of and dir_of[prefix] != Path(data_dir).resolve():
            raise InputError(f"prefix {prefix!r} is given to two data dirs ({dir_of[prefix]} and {data_dir}); give each "
                             "corpus its own prefix (the same dir may repeat with other label types)")
        dir_of[prefix] = Path(data_dir).resolve()
        bad = [t for t in keep if t not in LABEL_TYPES]
        if bad or not keep:
            raise InputError(f"label types for {prefix} must be among {LABEL_TYPES}, got {list(keep)}")
        if "-" in prefix or not prefix:
            raise InputError(f"prefix must be non-empty without '-': {prefix!r}")
        check_name(prefix, "prefix", "combine --source")
        n = 0
        for u in read_data_dir(data_dir):
            uid = f"{prefix}-{u.utt_id}"
            keep_emotion, keep_vad = "emotion" in keep, "vad" in keep
            emotion = u.emotion if keep_emotion else None
            votes = u.votes if keep_emotion else None
            vad = u.vad if keep_vad else None
            raters = u.vad_raters if keep_vad else None
            if uid in merged:  # the same corpus listed again for other label types
                m = merged[uid]
                if emotion is not None:
                    m.emotion, m.votes = emotion, votes
                if vad is not None:
                    m.vad, m.vad_raters = vad, raters
                continue
            merged[uid] = Utterance(uid, u.path, f"{prefix}-{u.speaker}", emotion, vad, votes=votes, vad_raters=raters)
            n += 1
        per_source[f"{prefix}:{data_dir}:{'+'.join(keep)}"] = n
    kept = []
    for uid, u in sorted(merged.items()):
        if u.emotion is None and not u.has_vad():
            counter.drop("no_kept_label", uid)
            continue
        kept.append(u)
    counter.kept = len(kept)
    out = write_data_dir(kept, out_dir)
    report = {"sources": per_source, "drops": counter.as_dict(),
              "with_emotion": sum(u.emotion is not None for u in kept), "with_vad": sum(u.has_vad() for u in kept)}
    (out / "combine_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report
