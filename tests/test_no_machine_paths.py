"""No committed record names the machine that wrote it: executed notebooks, benchmark records, real results
and the shipped model's JSON hold repository-relative paths or placeholders (`<tmp>`, `<repo>`, ...), never
a home, clone or temporary folder of one computer (papermill, pip and --save paths once leaked in)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the committed files that machines write: executed notebooks, benchmark records, results, the shipped model
RECORDS = re.compile(r"^(notebooks/[^/]+\.ipynb|benchmarks/results/.+|results/.+\.(json|md|txt|ipynb)"
                     r"|checkpoints/course/[^/]+\.json)$")
# an absolute path that starts a string or follows a quote, a space, '=', ':' or '/' (file:///tmp/...), not
# a folder name inside a relative path or URL (data/home/..., https://host/home/...)
MACHINE_PATH = re.compile(r"(?<![\w.-])(/work/|/root/|/home/|/tmp/|/Users/|/private/var/|/var/folders/|/opt/"
                          r"|[A-Za-z]:\\{1,2}(Users|Windows|tmp|Temp)\b)")


def machine_paths(text: str) -> list[str]:
    """Each machine path in `text`, with a little context."""
    return [text[max(0, m.start() - 30):m.end() + 40].replace("\n", " ") for m in MACHINE_PATH.finditer(text)]


def tracked_records() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the committed files cannot be listed")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode:
        pytest.skip(f"not a git checkout ({listed.stderr.strip()[:80]})")
    return [p for p in listed.stdout.split("\0") if RECORDS.match(p) and (ROOT / p).is_file()]


def test_no_committed_record_holds_a_machine_path():
    records = tracked_records()
    assert any(p.startswith("notebooks/") for p in records) and any(p.startswith("benchmarks/results/") for p in records)
    found = {}
    for rel in records:
        data = (ROOT / rel).read_bytes()
        if b"\0" in data[:4096]:  # an image or other binary record
            continue
        hits = machine_paths(data.decode("utf-8", errors="replace"))
        if hits:
            found[rel] = hits[:3]
    assert not found, f"machine paths in committed files (make them relative or a placeholder such as <tmp>): {found}"


@pytest.mark.parametrize("text", [
    '"input_path": "/work/main/notebooks/01_eda.ipynb"', "  /tmp/pip-build-env-ab_/overlay/x.py:3: warning",
    "--save /root/out/gpu.json", "'file:///opt/pypi-more/simple/six/'", r'"C:\\Users\\me\\wikiart"',
    "/Users/me/wikiart", "/private/var/folders/x", "cwd=/home/user/repo"])
def test_machine_paths_are_found(text):
    assert machine_paths(text)


@pytest.mark.parametrize("text", [
    '"input_path": "notebooks/01_eda.ipynb"', "<tmp>/pip-build-env-ab_/overlay/x.py", "--save <home>/out/gpu.json",
    "https://github.com/home/tmp/repo", "data/home/x.jpg", '"DATA_DIR": "../data/wikiart-subset-112"',
    'PROJECT_DIR = "/content/" + name'])
def test_relative_paths_and_placeholders_pass(text):
    assert not machine_paths(text)
