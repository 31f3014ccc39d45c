"""Runs the JavaScript unit tests in tests/js/*.test.js with Node's own test runner (`node --test`).

No npm packages and no build: the tests load app/static/js/*.js as the browser does. Node is
required, not optional: without it this test fails (scripts/test installs Debian's nodejs).
Node runs in the zone of the shared rule cases (TZ=Europe/London): the phone reads wall clocks
in its own zone, and those cases cross the clock changes of that zone.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULE_CASES = HERE.parent / "lone_working" / "rule_cases.json"


def test_javascript_unit_tests_pass_under_node():
    node = shutil.which("node")
    assert node, "node is missing: install it (apt-get install -y nodejs) to run tests/js/*.test.js"
    files = sorted(str(path) for path in HERE.glob("*.test.js"))
    assert files, "no tests/js/*.test.js found"
    zone = json.loads(RULE_CASES.read_text(encoding="utf-8"))["zone"]
    result = subprocess.run([node, "--test", *files], cwd=HERE.parents[1], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TZ": zone})
    summary = [line for line in result.stdout.splitlines() if line.startswith(("# tests", "# pass", "# fail"))]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # At least the tests we know of ran (a runner that found nothing also exits 0).
    passed = int(next(line for line in summary if line.startswith("# pass")).split()[-1])
    assert passed >= 10, summary
