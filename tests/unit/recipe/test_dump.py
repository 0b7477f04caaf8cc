"""Stage 2 (espnet_ser.recipe.dump.format_data_dir) over several data dirs that share audio."""

import numpy as np
import soundfile as sf

from espnet_ser.labels import Utterance, read_data_dir, write_data_dir
from espnet_ser.recipe.dump import format_data_dir


def test_a_dir_whose_audio_was_all_converted_for_an_earlier_dir(tmp_path):
    """Audio at 24 kHz listed by two data dirs (two folds' train and test): the first converts it, the second
    only points at those conversions, and its formatted dir is written all the same."""
    utts = []
    for i in range(4):
        path = tmp_path / "wav" / f"u{i}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, np.sin(np.arange(24000) * (0.01 + 0.002 * i)).astype(np.float32), 24000)
        utts.append(Utterance(f"u{i}", str(path), f"s{i % 2}", "angry", None))
    write_data_dir(utts, tmp_path / "data" / "fold1" / "train")
    write_data_dir(utts[2:], tmp_path / "data" / "fold2" / "test")
    shared = {}
    first = format_data_dir(tmp_path / "data" / "fold1" / "train", tmp_path / "dump" / "fold1" / "train", shared)
    second = format_data_dir(tmp_path / "data" / "fold2" / "test", tmp_path / "dump" / "fold2" / "test", shared)
    assert (first["converted"], first["shared"]) == (4, 0) and (second["converted"], second["shared"]) == (2, 2)
    out = read_data_dir(tmp_path / "dump" / "fold2" / "test")
    converted = {u.utt_id: u.path for u in read_data_dir(tmp_path / "dump" / "fold1" / "train")}
    assert [(u.utt_id, u.path) for u in out] == [("u2", converted["u2"]), ("u3", converted["u3"])]
    assert sf.info(out[0].path).samplerate == 16000 and sf.info(out[0].path).frames == 16000
