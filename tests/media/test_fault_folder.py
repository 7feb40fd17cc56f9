"""A folder of corrupt and hostile files mixed with good ones, through the real CLI.

`safestream hash`, `bank add` and `match` each go on past every bad file with one error line
naming it; every good file is hashed, banked and matched. (`bench_faults` runs 200 files.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.fault_media import run_folder

pytestmark = pytest.mark.timeout(600)


def test_every_good_file_is_matched_and_every_bad_one_is_one_error_line(tmp_path: Path) -> None:
    result = run_folder(tmp_path / "folder", 20, tmp_path / "home", time_each_kind=False)
    hashed, added, matched = result.runs
    assert result.good_hashed == result.good_matched == result.good
    assert result.bad_with_one_error_line == result.bad
    assert result.other_error_lines == 0
    assert added.exit_code == 0 and hashed.exit_code == matched.exit_code == 1
