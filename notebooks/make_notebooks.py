"""Write the research notebooks (without outputs) with nbformat.

Run ``.venv/bin/python notebooks/make_notebooks.py`` after editing the cells below (it
also runs ``ruff check --fix`` and ``ruff format`` on the written notebooks when ruff is
installed); ``tests/test_notebooks.py`` executes every notebook with small settings.
"""

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

SETUP = """\
import os

%matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# EDU_RECSYS_NB_FULL=1 runs the full settings; the default is a small run (the test suite).
FULL = os.environ.get("EDU_RECSYS_NB_FULL", "0") == "1"
print("full run" if FULL else "small run (set EDU_RECSYS_NB_FULL=1 for the full run)")
"""

DATA_CHECK = """\
from edu_recsys.datasets import FOLD_DIRS, resolve_data_dir

try:
    DATA_DIR = resolve_data_dir()
    HAVE_DATA = DATA_DIR.is_dir()
except Exception as exc:  # the data directory is optional for this notebook
    DATA_DIR, HAVE_DATA = None, False
    print("note:", exc)
print("data directory:", DATA_DIR if HAVE_DATA else "absent: using simulated data")
"""

NOTEBOOKS = {}

NOTEBOOKS["01_knowledge_graph.ipynb"] = [
    "# 01 Knowledge graphs (学科知识图谱)\n\nLoad, validate, query and draw the shipped "
    "mathematics graph and the Junyi graph; learn prerequisites from data and compare "
    "them with the annotations. See `docs/graphs.md`.",
    SETUP,
    DATA_CHECK,
    "## The shipped mathematics graph",
    """\
from edu_recsys.graph import (
    concepts_needed, dependents_count, graph_summary, learning_order, list_graphs,
    load_graph, ready_to_learn, validate_graph,
)

print(list_graphs())
G = load_graph("math-7-9")
problems = validate_graph(G)
print(len(problems), "validation problems")
pd.DataFrame([graph_summary(load_graph(n)) for n in ["math-3-6", "math-7-9"]]).T
""",
    """\
# Per grade: concepts, prerequisite edges into the grade, the most-depended-on concept
deps = dependents_count(G)
rows = []
for grade in sorted({d["grade"] for _, d in G.nodes(data=True)}):
    nodes = [n for n, d in G.nodes(data=True) if d["grade"] == grade]
    top = max(nodes, key=lambda n: deps[n])
    rows.append({"grade": grade, "concepts": len(nodes),
                 "edges_in": sum(G.in_degree(n) for n in nodes),
                 "most_dependents": G.nodes[top]["name_en"], "dependents": deps[top]})
pd.DataFrame(rows)
""",
    """\
# Queries: what a student who mastered the first 30 concepts in learning order can learn next,
# and what they still need for a grade-9 target
order = list(learning_order(G))
mastery = {c: 0.9 for c in order[:30]}
target = [n for n in order if G.nodes[n]["grade"] == 9][-1]
print("ready to learn:", ready_to_learn(G, mastery)[:5])
needed = concepts_needed(G, [target], mastery)
print(f"{len(needed)} concepts needed for {G.nodes[target]['name_en']}")
""",
    """\
from edu_recsys.graph import draw_graph, subgraph_for

G8 = subgraph_for(G, grade=8)
fig = draw_graph(G8, mastery={c: 0.9 if i % 3 else 0.4 for i, c in enumerate(G8)}, lang="en",
                 title="math-7-9, grade 8 (simulated mastery)")
plt.show()
""",
    "## The Junyi graph (needs the data directory)",
    """\
if HAVE_DATA:
    from edu_recsys.graph import import_junyi

    J = import_junyi()
    print(pd.Series(J.graph["import_report"]))
    depth_counts = pd.Series([len(g) for g in learning_order(J, generations=True)])
    ax = depth_counts.plot.bar(figsize=(8, 3), title="Junyi: exercises per topological generation")
    ax.set_xlabel("generation")
    plt.show()
else:
    print("note: /work/shared/data absent, Junyi skipped")
""",
    "## Learning prerequisites from (simulated) logs",
    """\
from edu_recsys.graph import evaluate_prerequisites, learn_prerequisites, simulate_prerequisite_logs

small = load_graph("math-3-6")
rows = []
for n_students in ([300, 1000] if FULL else [300]):
    logs = simulate_prerequisite_logs(small, n_students=n_students, random_state=0)
    for prune, background, label in [(True, True, "default"), (False, False, "naive")]:
        learned = learn_prerequisites(logs, prune=prune, background=background)
        res = evaluate_prerequisites(learned, small)
        rows.append({"students": n_students, "method": label,
                     **{k: res[k] for k in ["precision", "recall", "precision_closure",
                                            "base_rate_closure"]}})
table = pd.DataFrame(rows)
table
""",
    """\
ax = table.set_index(["students", "method"])[["precision", "recall"]].plot.bar(figsize=(6, 3))
ax.set_title("learned vs annotated prerequisites (math-3-6)")
plt.show()
""",
]

NOTEBOOKS["02_mastery_models.ipynb"] = [
    "# 02 Mastery models (知识点掌握度)\n\nThe mastery benchmark on ASSISTments 2009 and Statics "
    "2011 (student-level folds, per-answer metrics), calibration, segments, BKT parameters, and "
    "the estimators inside scikit-learn's `cross_validate`. The small run uses a subset of "
    "students and one test fold; without the data directory it uses a simulated class. "
    "See `docs/mastery.md`.",
    SETUP,
    DATA_CHECK,
    """\
import warnings

from edu_recsys.datasets import load_dataset
from edu_recsys.mastery import PRESETS, make_model

# BKT warns about concepts answered only right (or only wrong) in a training set; expected
# on small subsets, where such concepts keep their prior-regularised parameters.
warnings.filterwarnings("ignore", message="BKT: ", category=RuntimeWarning)

N_STUDENTS = None if FULL else 250  # students per dataset in the small run


def subset(df, n, seed=0):
    if n is None:
        return df
    students = df["student_id"].drop_duplicates().sample(
        min(n, df["student_id"].nunique()), random_state=seed)
    return df[df["student_id"].isin(set(students))].reset_index(drop=True)


datasets = {}
if HAVE_DATA:
    for name in ["assist2009_folds", "statics2011_folds"]:
        try:
            datasets[name] = subset(load_dataset(name).data, N_STUDENTS)
        except Exception as exc:  # a missing set should not stop the notebook
            print("note:", name, "not loaded:", exc)
if not datasets:
    from edu_recsys.graph import load_graph
    from edu_recsys.simulate import simulate_class

    print("note: no real data; using a simulated class")
    sim = simulate_class(load_graph("math-7-9"), n_students=120 if FULL else 60, weeks=3,
                         random_state=0)
    datasets["simulated"] = sim.interactions
pd.DataFrame({name: {"rows": len(df), "students": df["student_id"].nunique(),
                     "items": df["item_id"].nunique()} for name, df in datasets.items()}).T
""",
    "## AUC table of every model (student-level cross-validation)",
    """\
from edu_recsys.evaluate import cross_validate_tracer

MODELS = list(PRESETS) if FULL else ["default", "irt", "pfa", "bkt"]
FOLDS = None if FULL else [1]
rows = []
for name, df in datasets.items():
    for model in MODELS:
        res = cross_validate_tracer(make_model(model), df, folds=FOLDS)
        rows.append({"data": name, "model": model, **{k: res[k] for k in
                     ["auc", "rmse", "logloss", "accuracy"] if k in res}})
auc_table = pd.DataFrame(rows)
auc_table.pivot(index="model", columns="data", values="auc").round(4)
""",
    "## Calibration and segments (test fold 1: fit on the other folds' students)",
    """\
from edu_recsys.evaluate import answer_segments, segment_scores, student_folds


def split(df):
    fold = df["fold"] if "fold" in df else student_folds(df, 5, random_state=0)
    return df[np.asarray(fold) != 1], df[np.asarray(fold) == 1]


fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
seg_rows = []
for ax, (name, df) in zip(axes[0], datasets.items()):
    train, test = split(df)
    for model in ["default", "bkt"]:
        est = make_model(model).fit(train)
        p, ans = est.predict_proba_answers(test)
        bins = np.clip((p * 10).astype(int), 0, 9)
        cal = pd.DataFrame({"bin": bins, "p": p, "y": ans.y}).groupby("bin").mean()
        ax.plot(cal["p"], cal["y"], "o-", label=model)
        for seg, s in segment_scores(ans.y, p, answer_segments(ans)).items():
            seg_rows.append({"data": name, "model": model, "segment": seg,
                             **{k: v for k, v in s.items() if np.isscalar(v)}})
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(title=f"calibration: {name}", xlabel="predicted P(correct)", ylabel="observed")
    ax.legend()
plt.show()
pd.DataFrame(seg_rows)
""",
    "## BKT parameters",
    """\
name, df = next(iter(datasets.items()))
bkt = make_model("bkt").fit(df)
params = bkt.params_ if isinstance(bkt.params_, pd.DataFrame) else pd.DataFrame(bkt.params_)
print(name, "- BKT parameters per concept (first rows) and their distribution")
display(params.head(10))
params.describe().round(3)
""",
    "## The estimators in scikit-learn's `cross_validate`",
    """\
from sklearn.model_selection import cross_validate

from edu_recsys.evaluate import TRACER_SCORERS, StudentKFold

res = cross_validate(make_model("best_lr"), df, df["correct"], cv=StudentKFold(n_splits=3),
                     scoring=TRACER_SCORERS)
pd.DataFrame(res).round(4)
""",
]

NOTEBOOKS["03_learning_paths.ipynb"] = [
    "# 03 Learning paths (学习路径)\n\nPlanners and baselines in the simulators (KSS and the "
    "math-7-9 graph learner), E_p per policy with 95% confidence intervals, and one planned "
    "path drawn on the graph. See `docs/paths.md`.",
    SETUP,
    """\
from edu_recsys.paths import evaluate_policies
from edu_recsys.simulate.kss import KSSEnv

POLICIES = ["default", "random", "topological", "greedy-weakest"]
N_LEARNERS = 200 if FULL else 12
out = evaluate_policies(KSSEnv(0), POLICIES, N_LEARNERS, 20)
ep = pd.DataFrame({name: {"E_p": r["ep"], "ci_low": r["ep_ci"][0], "ci_high": r["ep_ci"][1],
                          "ms_per_step": r["ms_per_step"]}
                   for name, r in out["policies"].items()}).T
ep.round(3)
""",
    """\
ax = ep["E_p"].plot.bar(yerr=[ep["E_p"] - ep["ci_low"], ep["ci_high"] - ep["E_p"]],
                        capsize=4, figsize=(6, 3), title=f"KSS: E_p, {N_LEARNERS} learners")
ax.set_ylabel("E_p (95% CI)")
plt.show()
""",
    "## A planned path on the mathematics graph",
    """\
from edu_recsys.graph import draw_graph, learning_order, load_graph, prerequisite_closure
from edu_recsys.paths import plan_path

G = load_graph("math-7-9")
rng = np.random.default_rng(0)
order = list(learning_order(G))
target = "m8.linear_fn.linear_function" if "m8.linear_fn.linear_function" in G else order[-1]
closure = set(prerequisite_closure(G, [target])) | {target}
mastery = {c: float(rng.uniform(0.3, 1.0)) for c in closure}
path = plan_path(G, mastery, target, budget_minutes=120)
print(path.text("en"))
path.to_frame()
""",
    """\
H = G.subgraph(closure).copy()
fig = draw_graph(H, mastery=mastery, lang="en", title="targets' closure; path in order: "
                 + " -> ".join(G.nodes[c]["name_en"] for c in path.concepts[:4]) + " ...")
plt.show()
""",
]

NOTEBOOKS["04_recommendation.ipynb"] = [
    "# 04 Recommendation (精品资源推送)\n\nRecommendation policies in the learner simulator: "
    "learning gain per minute with 95% intervals, and the reasons shown to students. "
    "See `docs/recommend.md`.",
    SETUP,
    """\
from edu_recsys.recommend.simulation import POLICY_NAMES, simulate_policies

if FULL:
    settings = dict(n_students=200, steps=20, n_history=300, history_steps=15)
else:
    settings = dict(n_students=20, steps=5, n_history=40, history_steps=5)
result = simulate_policies(policies=POLICY_NAMES, random_state=100, **settings)
table = pd.DataFrame(result.policies).T
table
""",
    """\
gain = pd.DataFrame({p: result.per_student[p] for p in result.per_student}) \\
    if result.per_student else None
if gain is not None and len(gain.columns):
    ax = gain.plot.box(figsize=(7, 3), rot=20, title="learning gain per minute per learner")
else:
    col = [c for c in table.columns if "gain" in c][0]
    ax = table[col].astype(float).plot.bar(figsize=(7, 3), title=col)
plt.show()
""",
    "## Recommendations and their reasons for a simulated class",
    """\
from edu_recsys.graph import load_graph
from edu_recsys.mastery import make_model
from edu_recsys.recommend import Recommender
from edu_recsys.resources.synthetic import synthetic_catalogue
from edu_recsys.simulate import simulate_class

G = load_graph("math-7-9")
sim = simulate_class(G, n_students=30 if FULL else 12, weeks=2, random_state=0)
tracer = make_model("default").fit(sim.interactions)
catalogue = synthetic_catalogue(G, random_state=0)
rec = Recommender(G).fit(catalogue, tracer.mastery(sim.interactions),
                         interactions=sim.interactions)
student = sim.interactions["student_id"].iloc[0]
recs = rec.recommend(student, k=5)
recs
""",
]

NOTEBOOKS["05_class_report.ipynb"] = [
    "# 05 The teacher's view (以学定教)\n\nA simulated grade-8 class: the class report with its "
    "mastery heatmap, teaching groups and personal homework. See `docs/classroom.md`.",
    SETUP,
    """\
from edu_recsys.classroom import analyse_class
from edu_recsys.graph import load_graph
from edu_recsys.mastery import make_model
from edu_recsys.simulate import simulate_class

G = load_graph("math-7-9")
sim = simulate_class(G, n_students=40 if FULL else 20, weeks=3, random_state=0)
tracer = make_model("default").fit(sim.interactions)
roster = sorted(sim.interactions["student_id"].unique())
analysis = analyse_class(sim.interactions, G, tracer, roster=roster, grade=8,
                         subject="mathematics")
analysis.report.weakest.head(10)
""",
    """\
matrix = analysis.report.matrix
taught = [c for c in analysis.report.weakest["concept_id"]] \\
    if "concept_id" in analysis.report.weakest else list(matrix.columns)
m = matrix[[c for c in taught if c in matrix.columns][:25]]
fig, ax = plt.subplots(figsize=(10, 5))
im = ax.imshow(m.to_numpy(dtype=float), vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
ax.set_yticks(range(len(m.index)), m.index, fontsize=6)
ax.set_xticks(range(len(m.columns)), [G.nodes[c]["name_en"][:18] for c in m.columns],
              rotation=90, fontsize=6)
fig.colorbar(im, label="mastery")
ax.set_title("class mastery (weakest taught concepts first)")
plt.show()
""",
    """\
analysis.report.students.head(10)
""",
    "## Teaching groups and homework",
    """\
analysis.groups.groups
""",
    """\
analysis.homework.for_student(roster[0])
""",
]


def is_markdown(src: str) -> bool:
    """Markdown cells are the titles (``# 0N ...``) and section headings (``## ...``)."""
    return src.startswith("## ") or re.match(r"# \d\d ", src) is not None


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.cells = [
            new_markdown_cell(src) if is_markdown(src) else new_code_cell(src.rstrip("\n"))
            for src in cells
        ]
        for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives no git churn
            cell.id = f"cell-{i:02d}"
        nbformat.write(nb, HERE / name)
    ruff = shutil.which("ruff") or str(HERE.parent / ".venv" / "bin" / "ruff")
    if Path(ruff).exists():
        paths = [str(HERE / name) for name in NOTEBOOKS]
        subprocess.run([ruff, "check", "--fix", "--quiet", *paths], check=False)
        subprocess.run([ruff, "format", "--quiet", *paths], check=False)


if __name__ == "__main__":
    main()
