"""The project carries its own rules: no citation of a path on someone's machine, and a licence.

Design notes live in docs/ (docs/design.md, docs/offline-sync.md); code and tests that cite a
document outside the repository (a sibling folder, an absolute path on a developer's or a build
machine) point readers at something they cannot open.
"""
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKED = ("app/", "tests/", "bench/", "docs/", "README.md")
# The sibling "shared" folder, or an absolute path under the build machines' "work" or "farm"
# folders (not, say, an https address that has such a folder in it). The examples are assembled from
# parts, so this file cites no such path itself and is checked like every other file.
SIBLING, WORK, FARM = "../" + "shared", "/" + "work/", "/" + "farm/"
FORBIDDEN = re.compile(re.escape(SIBLING) + r"|(?<![\w.:/-])/(?:work|farm)/")


def _tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--", *CHECKED], cwd=REPO, check=True,
                            capture_output=True).stdout.decode().split("\0")
    return [name for name in listed if name and (REPO / name).is_file()]


def test_no_tracked_file_cites_a_path_outside_the_repository():
    files = _tracked_files()
    assert any(name.startswith("app/") for name in files) and "README.md" in files, "git ls-files found too little"
    found = []
    for name in files:
        try:
            text = (REPO / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images and other binary files
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if FORBIDDEN.search(line):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    assert found == [], "cite docs/design.md or docs/offline-sync.md instead:\n" + "\n".join(found)


def test_the_pattern_catches_what_it_must_and_nothing_else():
    for cited in (f"see {SIBLING}/OFFLINE-PITFALLS.md", f"docs: {WORK}shared/OFFLINE-PITFALLS.md",
                  f"({FARM}notes/design.md)", f"path = '{WORK}main/app'"):
        assert FORBIDDEN.search(cited), cited
    for fine in ("docs/offline-sync.md", "https://example.org/work/x", "lone working/ work/", "homework/"):
        assert not FORBIDDEN.search(fine), fine


def test_the_design_notes_exist_and_number_the_pitfalls_one_to_sixteen():
    design = (REPO / "docs/design.md").read_text(encoding="utf-8")
    assert "One record never fails its batch" in design
    pitfalls = (REPO / "docs/offline-sync.md").read_text(encoding="utf-8")
    assert re.findall(r"^## (\d+)\. ", pitfalls, flags=re.MULTILINE) == [str(n) for n in range(1, 17)]


def test_the_licence_is_mit_and_the_project_says_so():
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    assert "Copyright (c) 2026 The Safer Libraries contributors" in licence
    assert "Permission is hereby granted, free of charge" in licence
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in licence
    assert re.search(r'^license = (\{text = "MIT"\}|"MIT")$', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
    assert "[LICENSE](LICENSE)" in (REPO / "README.md").read_text(encoding="utf-8")
