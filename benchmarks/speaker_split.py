"""What holding out speakers by name costs before the scan (`--valid-speakers`): the names' check and the split of a
LibriTTS-like key list (train/<speaker>/<chapter>/<file>.wav), CPU seconds of this process.

    python benchmarks/speaker_split.py --speakers 2000 --held 500

2000 speakers x 30 clips, 500 held out: 81 s when each name parsed every clip's path, ~0.1 s since each folder is
parsed once (2-core AMD EPYC Zen 4, 2026-12-08).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hifigan.data.speakers import speaker_problems, speakers_held_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=2000)
    parser.add_argument("--clips", type=int, default=30, help="clips per speaker (3 chapters)")
    parser.add_argument("--held", type=int, default=500, help="speakers held out")
    args = parser.parse_args()
    chapter = range(max(1, args.clips // 3))
    keys = [f"train/{s}/{c}/{s}_{c}_{u}.wav" for s in range(args.speakers) for c in range(3) for u in chapter]
    files = [Path("/corpus") / k for k in keys]
    names = [str(s) for s in range(args.speakers - args.held, args.speakers)]  # not 0-2, the chapters' names
    started = time.process_time()
    problems = speaker_problems(keys, names, None, True)
    train, valid, _ = speakers_held_out(files, keys, names, True)
    seconds = time.process_time() - started
    print(json.dumps({"clips": len(keys), "speakers": args.speakers, "held": args.held, "problems": len(problems),
                      "held_out_clips": len(valid), "training_clips": len(train), "cpu_s": round(seconds, 3)}))


if __name__ == "__main__":
    main()
