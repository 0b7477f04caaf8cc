"""The model card's degradations, checked against their definitions (SNR, band limits, codec, room)."""

import numpy as np
import pytest

from espnet_ser.evaluation.model_card import CONDITIONS, FS, RT60, add_noise, mp3_round_trip, perturb, reverberate, room_impulse_response, telephone


def sine(freq: float, seconds: float = 2.0, amp: float = 0.3) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(FS * seconds)) / FS)).astype(np.float32)


def power_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2))


@pytest.mark.parametrize("snr", [20.0, 10.0, 0.0])
def test_noise_at_the_stated_snr(snr):
    x = sine(440, 4.0)
    y = add_noise(x, snr, np.random.default_rng(0))
    assert power_db(x) - power_db(y - x) == pytest.approx(snr, abs=0.1)       # SNR = 10 log10(P_signal / P_noise)


def test_telephone_band_keeps_speech_frequencies_and_drops_the_rest():
    for freq, lo, hi in ((1000, -1.0, 1.0), (6000, -200, -30.0), (100, -200, -10.0)):  # dB change of each tone
        x = sine(freq)
        y = telephone(x)
        assert y.size == x.size
        core = slice(FS // 4, -FS // 4)                                   # away from the filters' edges
        assert lo <= power_db(y[core]) - power_db(x[core]) <= hi, freq


def test_mp3_round_trip_is_lossy_but_close():
    x = sine(440) + sine(1300, amp=0.1)
    y = mp3_round_trip(x)
    assert y.size == x.size and not np.array_equal(x, y)
    lags = range(0, 3000)  # the codec's delay: the best alignment
    best = max(np.corrcoef(x[: x.size - 3000], y[lag: lag + x.size - 3000])[0, 1] for lag in lags)
    assert best > 0.95


def test_room_reverberation_time_and_level():
    import pyroomacoustics as pra

    rir = room_impulse_response(RT60)
    # Schroeder backward integration, the 5-35 dB decay extrapolated (T30), as rooms are measured
    assert pra.experimental.measure_rt60(rir, fs=FS, decay_db=30) == pytest.approx(RT60, abs=0.15)
    x = sine(300, 1.0)
    y = reverberate(x)
    assert y.size == x.size and power_db(y) == pytest.approx(power_db(x), abs=0.01) and not np.allclose(x, y)


def test_every_condition_applies():
    x = sine(500, 1.0)
    assert np.array_equal(perturb(x, "clean"), x)
    for c in CONDITIONS:
        assert perturb(x, c).shape == x.shape and np.isfinite(perturb(x, c)).all()
