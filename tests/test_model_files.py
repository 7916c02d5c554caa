"""The atomic writer on a real full disk, and in a folder removed under it."""

from __future__ import annotations

import errno
import shutil

import pytest
from helpers import fill_disk

from model import write_atomic


def test_a_write_on_a_full_disk_fails_keeping_the_old_file_and_no_temporary(small_disk):
    target = small_disk / "entry.json"
    target.write_text("old")
    fill_disk(small_disk)
    with pytest.raises(OSError) as raised:
        write_atomic(target, lambda path: path.write_text("new" * 10_000))
    assert raised.value.errno == errno.ENOSPC
    assert target.read_text() == "old"
    assert sorted(path.name for path in small_disk.iterdir()) == ["entry.json", "filler"]


def test_a_folder_removed_before_a_write_is_made_again(tmp_path):
    folder = tmp_path / "store" / "uploads"
    folder.mkdir(parents=True)
    shutil.rmtree(tmp_path / "store")
    write_atomic(folder / "data.csv", lambda path: path.write_text("month,value\n"))
    assert (folder / "data.csv").read_text() == "month,value\n"
