"""Rerun chapter 14's tuning search and write its results, course_lib/capstone_tuning.json.

    .venv/bin/python tools/tune_capstone.py            # every contestant, both kinds (~1-2 min)
    .venv/bin/python tools/tune_capstone.py --check    # recompute and compare with the file

Every contestant of course_lib.capstone runs at each rate of its grid on the tuning seeds
(0, 1, 2), with the warmup + cosine schedule and with a constant rate; the rate with the lowest
smoothed training loss wins (see course_lib.capstone for the protocol). The chapter reads the
file; tests/test_chapter_14.py reruns part of the search and compares.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from course_lib import capstone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the stored file instead of writing it")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest
    tuning = capstone.tune(progress=print)
    if not args.check:
        capstone.save_tuning(tuning)
        print(f"wrote {capstone.TUNING_FILE}")
        return 0
    stored = capstone.load_tuning()
    same = stored.chosen == tuning.chosen and all(
        np.allclose(stored.seed_scores[k][n], tuning.seed_scores[k][n], rtol=1e-9, atol=0)
        for k in tuning.seed_scores for n in tuning.seed_scores[k])
    print("the stored results are reproduced" if same else "the stored results DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
