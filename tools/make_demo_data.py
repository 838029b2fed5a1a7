"""Regenerate the small demo data set shipped in ``edu_recsys/data/sample/``.

A seeded simulated class (40 students, the shipped ``math-7-9`` graph, four weeks of
lessons and homework) so that a new user can try every layer without the public
datasets and without a download. Run from the repository root::

    python tools/make_demo_data.py

The files are deterministic: the same seed writes the same bytes.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from edu_recsys.graph import load_graph
from edu_recsys.simulate import simulate_class

OUT = Path(__file__).resolve().parents[1] / "edu_recsys" / "data" / "sample"
SEED = 20260901


def _write_gz(df, path: Path) -> None:
    # mtime=0 keeps the gzip header (and so the bytes) reproducible
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(df.to_csv(index=False).encode("utf-8"))


def main() -> None:
    sim = simulate_class(
        load_graph("math-7-9"), n_students=40, weeks=4, random_state=SEED, class_id="demo-7-1"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    inter = sim.interactions.copy()
    inter["concept_ids"] = inter["concept_ids"].map("~~".join)
    _write_gz(inter, OUT / "demo_class_interactions.csv.gz")
    items = sim.items.copy()
    items["concept_ids"] = items["concept_ids"].map("~~".join)
    _write_gz(items, OUT / "demo_class_items.csv.gz")
    _write_gz(sim.true_mastery.reset_index(), OUT / "demo_class_true_mastery.csv.gz")


if __name__ == "__main__":
    main()
