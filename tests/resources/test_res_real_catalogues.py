"""Real catalogues from the shared data folder (skipped when it is absent)."""

from __future__ import annotations

import pandas as pd
import pytest

from edu_recsys.resources import (
    QualityEstimator,
    curation_report,
    ednet_lecture_catalogue,
    load_oulad_vle,
)

pytestmark = pytest.mark.realdata


def test_oulad_vle_loads_every_resource(data_dir):
    cat = load_oulad_vle(data_dir)
    raw = pd.read_csv(data_dir / "oulad_partial" / "vle.csv")
    assert len(cat) == len(raw) == 6364
    assert cat.provenance["rows_loaded"] == cat.provenance["rows_in_file"]
    assert set(cat.resources["resource_id"]) == set(raw["id_site"].astype(str))
    counts = cat.resources["activity_type"].value_counts()
    assert counts["resource"] == 2660 and counts["oucontent"] == 996
    assert (
        cat.resources.loc[cat.resources["activity_type"] == "oucontent", "type"] == "courseware"
    ).all()
    assert set(cat.resources["subject"]) == {"STEM", "Social Sciences"}
    # weeks become concepts when planned
    planned = cat.resources[cat.resources["week_from"].notna()].iloc[0]
    assert f"{planned['code_module']}:week{int(planned['week_from'])}" in planned["concept_ids"]
    assert len(cat.usage) == 0 and "no studentVle" in cat.provenance["usage"]
    q = QualityEstimator().fit(cat).quality_
    assert (q["quality_fallback"] == "new_resource").all()


def test_ednet_lectures_with_real_usage(data_dir):
    cat = ednet_lecture_catalogue(data_dir=data_dir)
    assert len(cat) == 1021 and (cat.resources["type"] == "video").all()
    assert cat.usage["student_id"].nunique() == 5
    assert cat.provenance["sessions"] == len(cat.usage) == 178
    assert cat.provenance["dropped"]["usage"] == 0
    q = QualityEstimator().fit(cat).quality_
    assert q["n_uses"].sum() == 178
    rep = curation_report(q, cat)
    assert len(rep) == 1021 and set(rep["verdict"]) == {"watch"}
