"""``edu-recsys bench scale``: province-size logs through Dask, and parity with memory.

1. A seeded simulated log (default 20 million answers from 200,000 students) is
   written as partitioned Parquet (reused when a matching one exists).
2. On a fresh cluster (a LocalCluster of ``--workers`` processes with
   ``--memory-limit`` each, or ``--scheduler``): the end-to-end job of
   :func:`edu_recsys.scale.pipeline.run_pipeline` (fit on 80% of the students, score
   every answer of the other 20%, AUC; optionally the nightly mastery of every
   student), with wall time per stage, answers/s and each worker's peak memory.
3. Feature building alone: one pass of the fitted transformer over every partition,
   answers/s in total and per worker core; and one partition in this process.
4. Parity on a slice (default 2 million answers, whole files): the same pipeline in
   memory (``make_model(...).fit`` / ``predict_proba``) and through Dask; AUC of
   both, prediction differences, and the in-memory model scored by Dask.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from edu_recsys.cli._common import format_table, write_json

__all__ = ["register", "run"]


def _data_dir(args) -> str:
    if args.data:
        return args.data
    base = Path(os.environ.get("TMPDIR", tempfile.gettempdir()))
    return str(base / f"edu-recsys-bench-scale-{args.answers}-{args.students}-{args.seed}")


def _ensure_log(args, url: str) -> tuple[dict, float]:
    from edu_recsys.scale.cluster import dask_client
    from edu_recsys.scale.io import read_manifest
    from edu_recsys.scale.simlog import SimLogParams, write_simulated_log

    p = SimLogParams(n_students=args.students, n_answers=args.answers, random_state=args.seed)
    try:
        man = read_manifest(url)
    except Exception:
        man = None
    gen = (man or {}).get("generator", {})
    if (
        man
        and gen.get("n_answers") == p.n_answers
        and gen.get("n_students") == p.n_students
        and (gen.get("random_state") == p.random_state)
    ):
        return man, 0.0
    t0 = time.time()
    with dask_client(args.scheduler, n_workers=args.workers, memory_limit=args.memory_limit):
        man = write_simulated_log(url, p, rows_per_file=args.rows_per_file, overwrite=True)
    return man, time.time() - t0


def _feature_task(df, f, mode: str) -> tuple[int, float]:
    """Rows and CPU seconds of one partition's feature pass (on the worker)."""
    from edu_recsys.scale.features import design_partition, transform_partition

    df = df.drop(columns=["_seq"], errors="ignore")
    t0 = time.process_time()
    if mode == "transform":
        n = transform_partition(df, f).shape[0]
    elif mode == "design":
        n = design_partition(df, f)[0].shape[0]
    else:
        n = len(df)
    return n, time.process_time() - t0


def _feature_pass(ddf, features, mode: str) -> tuple[int, float]:
    import dask

    f = dask.delayed(features)
    res = dask.compute(*[dask.delayed(_feature_task)(p, f, mode) for p in ddf.to_delayed()])
    return int(sum(r[0] for r in res)), float(sum(r[1] for r in res))


def _workers_cpu(client) -> float:
    return float(sum(client.run(time.process_time).values())) if client is not None else 0.0


def _timed_pass(
    ddf, features, n_threads: int, mode: str = "transform", client=None
) -> dict[str, Any]:
    """Answers/s per core, by wall time and by CPU time: of the feature code in the
    tasks (``cpu_seconds``) and of the whole worker processes (``worker_cpu_seconds``:
    reading the Parquet files, Dask's own work and the feature code)."""
    load0 = os.getloadavg()[0]
    w0 = _workers_cpu(client)
    t0 = time.time()
    n, cpu = _feature_pass(ddf, features, mode)
    dt = time.time() - t0
    wcpu = _workers_cpu(client) - w0
    return {
        "mode": mode,
        "rows": n,
        "seconds": round(dt, 3),
        "cpu_seconds": round(cpu, 3),
        "worker_cpu_seconds": round(wcpu, 3) if client is not None else None,
        "answers_per_s": n / dt,
        "answers_per_s_per_core": n / dt / max(n_threads, 1),
        "answers_per_cpu_s": n / max(cpu, 1e-9),
        "answers_per_worker_cpu_s": n / wcpu if client is not None and wcpu > 0 else None,
        "cores": n_threads,
        "load_avg_1min": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }


def _stage_costs(features, df) -> dict[str, float]:
    """CPU microseconds per answer of each stage of the feature code (one partition,
    this process, best of three)."""
    from edu_recsys.mastery.answers import build_answers

    def best(fn):
        times = []
        for _ in range(3):
            t0 = time.process_time()
            out = fn()
            times.append(time.process_time() - t0)
        return out, min(times)

    ans, t_ans = best(lambda: build_answers(df, merge_expanded=features.merge_expanded))
    q, t_hist = best(lambda: features.history_batch(ans))
    _, t_dense = best(lambda: features.dense_columns(q))
    _, t_enc = best(lambda: features.encode_split(q))
    _, t_encode = best(lambda: features.encode(q))
    # what the pipeline runs: history + encoding range by range of whole students
    _, t_ranges = best(lambda: features.design(ans))
    t_csr = max(t_encode - t_enc, 0.0)
    n = max(ans.n_answers, 1)
    us = 1e6 / n
    return {
        "answers": ans.n_answers,
        "build_answers_us": t_ans * us,
        "history_us": t_hist * us,
        "dense_columns_us": t_dense * us,
        "encode_split_us": t_enc * us,
        "sparse_and_scaling_us": (t_enc - t_dense) * us,
        "to_csr_us": t_csr * us,
        "design_us": (t_ans + t_hist + t_enc) * us,
        "design_in_ranges_us": (t_ans + t_ranges) * us,
        "transform_us": (t_ans + t_hist + t_enc + t_csr) * us,
    }


def _full_run(args, url: str, out: str) -> dict[str, Any]:
    from edu_recsys.scale.cluster import dask_client, worker_peak_memory
    from edu_recsys.scale.io import read_log
    from edu_recsys.scale.pipeline import run_pipeline
    from edu_recsys.scale.train import load_model

    res: dict[str, Any] = {}
    with dask_client(
        args.scheduler, n_workers=args.workers, memory_limit=args.memory_limit
    ) as client:
        n_threads = sum(client.nthreads().values())
        rep = run_pipeline(
            url,
            out,
            model=args.model,
            solver=args.solver,
            epochs=args.epochs,
            seed=args.seed,
            mastery=args.mastery,
            overwrite=True,
            client=client,
            cache_designs=args.cache_designs,
        )
        mem = worker_peak_memory(client)
        res["pipeline"] = rep
        res["worker_peak_rss_mb"] = {w: round(v["peak_rss"] / 2**20, 1) for w, v in mem.items()}
        # feature building alone, with the fitted transformer
        model = load_model(rep["model_path"])
        res.update(_feature_passes(client, read_log(url), model.features_, n_threads))
    res["feature_single_core"] = _single_core(url, model.features_)
    return res


def _feature_passes(client, ddf, features, n_threads: int) -> dict[str, Any]:
    import dask

    from edu_recsys.mastery import make_model

    res: dict[str, Any] = {}
    # the design as fit and scoring build it (sparse CSR + dense block, no row CSR)
    res["design_pass"] = _timed_pass(ddf, features, n_threads, "design", client)
    # transform: the same plus the per-row CSR of scikit-learn's API
    res["feature_pass"] = _timed_pass(ddf, features, n_threads, "transform", client)
    # the drivers' own share: read + type a partition, no features
    res["read_pass"] = _timed_pass(ddf, None, n_threads, "read", client)
    # the Best-LR feature set (fitted on the first partition) for comparison
    first = dask.compute(ddf.to_delayed()[0])[0].drop(columns="_seq")
    blr = make_model("best_lr").features.fit(first)
    res["feature_pass_best_lr"] = _timed_pass(ddf, blr, n_threads, client=client)
    return res


def _single_core(url: str, features) -> dict[str, Any]:
    """One partition in this process (no Dask): the per-core speed of the feature code."""
    import dask

    from edu_recsys.scale.io import read_log

    part = dask.compute(read_log(url).to_delayed()[0])[0].drop(columns="_seq")
    t0, c0 = time.time(), time.process_time()
    features.transform(part)
    dt, cpu = time.time() - t0, time.process_time() - c0
    return {
        "rows": len(part),
        "answers_per_s": len(part) / dt,
        "answers_per_cpu_s": len(part) / cpu,
        "stages": _stage_costs(features, part),
    }


def _features_only(args, url: str) -> dict[str, Any]:
    """The feature passes alone, with the model's transformer fitted on the first
    partition (a quick speed measurement: no classifier, no scoring)."""
    import dask

    from edu_recsys.mastery import make_model
    from edu_recsys.scale.cluster import dask_client
    from edu_recsys.scale.io import read_log

    ddf = read_log(url)
    first = dask.compute(ddf.to_delayed()[0])[0].drop(columns="_seq")
    features = make_model(args.model).features.fit(first)
    with dask_client(
        args.scheduler, n_workers=args.workers, memory_limit=args.memory_limit
    ) as client:
        n_threads = sum(client.nthreads().values())
        # one partition per worker first: the workers' first partition runs cold
        _feature_pass(read_log(url, max_files=n_threads), features, "design")
        res = _feature_passes(client, ddf, features, n_threads)
    res["fitted_on_rows"] = len(first)
    res["feature_single_core"] = _single_core(url, features)
    return res


def _parity(args, url: str, out: str) -> dict[str, Any]:
    import numpy as np

    from edu_recsys.scale.cluster import dask_client
    from edu_recsys.scale.io import read_log, read_manifest
    from edu_recsys.scale.pipeline import split_students

    man = read_manifest(url)
    rows = np.cumsum([f["rows"] for f in man["files"]])
    n_files = int(np.searchsorted(rows, args.slice_answers) + 1)
    n_files = min(n_files, len(rows))
    res: dict[str, Any] = {"files": n_files, "rows": int(rows[n_files - 1])}
    with dask_client(
        args.scheduler, n_workers=args.workers, memory_limit=args.memory_limit
    ) as client:
        ddf = read_log(url, max_files=n_files)
        train, test = split_students(ddf, 0.2, args.seed)
        t0 = time.time()
        tr_mem = train.compute().drop(columns="_seq").reset_index(drop=True)
        te_mem = test.compute().drop(columns="_seq").reset_index(drop=True)
        res["read_s"] = round(time.time() - t0, 3)
        res["fits"] = {}
        for tols in args.parity_tols.split(","):
            tol, ftol = (float(v) for v in tols.split(":"))
            res["fits"][tols] = _parity_fit(
                args, client, train, test, tr_mem, te_mem, {"tol": tol, "ftol": ftol}
            )
    first = res["fits"][args.parity_tols.split(",")[0]]
    res.update({k: v for k, v in first.items() if not isinstance(v, dict)})
    return res


def _parity_fit(args, client, train, test, tr_mem, te_mem, tols) -> dict[str, Any]:
    """The same model fitted in memory and through Dask, with these tolerances."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score

    from edu_recsys.mastery import make_model
    from edu_recsys.scale.score import score_answers
    from edu_recsys.scale.train import fit_dask

    params = {f"classifier__{k}": v for k, v in tols.items()}
    res: dict[str, Any] = {"classifier": tols}
    t0, c0 = time.time(), time.process_time()
    mem = make_model(args.model, **params).fit(tr_mem)
    res["memory_fit_s"] = round(time.time() - t0, 3)
    res["memory_fit_cpu_s"] = round(time.process_time() - c0, 3)
    res["memory_n_iter"] = int(mem.classifier_.n_iter_[0])
    t0 = time.time()
    p_mem = mem.predict_proba(te_mem)
    res["memory_predict_s"] = round(time.time() - t0, 3)
    # through Dask (the same L-BFGS on partition sums)
    t0 = time.time()
    dsk, rep = fit_dask(train, make_model(args.model, **params), solver="lbfgs", client=client)
    res["dask_fit_s"] = round(time.time() - t0, 3)
    res["dask_fit"] = {k: rep[k] for k in ("answers", "n_features", "classifier")}
    t0 = time.time()
    scored = score_answers(test, dsk).compute()
    res["dask_score_s"] = round(time.time() - t0, 3)
    p_dask = scored["p_correct"].to_numpy()
    same = score_answers(test, mem).compute()["p_correct"].to_numpy()
    # both fits on the same objective: where does each stop?
    Xa, ans = clone(mem.features)._fit_answers(tr_mem, split=True)
    ya = ans.y
    C = float(mem.classifier_.C)
    for name, m in (("memory", mem), ("dask", dsk)):
        w = m.classifier_.coef_[0]
        ns = Xa.sparse.shape[1]
        z = Xa.sparse @ w[:ns] + Xa.dense @ w[ns:] + m.classifier_.intercept_[0]
        loss = float(np.sum(np.logaddexp(0.0, z) - ya * z))
        res[f"objective_{name}"] = (C * loss + 0.5 * float(w @ w)) / (C * len(ya))
    del Xa
    y = te_mem["correct"].to_numpy()
    assert len(p_dask) == len(y) and (scored["item_id"].to_numpy() == te_mem["item_id"]).all()
    auc_m, auc_d = roc_auc_score(y, p_mem), roc_auc_score(y, p_dask)
    d = np.abs(p_mem - p_dask)
    res.update(
        train_rows=len(tr_mem),
        test_rows=len(te_mem),
        auc_memory=auc_m,
        auc_dask=auc_d,
        auc_diff=abs(auc_m - auc_d),
        pred_abs_diff_max=float(d.max()),
        pred_abs_diff_mean=float(d.mean()),
        memory_model_scored_by_dask_max_diff=float(np.abs(same - p_mem).max()),
    )
    return res


def run(args) -> dict[str, Any]:
    url = _data_dir(args)
    out: dict[str, Any] = {
        "benchmark": "scale",
        "answers": args.answers,
        "students": args.students,
        "workers": args.workers,
        "memory_limit": args.memory_limit,
        "scheduler": args.scheduler,
        "model": args.model,
        "data": url,
        "cpu_count": os.cpu_count(),
        "load_avg_start": list(os.getloadavg()),
    }
    man, gen_s = _ensure_log(args, url)
    out["generate_s"] = round(gen_s, 3)
    out["files"] = len(man["files"])
    work = args.out or tempfile.mkdtemp(prefix="edu-recsys-bench-scale-out-")
    try:
        if args.features_only:
            out["features_only"] = _features_only(args, url)
        elif not args.skip_full:
            t0 = time.time()
            out["full"] = _full_run(args, url, work + "/full")
            out["full"]["wall_s"] = round(time.time() - t0, 3)
        if not args.skip_parity and not args.features_only:
            out["parity"] = _parity(args, url, work + "/parity")
    finally:
        if not args.out and not args.keep_output:
            shutil.rmtree(work, ignore_errors=True)
    out["load_avg_end"] = list(os.getloadavg())
    out["output"] = work if (args.out or args.keep_output) else None
    return out


def _summary(res: dict) -> list[dict]:
    rows = []
    full = res.get("full")
    if full:
        p = full["pipeline"]
        rows += [
            {"figure": "answers (train + test)", "value": p["answers"]},
            {"figure": "fit + score wall s", "value": p["wall_fit_score_s"]},
            {"figure": "  fit s", "value": p["stages"]["fit_s"]},
            {"figure": "  score s", "value": p["stages"]["score_s"]},
            {"figure": "nightly mastery s", "value": p["stages"].get("mastery_s")},
            {"figure": "solver", "value": p["fit"]["solver"]},
            {"figure": "AUC (held-out students)", "value": p["auc"]},
            {"figure": "answers/s end to end", "value": p["answers"] / p["wall_fit_score_s"]},
            {"figure": "peak RSS per worker MB", "value": max(full["worker_peak_rss_mb"].values())},
        ]
    fp = full or res.get("features_only")
    if fp:
        de, fe, fs = fp["design_pass"], fp["feature_pass"], fp["feature_single_core"]
        rows += [
            {"figure": "features (design) answers/s/core", "value": de["answers_per_s_per_core"]},
            {
                "figure": "  per worker CPU-s (read + Dask + features)",
                "value": de.get("answers_per_worker_cpu_s"),
            },
            {"figure": "  per CPU-s of the feature code", "value": de["answers_per_cpu_s"]},
            {"figure": "  load average (1 min) start / end", "value": de.get("load_avg_1min")},
            {
                "figure": "features (transform) answers/s/core",
                "value": fe["answers_per_s_per_core"],
            },
            {"figure": "  per CPU-s of the feature code", "value": fe["answers_per_cpu_s"]},
            {
                "figure": "Best-LR features (transform) /s/core",
                "value": fp["feature_pass_best_lr"]["answers_per_s_per_core"],
            },
            {
                "figure": "read + type only /s/core",
                "value": fp["read_pass"]["answers_per_s_per_core"],
            },
            {"figure": "1 partition: transform us/answer", "value": fs["stages"]["transform_us"]},
            {
                "figure": "1 partition: design us/answer (whole / ranges)",
                "value": f"{fs['stages']['design_us']:.2f} / "
                f"{fs['stages']['design_in_ranges_us']:.2f}",
            },
        ]
    par = res.get("parity")
    if par:
        rows += [{"figure": "slice answers", "value": par["rows"]}]
        for label, f in par["fits"].items():
            rows += [
                {
                    "figure": f"[{label}] AUC memory / Dask",
                    "value": f"{f['auc_memory']:.6f} / {f['auc_dask']:.6f}",
                },
                {
                    "figure": f"[{label}] max / mean |p diff|",
                    "value": f"{f['pred_abs_diff_max']:.3g} / {f['pred_abs_diff_mean']:.3g}",
                },
                {
                    "figure": f"[{label}] iterations memory / Dask",
                    "value": f"{f['memory_n_iter']} / {f['dask_fit']['classifier']['n_iter']}",
                },
                {
                    "figure": f"[{label}] same model, Dask vs memory",
                    "value": f["memory_model_scored_by_dask_max_diff"],
                },
            ]
    return rows


def _cmd(args) -> int:
    from edu_recsys.cli.batch import quiet_dask

    quiet_dask(args)
    res = run(args)
    print(format_table(_summary(res), ["figure", "value"]))
    write_json(res, args.json)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "scale",
        help="20M simulated answers through Dask (fit, score, mastery) + parity with memory",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--json", default=None, help="write the figures as JSON")
    p.add_argument("--answers", type=int, default=20_000_000)
    p.add_argument("--students", type=int, default=200_000)
    p.add_argument(
        "--slice-answers",
        type=int,
        default=2_000_000,
        help="answers in the parity slice (whole files)",
    )
    p.add_argument(
        "--rows-per-file",
        type=int,
        default=250_000,
        help="answers per Parquet file = per partition (250,000)",
    )
    p.add_argument(
        "--data",
        default=None,
        help="log folder/URL (generated there when missing; default: $TMPDIR)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="folder for the model, predictions and mastery (default: a temporary "
        "folder, removed at the end)",
    )
    p.add_argument("--keep-output", action="store_true", help="keep the temporary folder")
    p.add_argument("--model", default="default")
    p.add_argument("--solver", choices=["auto", "lbfgs", "sgd"], default="auto")
    p.add_argument("--epochs", type=int, default=1, help="passes of the sgd solver")
    p.add_argument(
        "--cache-designs",
        action=__import__("argparse").BooleanOptionalAction,
        default=False,
        help="sgd: keep the designs of the features' pass (spilled "
        "to the workers' disks) instead of rebuilding them each epoch",
    )
    p.add_argument(
        "--mastery",
        action=__import__("argparse").BooleanOptionalAction,
        default=True,
        help="also run the nightly mastery job",
    )
    p.add_argument(
        "--parity-tols",
        default="1e-6:2.2e-9,1e-8:1e-14",
        help="classifier tol:ftol pairs of the parity fits (comma-separated; the first "
        "is the classifier's default)",
    )
    p.add_argument("--skip-full", action="store_true", help="parity slice only")
    p.add_argument(
        "--features-only",
        action="store_true",
        help="only the feature passes (transformer fitted on the first partition)",
    )
    p.add_argument("--skip-parity", action="store_true", help="full run only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scheduler", default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="4GiB")
    p.set_defaults(func=_cmd)
