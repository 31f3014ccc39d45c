"""The benchmarks in bench/ are not run by the suite (they take minutes and print figures), but
each must still start: a moved helper or a renamed import should fail here, not months later."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((REPO / "bench").glob("*.py"))


def test_there_are_benchmarks():
    assert BENCHMARKS


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda path: path.name)
def test_each_benchmark_imports_and_explains_its_options(script):
    result = subprocess.run([sys.executable, str(script), "--help"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "usage:" in result.stdout.lower()
