"""How long grading takes: one submission, and a class of 300 (measured, never asserted).

    .venv/bin/python benchmarks/grading_time.py                 # the full measurement
    .venv/bin/python benchmarks/grading_time.py --quick         # a smoke run (a few files)

1. Releases the exercise masters into a scratch folder (``otter assign``, no wheel), unless
   ``--dist`` names a release to reuse.
2. **One submission**: grades the full solutions of every set (one line per set), and a partly
   wrong and a blank submission, one at a time in this process (torch already imported, as in
   a grading worker), ``--repeat`` times each; prints the time per set and the median over all.
   Targets: median <= 5 s; the largest set <= 10 s.
3. **A class**: the adversarial corpus of ``tests/grading/corpus.py`` (correct, partial,
   blank, broken files, infinite loops, memory bombs, tampering), cycled to ``--copies``
   files, graded by ``grade_folder`` with ``--jobs`` worker processes and the default limits
   of ``make grade``. Target: 300 files in <= 10 minutes with 2 workers.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading"))

import corpus  # noqa: E402 - the test corpus, reused

from course_lib.grading import sandbox  # noqa: E402
from course_lib.grading.bundles import load_bundles  # noqa: E402
from course_lib.grading.grade import grade_file, grade_folder  # noqa: E402
from course_lib.grading.release import release  # noqa: E402
from course_lib.grading.session import Limits  # noqa: E402

#: The full solutions of every exercise set (the largest submission each set can get), and a
#: partly wrong, a wrong and an untouched one of the pilot.
ONE_AT_A_TIME = [f"solutions_{name[:2]}" for name in sorted(corpus.POINTS)] + [
    "wrong_nesterov", "partial_06", "untouched_10"]


def one_submission(dist: pathlib.Path, scratch: pathlib.Path, repeat: int) -> dict[str, float]:
    import torch

    torch.set_num_threads(1)
    bundles = load_bundles(dist / "autograder")
    chosen = [s for s in corpus.submissions() if s.name in ONE_AT_A_TIME]
    corpus.write_corpus(dist, scratch, chosen)
    grade_file(scratch / chosen[0].file, bundles)  # warm-up: the first imports
    times: dict[str, list[float]] = {s.name: [] for s in chosen}
    for _ in range(repeat):
        for submission in chosen:
            started = time.perf_counter()
            outcome = grade_file(scratch / submission.file, bundles)
            times[submission.name].append(time.perf_counter() - started)
            assert outcome.total == submission.expected_total(), (submission.name, outcome)
    return {name: statistics.median(values) for name, values in times.items()}


def a_class(dist: pathlib.Path, scratch: pathlib.Path, copies: int, jobs: int) -> dict:
    abi = sandbox.landlock_abi()
    mix = [s for s in corpus.submissions() if s.needs_landlock <= abi]
    folder = scratch / "class"
    folder.mkdir()
    for index in range(copies):
        submission = mix[index % len(mix)]
        data = corpus.build(submission, dist)
        (folder / f"{index:03d}_{submission.file}").write_bytes(data)
    started = time.perf_counter()
    outcomes, _ = grade_folder(folder, dist / "autograder", jobs=jobs, limits=Limits())
    elapsed = time.perf_counter() - started
    wrong = [o.file for o in outcomes
             if o.total != mix[int(o.file[:3]) % len(mix)].expected_total()]
    return {"files": len(outcomes), "seconds": elapsed, "kinds": len(mix),
            "misgraded": wrong, "slowest": sorted((round(o.seconds, 1), o.file)
                                                  for o in outcomes)[-5:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=pathlib.Path, help="reuse this release (a dist folder)")
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 6 copies, 1 repeat")
    parser.add_argument("--json", type=pathlib.Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    if args.quick:
        args.copies, args.repeat = 6, 1
    with tempfile.TemporaryDirectory(prefix="grading-time-") as tmp:
        scratch = pathlib.Path(tmp)
        dist = args.dist
        if dist is None:
            dist = scratch / "dist"
            started = time.perf_counter()
            release(ROOT / "exercises" / "masters", dist, only=list(corpus.POINTS), root=ROOT,
                    wheel=False)
            print(f"released the masters in {time.perf_counter() - started:.0f} s")
        (scratch / "one").mkdir()
        per_file = one_submission(dist, scratch / "one", args.repeat)
        print("\nOne submission at a time (median of "
              f"{args.repeat}; the grading process warm, as a worker is):")
        for name, seconds in per_file.items():
            print(f"  {name:16s} {seconds:6.2f} s")
        median = statistics.median(per_file.values())
        print(f"  median {median:.2f} s (target <= 5 s); largest set, full solutions: "
              f"{max(v for k, v in per_file.items() if k.startswith('solutions')):.2f} s "
              "(target <= 10 s)")
        result = a_class(dist, scratch, args.copies, args.jobs)
        print(f"\nA class: {result['files']} files cycling through {result['kinds']} kinds of "
              f"submission, {args.jobs} workers: {result['seconds']:.0f} s "
              f"({result['seconds'] / 60:.1f} min; target <= 10 min for 300 with 2 workers)")
        print(f"  slowest files: {result['slowest']}")
        if result["misgraded"]:
            print(f"  MISGRADED: {result['misgraded']}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"one_submission": per_file, "median": median,
                                             "class": result}, indent=2) + "\n")
    return 1 if result["misgraded"] else 0


if __name__ == "__main__":
    sys.exit(main())
