"""A small run of the parser fuzzer (tests/fuzz.py): no crash, one-line warnings, nothing valid lost."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_broken_and_hostile_files_are_skipped_with_one_line_warnings_and_nothing_valid_is_lost():
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "fuzz.py"), "--scale", "0.05", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0, report["crashes"]
    assert report["crashes"] == [] and report["controls_lost"] == []
    kinds = report["kinds"]
    assert kinds["control (valid)"]["read"] == 5
    for kind in ("docx: zip bomb (300 MB inside)", "html: nested 100,000 deep", "txt: 50 MB of text",
                 "pdf: image only (no text layer)", "pdf: more pages than the limit", "pdf: random bytes",
                 "docx: random bytes"):
        assert kinds[kind]["skipped"] >= 1 and kinds[kind].get("read", 0) == 0, kind
    assert kinds["pdf: truncated"]["skipped"] >= 1
    assert report["warnings"] >= 10 and report["indexed_files"] >= 5
