"""ingest() and discover() refuse a missing folder, or a file given as the folder, with the same error."""

from __future__ import annotations

from pathlib import Path

import pytest

from hstlc.catalog import Catalog
from hstlc.errors import FilingError, InputFileError, message_with_path
from hstlc.ingestion import ingest
from hstlc.ingestion.discovery import discover
from support.ingest import make_settings


def _given(tmp_path: Path, kind: str) -> tuple[Path, str]:
    if kind == "missing":
        return tmp_path / "nope", "folder not found"
    path = tmp_path / "lb4m01aaq_corrtag_a.fits"
    path.write_bytes(b"not a folder")
    return path, "not a folder (give the folder that holds the event files)"


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_ingest_raises_the_input_error_discover_raises(tmp_path: Path, kind: str) -> None:
    folder, problem = _given(tmp_path, kind)
    database = tmp_path / "catalog.db"
    catalog = Catalog.from_url(f"sqlite:///{database}")
    try:
        with pytest.raises(InputFileError) as from_ingest:
            ingest(folder, settings=make_settings(tmp_path / "home"), catalog=catalog)
    finally:
        catalog.dispose()
    with pytest.raises(InputFileError) as from_discover:
        discover(folder)
    for info in (from_ingest, from_discover):
        assert not isinstance(info.value, FilingError)  # a problem with the user's input, not with filing
        assert info.value.problem == problem
        assert message_with_path(info.value) == f"{folder}: {problem}"  # what the CLI prints after Error:
    assert type(from_ingest.value) is type(from_discover.value)
    assert not database.exists()  # refused before the catalog is created
