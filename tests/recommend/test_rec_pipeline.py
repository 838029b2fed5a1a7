"""Pipeline behaviour: reasons match the numbers, scorer ingredients matter, reranking,
filters, online updates, tracer convenience, scikit-learn conventions."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from edu_recsys.exceptions import UnknownIdError
from edu_recsys.recommend import Recommender, make_recommender
from edu_recsys.resources import as_catalogue

NUM = r"([+-]?\d+(?:\.\d+)?)"


def _num(pattern: str, text: str) -> float:
    m = re.search(pattern, text)
    assert m, (pattern, text)
    return float(m.group(1))


@pytest.fixture(scope="module")
def rec(graph, catalogue, mastery_table):
    return Recommender(graph, random_state=0).fit(catalogue, mastery_table)


def test_reasons_match_the_numbers_zh(rec):
    out = rec.recommend_batch([f"s{i}" for i in range(12)], k=5)
    assert len(out) > 20
    for row in out.itertuples():
        text = "\n".join(row.reasons)
        assert _num("掌握度 " + NUM, text) == pytest.approx(row.mastery, abs=0.005)
        assert _num("预计成功率 " + NUM, text) == pytest.approx(row.p_success, abs=0.005)
        q = _num("(?:资源质量|质量按先验) " + NUM, text)
        assert q == pytest.approx(row.quality, abs=0.005)
        assert _num("预计用时 " + NUM, text) == pytest.approx(row.minutes, abs=0.5)
        assert f"「{row.concept_name}」" in text
        lo, hi = 0.6, 0.85
        if lo <= round(row.p_success, 2) <= hi:
            assert "在适宜区间" in text
        else:
            assert ("偏容易" in text) == (row.p_success > hi)
        if row.cf_n > 0:
            assert _num(NUM + " 名掌握情况相似的同学", text) == row.cf_n
        assert ("精品课程" in text) == row.is_quality
        assert ("新资源" in text) == ("new_resource" in row.fallback)


def test_reasons_in_english(rec):
    out = rec.recommend("s1", k=3, lang="en")
    first = out["reasons"][0]
    assert not re.search(r"[\u4e00-\u9fff]", " ".join(r for r in first if "'" not in r))
    assert any("Predicted success" in r for r in first)
    with pytest.raises(ValueError):
        rec.recommend("s1", lang="fr")


def test_quality_decides_between_equal_resources(graph, mastery_table):
    cat = as_catalogue(
        pd.DataFrame(
            {
                "resource_id": ["good", "plain"],
                "type": "video",
                "concept_ids": "c",
                "minutes": 8,
                "difficulty": 0.5,
            }
        ),
        ratings=pd.DataFrame(
            {
                "student_id": [f"x{i}" for i in range(40)],
                "resource_id": ["good"] * 20 + ["plain"] * 20,
                "rating": [5] * 20 + [2] * 20,
            }
        ),
    )
    rec = Recommender(graph, scorer="gain").fit(cat, mastery_table)
    out = rec.recommend("s0", k=2)
    assert out["resource_id"].tolist() == ["good", "plain"]
    assert out["quality"][0] > out["quality"][1]


def test_difficulty_fit_prefers_the_productive_band(graph, mastery_table):
    # s0: b mastered (0.85) so d (0.2) is on the frontier: an easy resource is in band
    cat = pd.DataFrame(
        {
            "resource_id": ["hard", "easy"],
            "type": "exercise_set",
            "concept_ids": "d",
            "minutes": 10,
            "difficulty": [0.9, 0.05],
        }
    )
    rec = Recommender(graph, scorer="gain").fit(cat, mastery_table)
    out = rec.recommend("s0", k=2).set_index("resource_id")
    assert out.loc["easy", "p_success"] > out.loc["hard", "p_success"]
    assert out.index[0] == "easy"


def test_type_quotas_types_and_max_minutes(rec):
    out = rec.set_params(type_quotas={"video": 1}).recommend_batch(["s1", "s3"], k=6)
    assert (out[out["type"] == "video"].groupby("student_id").size() <= 1).all()
    rec.set_params(type_quotas=None)
    only = rec.recommend("s1", k=6, types=["reading"])
    assert len(only) > 0 and set(only["type"]) == {"reading"}
    short = rec.recommend("s1", k=6, max_minutes=9)
    assert len(short) > 0 and (short["minutes"] <= 9).all()


def test_diversity_spreads_concepts(graph, mastery_table):
    # s0 has c and d on the frontier; c's resources all score above d's
    cat = pd.DataFrame(
        {
            "resource_id": ["c1", "c2", "c3", "d1", "d2"],
            "type": "video",
            "concept_ids": ["c", "c", "c", "d", "d"],
            "minutes": 8,
            "difficulty": [0.05, 0.05, 0.05, 0.3, 0.3],
        }
    )
    kw = dict(scorer="gain", type_penalty=0.0)
    flat = Recommender(graph, diversity=0.0, **kw).fit(cat, mastery_table).recommend("s0", k=3)
    div = Recommender(graph, diversity=0.9, **kw).fit(cat, mastery_table).recommend("s0", k=3)
    assert flat["concept_id"].tolist() == ["c", "c", "c"]
    assert div["concept_id"].tolist()[:2] == ["c", "d"]
    # reranking changes the order, not the scores
    assert set(div["score"]) <= set(flat["score"]) | set(div["score"])
    assert div["score"].iloc[1] < flat["score"].iloc[1]


def test_online_update_without_refit(rec):
    before = rec.recommend("s1", k=10)
    assert "b" in set(before["concept_id"])
    r2 = clone(rec).fit(rec.catalogue_, None)
    r2.update_mastery("s1", {"a": 0.9, "b": 0.95, "c": 0.9, "d": 0.3})
    after = r2.recommend("s1", k=10)
    assert "b" not in set(after["concept_id"]) and "d" in set(after["concept_id"])
    assert not after["fallback"].str.contains("cold_start").any()
    # per-call override, nothing stored
    once = rec.recommend("s1", k=10, mastery={"b": 0.99})
    assert "b" not in set(once["concept_id"])
    assert "b" in set(rec.recommend("s1", k=10)["concept_id"])
    r2.mark_seen("s1", after["resource_id"][:1])
    assert after["resource_id"][0] not in set(r2.recommend("s1", k=10)["resource_id"])
    with pytest.raises(UnknownIdError):
        r2.mark_seen("nobody", ["a0"])


def test_tracer_convenience(graph, catalogue, mastery_table):
    class FakeTracer:
        def mastery(self, history, students=None, concepts=None):
            return mastery_table

    ia = pd.DataFrame(
        {"student_id": ["s1"], "item_id": ["q"], "concept_ids": [("b",)], "correct": [1]}
    )
    a = Recommender(graph).fit(catalogue, interactions=ia, tracer=FakeTracer())
    b = Recommender(graph).fit(catalogue, mastery_table)
    pd.testing.assert_frame_equal(a.recommend("s3"), b.recommend("s3"))
    with pytest.raises(ValueError):
        Recommender(graph).fit(catalogue, tracer=FakeTracer())


def test_wide_mastery_table_and_no_graph(catalogue, mastery_table):
    wide = mastery_table.pivot(index="student_id", columns="concept_id", values="mastery")
    rec = Recommender().fit(catalogue, wide)
    out = rec.recommend("s1", k=5)
    # without a graph every unmastered concept is on the frontier
    assert set(out["source"]) == {"frontier"}
    assert "a" not in set(out["concept_id"])


def test_collaborative_signal_counts_neighbours(graph, catalogue, mastery_table):
    rec = Recommender(graph, n_neighbors=5).fit(catalogue, mastery_table)
    assert rec.fit_report_["collaborative"] == "usage"
    sc = rec.recommend_batch([f"s{i}" for i in range(12)], k=20)
    b0 = sc[sc["resource_id"] == "b0"]
    # everybody used b0, so only students who have not... none can get it
    assert b0.empty
    assert (sc["cf_n"] <= 5).all()


def test_sklearn_conventions(graph, catalogue, mastery_table):
    r = make_recommender("mastery-only", graph, k=3)
    assert r.get_params()["scorer"] == "mastery-only"
    c = clone(r)
    assert not hasattr(c, "scorer_")
    with pytest.raises(Exception, match="not fitted"):
        c.recommend("s1")
    with pytest.raises(ValueError):
        make_recommender("nonsense")
    with pytest.raises(ValueError):
        Recommender(band=(0.9, 0.1)).fit(catalogue, mastery_table)
    assert np.array_equal(
        c.fit(catalogue, mastery_table).recommend("s1")["resource_id"],
        clone(r).fit(catalogue, mastery_table).recommend("s1")["resource_id"],
    )


def test_grade_fallback_for_concepts_without_a_value():
    import networkx as nx

    G = nx.DiGraph([("a", "b"), ("b", "c")])
    for c, g in zip("abc", (7, 8, 9)):
        G.nodes[c]["grade"] = g
    cat = pd.DataFrame(
        {"resource_id": ["ra", "rb", "rc"], "type": "video", "concept_ids": list("abc"),
         "minutes": 8.0}
    )  # fmt: skip
    mastery = pd.DataFrame(
        {
            "student_id": ["s1", "s2", "s2", "s2"],
            "concept_id": ["b", "a", "b", "c"],
            "mastery": [0.3, 0.5, 0.5, 0.5],
            "evidence": [2, 3, 3, 3],
        }
    )
    plain = Recommender(G).fit(cat, mastery)
    graded = Recommender(G, grade=8).fit(cat, mastery)
    row = graded.students_.get_loc("s1")
    # s1 has no value for a (grade 7) and c (grade 9): 0.85 and 0.15 instead of s2's 0.5
    assert graded.mastery_[row].tolist() == pytest.approx([0.85, 0.3, 0.15])
    assert plain.mastery_[row].tolist() == pytest.approx([0.5, 0.3, 0.5])
    # a value given for the student is kept (s2's 0.5 on a)
    assert graded.mastery_[graded.students_.get_loc("s2")][0] == pytest.approx(0.5)
    # so the earlier grade's concept counts as mastered and b is the student's next step
    assert plain.recommend("s1")["concept_id"].tolist()[0] == "a"
    top = graded.recommend("s1")
    assert top["concept_id"].tolist() == ["b"]
    # cold start: the grade fallback, the own grade's concept from the population mean
    cold = graded.recommend("nobody")
    assert cold["concept_id"].tolist() == ["b"] and cold["mastery"][0] == pytest.approx(0.4)
    assert "cold_start_student" in cold["fallback"][0]
