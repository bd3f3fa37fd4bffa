"""Ingest discovery: a/b pairing, STIS tag + derived corrtag, skipped files, recursion and exclusions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hstlc.errors import InputFileError
from hstlc.ingestion.discovery import discover


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")


def test_fuv_pair_is_one_dataset_with_its_x1d(tmp_path: Path) -> None:
    _touch(tmp_path, "lb4m01aaq_corrtag_b.fits", "lb4m01aaq_corrtag_a.fits", "lb4m01aaq_x1d.fits")
    found = discover(tmp_path)
    assert len(found.candidates) == 1
    c = found.candidates[0]
    assert c.rootname == "lb4m01aaq"
    assert [p.name for p in c.event_files] == ["lb4m01aaq_corrtag_a.fits", "lb4m01aaq_corrtag_b.fits"]
    assert c.x1d is not None and c.x1d.name == "lb4m01aaq_x1d.fits"
    assert c.is_fuv_pair and c.primary.name == "lb4m01aaq_corrtag_a.fits"
    assert found.skipped == ()


def test_single_segment_nuv_and_stis(tmp_path: Path) -> None:
    _touch(tmp_path, "lb4m02abq_corrtag_b.fits", "lb4m03acq_corrtag.fits", "o8k401010_tag.fits",
           "o8k401010_x1d.fits", "o8k401020_tag.fits", "o8k401020_corrtag.fits")
    found = {c.rootname: c for c in discover(tmp_path).candidates}
    assert sorted(found) == ["lb4m02abq", "lb4m03acq", "o8k401010", "o8k401020"]
    assert [p.name for p in found["lb4m02abq"].event_files] == ["lb4m02abq_corrtag_b.fits"]
    assert found["o8k401010"].tag is not None and found["o8k401010"].corrtag is None
    stis = found["o8k401020"]
    assert stis.primary.name == "o8k401020_tag.fits"
    assert stis.corrtag is not None and stis.corrtag.name == "o8k401020_corrtag.fits"


def test_other_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    _touch(tmp_path, "notes.txt", "lb4m01aaq_spt.fits", "lonely_x1d.fits", ".hstlc-tmp-abc-x.fits",
           "bad-name_corrtag.fits", "lb4m04adq_corrtag_a.fits", "lb4m04adq_corrtag.fits")
    os.symlink(tmp_path / "notes.txt", tmp_path / "link_corrtag.fits")
    found = discover(tmp_path)
    assert found.candidates == ()
    reasons = {s.path.name: s.reason for s in found.skipped}
    assert reasons["notes.txt"] == "not a corrtag, tag or x1d file"
    assert reasons["lb4m01aaq_spt.fits"] == "not a corrtag, tag or x1d file"
    assert reasons["lonely_x1d.fits"] == "x1d without an event file (_corrtag or _tag) beside it"
    assert reasons[".hstlc-tmp-abc-x.fits"] == "hidden or temporary file"
    assert reasons["bad-name_corrtag.fits"] == "rootname is not letters and digits"
    assert reasons["link_corrtag.fits"].startswith("symbolic link")
    assert reasons["lb4m04adq_corrtag.fits"].startswith("files of lb4m04adq do not form one dataset")


def test_recursive_descends_but_not_into_working_folders(tmp_path: Path) -> None:
    _touch(tmp_path, "lb4m01aaq_corrtag_a.fits")
    _touch(tmp_path / "sub" / "deeper", "lb4m05aeq_corrtag.fits")
    _touch(tmp_path / "filesystem" / "T", "lb4m06afq_corrtag.fits")
    assert [c.rootname for c in discover(tmp_path).candidates] == ["lb4m01aaq"]
    found = discover(tmp_path, recursive=True, exclude=[tmp_path / "filesystem"])
    assert [c.rootname for c in found.candidates] == ["lb4m01aaq", "lb4m05aeq"]


def test_same_rootname_in_two_folders_is_taken_once(tmp_path: Path) -> None:
    _touch(tmp_path / "a", "lb4m01aaq_corrtag_a.fits")
    _touch(tmp_path / "b", "lb4m01aaq_corrtag_a.fits")
    found = discover(tmp_path, recursive=True)
    assert len(found.candidates) == 1 and found.candidates[0].directory == tmp_path / "a"
    assert found.skipped[0].reason.startswith("dataset lb4m01aaq also found in")


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="folder not found"):
        discover(tmp_path / "nope")
