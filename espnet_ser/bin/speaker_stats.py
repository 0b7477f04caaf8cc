"""Write the speaker statistics of a training and a dev set for a ``normalize: speaker_mvn`` model.

    python -m espnet_ser.bin.speaker_stats CONFIG STATS_DIR TRAIN_DIR DEV_DIR

Runs CONFIG's frontend over each data dir's ``wav.scp`` and writes, per utterance, the mean and std of
its speaker's frames (speakers from ``utt2spk``) to ``STATS_DIR/speaker/{train,valid}/speaker_mvn``,
where the recipe's training stage reads them (:mod:`espnet_ser.model.speaker_mvn`).
"""

import argparse

from espnet_ser.errors import run_cli


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="speaker_stats", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("config", "stats_dir", "train_dir", "dev_dir"):
        p.add_argument(name)
    args = p.parse_args(argv)
    import espnet_ser.bin.espnet_quiet  # noqa: F401  (ESPnet import notice off stdout)
    from espnet_ser.recipe.train_args import speaker_stats

    for phase, path in speaker_stats(args.config, args.train_dir, args.dev_dir, args.stats_dir).items():
        print(f"speaker_stats: {phase} -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="speaker_stats"))
