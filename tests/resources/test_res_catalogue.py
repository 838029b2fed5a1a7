"""Catalogue validation and IO: clear errors, nothing silently dropped, round trips."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.resources import (
    RESOURCE_COLUMNS,
    as_catalogue,
    read_catalogue,
    read_resources,
    read_usage,
    synthetic_catalogue,
    synthetic_usage,
    validate_ratings,
    validate_resources,
    validate_usage,
    write_catalogue,
)


def _rows(**over):
    base = {
        "resource_id": ["v1", "e1", "r1"],
        "title": ["一元一次方程·微课", "习题", None],
        "type": ["微课", "Exercise Set", "reading"],
        "concept_ids": ["m7.eq", "m7.eq;m7.sys", ""],
        "grade": [7, 7, None],
        "minutes": [8, 15, None],
        "difficulty": [0.4, None, 0.7],
        "is_quality": ["是", 0, None],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_validate_types_and_defaults():
    df = validate_resources(_rows())
    assert list(df.columns) == list(RESOURCE_COLUMNS)
    assert df["type"].tolist() == ["video", "exercise_set", "reading"]
    assert df["concept_ids"].tolist() == [("m7.eq",), ("m7.eq", "m7.sys"), ()]
    assert df["title"][2] == "r1"  # missing title -> id
    assert df["is_quality"].tolist() == [True, False, False]
    assert df["grade"].isna().tolist() == [False, False, True]
    assert np.isnan(df["minutes"][2]) and np.isnan(df["difficulty"][1])
    assert len(df) == 3  # the row teaching no concept is kept


@pytest.mark.parametrize(
    "over, column, rows",
    [
        ({"minutes": [8, -1, 0]}, "minutes", [1, 2]),
        ({"difficulty": [0.4, 1.5, 0.7]}, "difficulty", [1]),
        ({"grade": [7, 13, 7]}, "grade", [1]),
        ({"resource_id": ["v1", "v1", "r1"]}, "resource_id", [0, 1]),
        ({"type": ["video", None, "reading"]}, "type", [1]),
    ],
)
def test_errors_name_column_and_rows(over, column, rows):
    with pytest.raises(InvalidDataError) as ei:
        validate_resources(_rows(**over))
    assert ei.value.column == column and ei.value.rows == rows


def test_missing_required_column():
    with pytest.raises(InvalidDataError, match="'type'"):
        validate_resources(pd.DataFrame({"resource_id": ["a"]}))


def test_csv_errors_point_to_file_lines(tmp_path):
    f = tmp_path / "res.csv"
    f.write_text("resource_id,type,minutes\na,video,5\nb,video,x\nc,video,-2\n", encoding="utf-8")
    with pytest.raises(InvalidDataError) as ei:
        read_resources(f)
    assert "res.csv" in str(ei.value) and "file lines 3, 4" in str(ei.value)


def test_round_trip_folder_json_jsonl(tmp_path):
    G = nx.DiGraph([("a", "b"), ("b", "c")])
    cat = synthetic_usage(synthetic_catalogue(G, per_concept=4, random_state=2), 30)
    folder = write_catalogue(cat, tmp_path / "cat")
    back = read_catalogue(folder)
    pd.testing.assert_frame_equal(back.resources, cat.resources)
    assert len(back.usage) == len(cat.usage) and len(back.ratings) == len(cat.ratings)
    assert back.usage["timestamp"].equals(cat.usage["timestamp"])
    # combined JSON, concept lists as lists
    res = cat.resources.assign(concept_ids=cat.resources["concept_ids"].map(list))
    res["grade"] = res["grade"].astype(object).where(res["grade"].notna(), None)
    obj = {
        "resources": json.loads(res.to_json(orient="records")),
        "ratings": json.loads(cat.ratings.drop(columns="timestamp").to_json(orient="records")),
    }
    (tmp_path / "c.json").write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    j = read_catalogue(tmp_path / "c.json")
    assert j.resources["concept_ids"].tolist() == cat.resources["concept_ids"].tolist()
    assert len(j.ratings) == len(cat.ratings)
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in obj["resources"])
    (tmp_path / "r.jsonl").write_text(lines, encoding="utf-8")
    assert len(read_resources(tmp_path / "r.jsonl")) == len(cat)


def test_unknown_resources_in_records_raise_or_are_counted():
    res = [{"resource_id": "a", "type": "video"}]
    usage = pd.DataFrame({"student_id": ["s", "s", "t"], "resource_id": ["a", "zz", "yy"]})
    with pytest.raises(InvalidDataError) as ei:
        as_catalogue(res, usage)
    assert ei.value.rows == [1, 2]
    cat = as_catalogue(res, usage, on_unknown="drop")
    assert len(cat.usage) == 1 and cat.provenance["dropped"] == {"usage": 2, "ratings": 0}


def test_usage_and_ratings_validation(tmp_path):
    u = validate_usage(
        pd.DataFrame(
            {
                "student_id": [1.0, 2.0],
                "resource_id": ["a", "b"],
                "timestamp": [1_700_000_000_000, 1_700_000_100_000],
                "completed": ["true", "否"],
            }
        )
    )
    assert u["student_id"].tolist() == ["1", "2"]
    assert u["completed"].tolist() == [1.0, 0.0]
    assert str(u["timestamp"].dt.tz) == "UTC" and u["timestamp"][0].year == 2023
    with pytest.raises(InvalidDataError) as ei:
        validate_usage(pd.DataFrame({"student_id": ["s", None], "resource_id": ["a", "b"]}))
    assert ei.value.column == "student_id" and ei.value.rows == [1]
    with pytest.raises(InvalidDataError, match="timestamp"):
        validate_usage(
            pd.DataFrame({"student_id": ["s"], "resource_id": ["a"], "timestamp": ["x"]})
        )
    with pytest.raises(InvalidDataError, match="completed"):
        validate_usage(
            pd.DataFrame({"student_id": ["s"], "resource_id": ["a"], "completed": [0.5]})
        )
    with pytest.raises(InvalidDataError) as ei:
        validate_ratings(
            pd.DataFrame({"student_id": ["s", "t"], "resource_id": "a", "rating": [3, 0]})
        )
    assert ei.value.rows == [1]
    f = tmp_path / "u.csv"
    f.write_text("student_id,resource_id,progress\n007,a,0.95\n008,a,1.2\n", encoding="utf-8")
    with pytest.raises(InvalidDataError, match="file lines 3"):
        read_usage(f)


def test_synthetic_catalogue_is_seeded_and_realistic():
    G = nx.gnp_random_graph(30, 0.1, seed=1, directed=True)
    G = nx.DiGraph([(u, v) for u, v in G.edges if u < v])
    G.add_nodes_from(range(30))
    G = nx.relabel_nodes(G, {i: f"k{i}" for i in range(30)})
    a = synthetic_catalogue(G, 300, random_state=5)
    b = synthetic_catalogue(G, 300, random_state=5)
    c = synthetic_catalogue(G, 300, random_state=6)
    pd.testing.assert_frame_equal(a.resources, b.resources)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.resources.equals(c.resources)
    assert set(a.concepts()) == set(G.nodes)  # every concept taught
    med = a.resources.groupby("type")["minutes"].median()
    assert med["video"] < med["exercise_set"]
    # multi-concept resources add a prerequisite of their main concept
    for cids in a.resources["concept_ids"]:
        if len(cids) == 2:
            assert G.has_edge(cids[1], cids[0])
    # curated courses are more effective on average
    eff = a.truth["effectiveness"].to_numpy()
    q = a.resources["is_quality"].to_numpy()
    assert eff[q].mean() > eff[~q].mean()
    u1 = synthetic_usage(a, 50, random_state=1)
    u2 = synthetic_usage(a, 50, random_state=1)
    pd.testing.assert_frame_equal(u1.usage, u2.usage)
