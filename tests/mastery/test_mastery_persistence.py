"""Save / load with a format version."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from edu_recsys.exceptions import EduRecsysError
from edu_recsys.mastery import FORMAT_VERSION, ModelFormatError, load_model, make_model, save_model
from edu_recsys.mastery.persistence import read_metadata


@pytest.mark.parametrize("name", ["default", "bkt"])
def test_round_trip_keeps_predictions_and_online_state(name, sim, tmp_path):
    model = make_model(name).fit(sim)
    path = save_model(model, tmp_path / "m.joblib", metadata={"dataset": "sim"})
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict_proba(sim), model.predict_proba(sim))
    st = loaded.online_state(sim)
    st.update("s0", "q1", ("c0",), 1)
    assert 0 < st.mastery("s0")["c0"] < 1
    meta = read_metadata(path)
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["metadata"] == {"dataset": "sim"}


def test_version_mismatch_is_a_clear_error(sim, tmp_path):
    model = make_model("bkt").fit(sim)
    path = save_model(model, tmp_path / "m.joblib")
    env = joblib.load(path)
    env["format_version"] = FORMAT_VERSION + 1
    joblib.dump(env, path)
    with pytest.raises(ModelFormatError, match=f"format version {FORMAT_VERSION + 1}"):
        load_model(path)
    assert issubclass(ModelFormatError, EduRecsysError)


def test_not_a_model_file(tmp_path):
    p = tmp_path / "x.joblib"
    joblib.dump({"something": 1}, p)
    with pytest.raises(ModelFormatError, match="not an edu_recsys model"):
        load_model(p)
    (tmp_path / "garbage").write_text("not a pickle")
    with pytest.raises(ModelFormatError):
        load_model(tmp_path / "garbage")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.joblib")
