"""Execute every research notebook with its small settings, so that none can rot.

``EDU_RECSYS_NB_FULL`` is unset for the run (the small run); the kernel ``python3`` is the
one installed in the project's ``.venv`` (ipykernel).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_notebooks_found():
    assert len(NOTEBOOKS) >= 5


def _run(path: Path) -> list[dict]:
    """Execute the notebook in ``notebooks/`` (stored without outputs); return its outputs."""
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{path.name} is stored with outputs"
    )
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch):
    # the kernel inherits this process's environment: small run, inline figures
    monkeypatch.delenv("EDU_RECSYS_NB_FULL", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    outputs = _run(path)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # at least one figure and one table computed in the run
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure"
    assert any("text/html" in o.get("data", {}) for o in outputs), "no table"


def test_mastery_notebook_without_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Without the data directory the mastery notebook says so and uses a simulated class."""
    monkeypatch.delenv("EDU_RECSYS_NB_FULL", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("EDU_RECSYS_DATA", str(tmp_path / "absent"))
    outputs = _run(NOTEBOOK_DIR / "02_mastery_models.ipynb")
    text = "".join(o.get("text", "") for o in outputs)
    assert "simulated" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)
