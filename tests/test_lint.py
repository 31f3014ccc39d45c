"""ruff (configured in pyproject.toml) finds nothing in the application, the tests or the benchmarks."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    """ruff from the test environment (it is in the `test` extra), else from PATH."""
    beside_python = Path(sys.executable).with_name("ruff")
    if beside_python.exists():
        return [str(beside_python)]
    found = shutil.which("ruff")
    assert found, "ruff is not installed: run scripts/setup --test"
    return [found]


def test_ruff_finds_nothing_in_app_tests_and_bench():
    command = [*_ruff(), "check", "--no-cache", "--output-format=concise", "app", "tests", "bench"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"ruff check app tests bench:\n{result.stdout}{result.stderr}"
