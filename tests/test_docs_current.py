"""The generated API reference matches the service's current OpenAPI schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_is_current(tmp_path, monkeypatch):
    monkeypatch.setenv("EDU_RECSYS_DB_URL", f"sqlite:///{tmp_path / 'docs.sqlite'}")
    spec = importlib.util.spec_from_file_location(
        "gen_api_docs", ROOT / "tools" / "gen_api_docs.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from api.main import create_app

    expected = mod.render(create_app().openapi())
    current = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert current == expected, "docs/api.md is stale: run `python tools/gen_api_docs.py`"


def test_readme_links_exist():
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\((docs/[^)]+)\)", text):
        assert (ROOT / link).exists(), link
