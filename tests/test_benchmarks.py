"""The benchmark scripts run (their numbers are reported, never asserted)."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_step_time_quick_run_prints_ratios():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "step_time.py"), "--quick", "--threads", "1"],
        capture_output=True, text=True, check=True,
    )
    assert "worst ratio course_lib / torch" in out.stdout
    assert out.stdout.count("Adam") >= 2 and out.stdout.count("SGD momentum") >= 2
