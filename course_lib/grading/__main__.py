"""``python -m course_lib.grading release | grade | workspace``: see ``exercises/README.md``."""

from __future__ import annotations

import argparse
import pathlib
import sys
import time


def _release(args: argparse.Namespace) -> int:
    from course_lib.grading.release import release

    started = time.perf_counter()
    names = release(args.masters, args.out, only=args.only or None, wheel=not args.no_wheel,
                    jobs=args.jobs)
    print(f"released {', '.join(names)} into {args.out}/student and {args.out}/autograder "
          f"in {time.perf_counter() - started:.0f} s")
    if args.no_wheel:
        print("(bundles without the course's wheel: they grade with make grade; for Gradescope "
              "run make release)")
    return 0


def _workspace(args: argparse.Namespace) -> int:
    from course_lib.grading.release import workspace

    added = workspace(args.student, args.exercises)
    if added:
        print(f"exercises ready in {args.exercises}/: {', '.join(added)}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from course_lib.grading.bundles import load_bundles
    from course_lib.grading.grade import find_submissions, grade_folder, write_results
    from course_lib.grading.session import Limits, exposed, sandbox_read_paths

    if not args.submissions.exists():
        print(f"no such folder: {args.submissions}", file=sys.stderr)
        return 2
    bundles = load_bundles(args.bundles)
    if not bundles:
        print(f"no grading bundles (*-autograder.zip) in {args.bundles}: run `make release` "
              "first", file=sys.stderr)
        return 2
    if args.assignment and args.assignment not in bundles:
        print(f"unknown --assignment {args.assignment}; the bundles are: "
              f"{', '.join(sorted(bundles))}", file=sys.stderr)
        return 2
    limits = Limits(memory_mb=args.memory_mb, total_seconds=args.time_limit,
                    cell_seconds=args.cell_seconds, call_seconds=args.call_seconds,
                    landlock=not args.no_sandbox)
    readable = exposed([args.bundles, args.masters])
    if readable and not args.no_sandbox:
        print(f"warning: submissions can read {', '.join(readable)} (it lies under a path the "
              "sandbox must allow)", file=sys.stderr)
    count = len(find_submissions(args.submissions))
    print(f"grading {count} notebook(s) from {args.submissions} with "
          f"{args.jobs or 'all'} worker(s)", flush=True)
    started = time.perf_counter()

    def progress(outcome, done, total):
        score = f"{outcome.total:g}/{outcome.possible:g}" if outcome.possible else "-"
        print(f"[{done}/{total}] {outcome.file}: {score} {outcome.status}", flush=True)

    outcomes, seed = grade_folder(args.submissions, args.bundles, jobs=args.jobs, limits=limits,
                                  seed=args.seed, assignment=args.assignment,
                                  progress=progress)
    selected = {args.assignment: bundles[args.assignment]} if args.assignment else bundles
    elapsed = time.perf_counter() - started
    write_results(outcomes, selected, args.out, {
        "seed": seed, "limits": limits, "bundles": sorted(selected),
        "submissions_folder": str(args.submissions), "seconds": round(elapsed, 1),
        "sandbox_read_paths": sandbox_read_paths()})
    ungraded = sum(not o.status.startswith("graded") for o in outcomes)
    print(f"graded {len(outcomes) - ungraded} of {len(outcomes)} in {elapsed:.0f} s "
          f"(seed {seed}); gradebook: {args.out / 'gradebook.csv'}, feedback: "
          f"{args.out / 'feedback'}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading",
                                     description="exercise release and autograding")
    sub = parser.add_subparsers(dest="command", required=True)

    rel = sub.add_parser("release", help="student notebooks and grading bundles from the masters")
    rel.add_argument("--masters", type=pathlib.Path, default=pathlib.Path("exercises/masters"))
    rel.add_argument("--out", type=pathlib.Path, default=pathlib.Path("dist"))
    rel.add_argument("--only", action="append", metavar="SET", help="only this set (repeatable)")
    rel.add_argument("--no-wheel", action="store_true",
                     help="do not put a wheel of the course into the bundles (faster; the "
                          "bundles then do not run on Gradescope)")
    rel.add_argument("--jobs", type=int, default=2)
    rel.set_defaults(run=_release)

    grade = sub.add_parser("grade", help="grade every *.ipynb under a folder")
    grade.add_argument("submissions", type=pathlib.Path)
    grade.add_argument("--bundles", type=pathlib.Path, default=pathlib.Path("dist/autograder"))
    grade.add_argument("--masters", type=pathlib.Path, default=pathlib.Path("exercises/masters"))
    grade.add_argument("--out", type=pathlib.Path, default=pathlib.Path("dist/grades"))
    grade.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    grade.add_argument("--seed", type=int, default=None, help="repeat a run's hidden inputs")
    grade.add_argument("--assignment", default=None, help="grade only this set; others get 0")
    grade.add_argument("--memory-mb", type=int, default=2048)
    grade.add_argument("--time-limit", type=float, default=150.0,
                       help="seconds per submission, everything included")
    grade.add_argument("--cell-seconds", type=float, default=10.0,
                       help="CPU seconds per cell (3x as many wall-clock seconds for a wait)")
    grade.add_argument("--call-seconds", type=float, default=5.0,
                       help="CPU seconds per call of a learner's function")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="do not apply Landlock (resource limits still apply)")
    grade.set_defaults(run=_grade)

    ws = sub.add_parser("workspace", help="copy student notebooks into exercises/ (once)")
    ws.add_argument("--student", type=pathlib.Path, default=pathlib.Path("dist/student"))
    ws.add_argument("--exercises", type=pathlib.Path, default=pathlib.Path("exercises"))
    ws.set_defaults(run=_workspace)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
