"""Emotion over time holds one window in memory: an hour of audio peaks within 100 MB of a minute."""

import json
import subprocess
import sys

import soundfile as sf


from helpers import ROOT
from timeline_fixtures import CONF, FS, model, tone  # noqa: F401  (fixtures and helpers shared with another layer)


def test_memory_flat_from_one_minute_to_one_hour(model, tmp_path):
    """Peak memory (VmHWM of the process) of a 60-minute recording within 100 MB of a 1-minute one."""
    def write(path, minutes):
        with sf.SoundFile(path, "w", FS, 1, subtype="PCM_16") as f:
            for m in range(minutes):
                f.write(tone(m % 5, 60.0, m))
        return path

    short, long = write(tmp_path / "short.wav", 1), write(tmp_path / "long.wav", 60)
    code = ("import sys\nfrom espnet_ser.bin import ser_inference\n"
            "rc = ser_inference.main(sys.argv[1:])\n"
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n")

    def peak_kb(wav, out):
        p = subprocess.run([sys.executable, "-c", code, "--model", str(model), "--out", str(out), str(wav), "--timeline",
                            "--timeline_window", "2", "--timeline_hop", "2", "--no_progress"],
                           capture_output=True, text=True, cwd=ROOT)
        assert p.returncode == 0, p.stderr[-2000:]
        return int(p.stdout.strip().splitlines()[-1])

    a, b = peak_kb(short, tmp_path / "o1"), peak_kb(long, tmp_path / "o60")
    assert len(json.loads((tmp_path / "o60" / "timeline" / "long.json").read_text())["windows"]) == 1800
    assert b - a < 100 * 1024, (a, b)
