"""Fixtures of the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from hstlc.catalog import Catalog, upsert_metadata, upsert_outputs
from support.products import write_product


@pytest.fixture
def stocked(catalog: Catalog, tmp_path: Path) -> dict[str, Path]:
    files = {
        "flat": write_product(tmp_path / "out" / "lb4m01aaq_curve.fits", seed=1),
        "periodic": write_product(tmp_path / "out" / "lb4m01abq_curve.fits", seed=2, period=180.0),
        "comp": write_product(tmp_path / "c" / "hlsp_hstlc_hst_cos-fuv_x_g130m_1291_psa_v1_sci.fits", seed=3),
    }
    with catalog.session() as session:
        for key, root in (("flat", "lb4m01aaq"), ("periodic", "lb4m01abq")):
            row = upsert_metadata(session, f"{root}_corrtag_a.fits", path="/data")
            session.flush()
            upsert_outputs(
                session, row.id, individual_path=str(files[key].parent), individual_filename=files[key].name,
                composite_path=str(files["comp"].parent), composite_filename=files["comp"].name,
            )
    return files
