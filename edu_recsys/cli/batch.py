"""``edu-recsys batch ...``: partitioned jobs on a Dask cluster (the ``scale`` extra).

Every subcommand takes ``--scheduler tcp://host:8786`` (else ``$EDU_RECSYS_DASK_SCHEDULER``,
else a LocalCluster of ``--workers`` processes on 127.0.0.1) and writes its output
folder with a manifest only when the whole job succeeded.

Subcommands:

* ``simulate OUT``: a seeded simulated log as partitioned Parquet (benchmarks).
* ``partition IN OUT``: any Parquet/CSV log -> partitioned by student, time-ordered.
* ``fit LOG --out MODEL``: fit a mastery model on the partitions (larger than memory).
* ``score LOG --model MODEL --out DIR``: P(correct) of every answer.
* ``mastery LOG --model MODEL --out DIR``: the nightly mastery table of every student.
* ``run LOG --out DIR``: fit on most students, score the held-out ones (AUC), and
  write the nightly mastery table (:func:`edu_recsys.scale.pipeline.run_pipeline`).
* ``class-reports LOG --model M --graph G --roster R --out DIR``: every class's report.
* ``homework LOG --model M --graph G --roster R --items I --grade N --out DIR``:
  personalised homework for every student, within the daily time limit.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

from edu_recsys.cli._common import write_json

__all__ = ["register", "quiet_dask"]


def _add_cluster_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("cluster")
    g.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
        "(default: $EDU_RECSYS_DASK_SCHEDULER, else a LocalCluster)",
    )
    g.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (2)")
    g.add_argument("--threads", type=int, default=1, help="threads per local worker (1)")
    g.add_argument("--memory-limit", default="4GiB", help="memory limit per local worker (4GiB)")
    g.add_argument(
        "--storage-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fsspec storage option for remote URLs (repeatable)",
    )
    g.add_argument("--json", default=None, help="write the job's manifest/figures as JSON")


def _storage_options(args) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in args.storage_option:
        if "=" not in kv:
            raise SystemExit(f"--storage-option expects KEY=VALUE, got {kv!r}")
        k, v = kv.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def quiet_dask(args) -> None:
    """Dask's own INFO chatter only with ``-v``."""
    import distributed  # noqa: F401  (configures its loggers on import: override after)

    level = logging.INFO if getattr(args, "verbose", 0) else logging.WARNING
    names = [n for n in logging.root.manager.loggerDict if n.startswith("distributed")]
    for name in ["distributed", *names]:
        logging.getLogger(name).setLevel(level)


def _client(args):
    from edu_recsys.scale.cluster import dask_client

    quiet_dask(args)

    return dask_client(
        args.scheduler,
        n_workers=args.workers,
        threads_per_worker=args.threads,
        memory_limit=args.memory_limit,
    )


def _log(args, url: str):
    from edu_recsys.scale.io import (
        is_partitioned_by_student,
        partition_by_student,
        read_log,
        read_manifest,
    )

    so = _storage_options(args) or None
    ddf = read_log(url, storage_options=so)
    if not is_partitioned_by_student(read_manifest(url, so) if _is_dir(url, so) else None):
        ddf = partition_by_student(ddf, rows_per_partition=args.rows_per_partition)
    return ddf


def _is_dir(url: str, so) -> bool:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url, **(so or {}))
    return fs.isdir(path)


def _load_model(path: str):
    from edu_recsys.scale.train import load_model

    return load_model(path)


def _done(args, man: dict, t0: float, what: str) -> int:
    man = {**man, "wall_s": round(time.time() - t0, 2)}
    print(
        f"{what}: {man.get('rows', 0):,} rows in {len(man.get('files', []))} files, "
        f"{man['wall_s']:.1f} s"
    )
    write_json(man, args.json)
    return 0


# ------------------------------------------------------------------------- commands


def _cmd_simulate(args) -> int:
    from edu_recsys.scale.simlog import SimLogParams, write_simulated_log

    p = SimLogParams(
        n_students=args.students,
        n_answers=args.answers,
        n_items=args.items,
        n_concepts=args.concepts,
        random_state=args.seed,
    )
    t0 = time.time()
    with _client(args):
        man = write_simulated_log(
            args.out,
            p,
            rows_per_file=args.rows_per_file,
            storage_options=_storage_options(args) or None,
            overwrite=args.overwrite,
        )
    return _done(args, man, t0, f"simulated log at {args.out}")


def _cmd_partition(args) -> int:
    from edu_recsys.scale.io import partition_by_student, read_log, write_log

    so = _storage_options(args) or None
    t0 = time.time()
    with _client(args):
        ddf = read_log(args.input, storage_options=so, format=args.format)
        part = partition_by_student(
            ddf, npartitions=args.partitions, rows_per_partition=args.rows_per_partition
        )
        man = write_log(part, args.out, storage_options=so, overwrite=args.overwrite)
    return _done(args, man, t0, f"partitioned log at {args.out}")


def _cmd_fit(args) -> int:
    from edu_recsys.scale.train import fit_dask, save_model

    t0 = time.time()
    with _client(args):
        ddf = _log(args, args.log)
        model, report = fit_dask(
            ddf,
            model=args.model,
            solver=args.solver,
            epochs=args.epochs,
            random_state=args.seed,
        )
    save_model(model, args.out)
    report = {**report, "model_path": args.out, "wall_s": round(time.time() - t0, 2)}
    print(
        f"fitted {args.model!r} ({args.solver}) on {report.get('rows', 0):,} answers "
        f"in {report['wall_s']:.1f} s -> {args.out}"
    )
    write_json(report, args.json)
    return 0


def _cmd_score(args) -> int:
    from edu_recsys.scale.score import score_answers

    t0 = time.time()
    model = _load_model(args.model)
    with _client(args):
        man = score_answers(
            _log(args, args.log),
            model,
            args.out,
            overwrite=args.overwrite,
            storage_options=_storage_options(args) or None,
        )
    return _done(args, man, t0, f"predictions at {args.out}")


def _cmd_mastery(args) -> int:
    from edu_recsys.scale.score import nightly_mastery

    t0 = time.time()
    model = _load_model(args.model)
    with _client(args):
        man = nightly_mastery(
            _log(args, args.log),
            model,
            args.out,
            overwrite=args.overwrite,
            storage_options=_storage_options(args) or None,
        )
    return _done(args, man, t0, f"mastery table at {args.out}")


def _cmd_run(args) -> int:
    from edu_recsys.scale.pipeline import run_pipeline

    t0 = time.time()
    with _client(args) as client:
        rep = run_pipeline(
            args.log,
            args.out,
            model=args.model,
            solver=args.solver,
            epochs=args.epochs,
            test_share=args.test_share,
            seed=args.seed,
            mastery=args.mastery,
            rows_per_partition=args.rows_per_partition,
            overwrite=args.overwrite,
            storage_options=_storage_options(args) or None,
            client=client,
            cache_designs=args.cache_designs,
        )
    rep["wall_s"] = round(time.time() - t0, 2)
    print(
        f"fitted on {rep['fit']['answers']:,} answers ({rep['fit']['solver']}), scored "
        f"{rep['test_answers']:,} held-out answers: AUC {rep['auc']:.4f}; "
        f"{rep['wall_s']:.1f} s -> {args.out}"
    )
    write_json(rep, args.json)
    return 0


def _read_table(path: str):
    import pandas as pd

    from edu_recsys.data.readers import read_table

    return (
        read_table(path) if not str(path).endswith((".parquet", ".pq")) else pd.read_parquet(path)
    )


def _class_inputs(args):
    from edu_recsys.graph import load_graph

    roster = _read_table(args.roster)
    return load_graph(args.graph), roster


def _cmd_class_reports(args) -> int:
    from edu_recsys.scale.score import class_reports, partition_by_class

    t0 = time.time()
    model = _load_model(args.model)
    G, roster = _class_inputs(args)
    with _client(args):
        by_class = partition_by_class(_log(args, args.log), roster)
        man = class_reports(
            by_class,
            model,
            G,
            roster,
            args.out,
            current_unit=args.current_unit,
            lang=args.lang,
            overwrite=args.overwrite,
            storage_options=_storage_options(args) or None,
        )
    return _done(args, man, t0, f"class reports at {args.out}")


def _cmd_homework(args) -> int:
    from edu_recsys.classroom import item_bank
    from edu_recsys.data.validate import parse_concepts
    from edu_recsys.scale.score import class_homework, partition_by_class

    t0 = time.time()
    model = _load_model(args.model)
    G, roster = _class_inputs(args)
    items = _read_table(args.items)
    items["concept_ids"] = parse_concepts(items["concept_ids"].tolist())
    items = item_bank(items)
    with _client(args):
        by_class = partition_by_class(_log(args, args.log), roster)
        man = class_homework(
            by_class,
            model,
            G,
            roster,
            items,
            args.out,
            grade=args.grade,
            subject=args.subject,
            predict_next=args.predict_next,
            lang=args.lang,
            overwrite=args.overwrite,
            storage_options=_storage_options(args) or None,
        )
    return _done(args, man, t0, f"homework at {args.out}")


def register(sub) -> None:
    p = sub.add_parser(
        "batch",
        help="partitioned jobs on a Dask cluster (simulate, partition, fit, score, mastery, run, "
        "class-reports, homework)",
        description=__doc__.split("\n\n")[0],
    )
    bsub = p.add_subparsers(dest="batch", metavar="JOB")

    s = bsub.add_parser("simulate", help="write a seeded simulated log (partitioned Parquet)")
    s.add_argument("out", help="output folder or URL")
    s.add_argument("--answers", type=int, default=20_000_000)
    s.add_argument("--students", type=int, default=200_000)
    s.add_argument("--items", type=int, default=5_000)
    s.add_argument("--concepts", type=int, default=200)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--rows-per-file", type=int, default=250_000)
    s.add_argument("--overwrite", action="store_true")
    _add_cluster_options(s)
    s.set_defaults(func=_cmd_simulate)

    s = bsub.add_parser("partition", help="shuffle a log into partitions of whole students")
    s.add_argument("input", help="folder, file or URL of Parquet/CSV files")
    s.add_argument("out", help="output folder or URL")
    s.add_argument("--format", choices=["parquet", "csv"], default=None)
    s.add_argument("--partitions", type=int, default=None)
    s.add_argument("--rows-per-partition", type=int, default=250_000)
    s.add_argument("--overwrite", action="store_true")
    _add_cluster_options(s)
    s.set_defaults(func=_cmd_partition)

    s = bsub.add_parser("fit", help="fit a mastery model on the partitions")
    s.add_argument("log", help="log folder or URL (partitioned by student, or any log)")
    s.add_argument("--out", required=True, help="model file (joblib)")
    s.add_argument("--model", default="default", help="mastery preset (default)")
    s.add_argument(
        "--solver",
        choices=["auto", "lbfgs", "sgd"],
        default="auto",
        help="lbfgs: the in-memory objective, designs kept on the workers; sgd: streamed "
        "passes, for designs larger than the cluster's memory; auto: lbfgs when the "
        "design fits in half of it",
    )
    s.add_argument("--epochs", type=int, default=1, help="passes for --solver sgd")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--rows-per-partition", type=int, default=250_000)
    _add_cluster_options(s)
    s.set_defaults(func=_cmd_fit)

    s = bsub.add_parser(
        "run", help="the whole nightly job: fit on most students, score the rest, mastery"
    )
    s.add_argument("log", help="log folder or URL")
    s.add_argument("--out", required=True, help="output folder or URL")
    s.add_argument("--model", default="default")
    s.add_argument("--solver", choices=["auto", "lbfgs", "sgd"], default="auto")
    s.add_argument("--epochs", type=int, default=1)
    s.add_argument("--test-share", type=float, default=0.2)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--mastery", action=argparse.BooleanOptionalAction, default=True)
    s.add_argument(
        "--cache-designs",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="sgd: keep the designs of the features' pass (spilled to the workers' disks)",
    )
    s.add_argument("--rows-per-partition", type=int, default=250_000)
    s.add_argument("--overwrite", action="store_true")
    _add_cluster_options(s)
    s.set_defaults(func=_cmd_run)

    for name, fn, hlp in (
        ("score", _cmd_score, "P(correct) of every answer from earlier answers"),
        ("mastery", _cmd_mastery, "nightly mastery of every student on every concept"),
    ):
        s = bsub.add_parser(name, help=hlp)
        s.add_argument("log", help="log folder or URL")
        s.add_argument("--model", required=True, help="fitted model file")
        s.add_argument("--out", required=True, help="output folder or URL")
        s.add_argument("--rows-per-partition", type=int, default=250_000)
        s.add_argument("--overwrite", action="store_true")
        _add_cluster_options(s)
        s.set_defaults(func=fn)

    for name, fn, hlp in (
        ("class-reports", _cmd_class_reports, "the class report of every class"),
        ("homework", _cmd_homework, "personalised homework for every student of every class"),
    ):
        s = bsub.add_parser(name, help=hlp)
        s.add_argument("log", help="log folder or URL")
        s.add_argument("--model", required=True, help="fitted model file")
        s.add_argument("--graph", required=True, help="subject graph: shipped name or file")
        s.add_argument("--roster", required=True, help="CSV/Parquet: student_id, class_id")
        s.add_argument("--out", required=True, help="output folder or URL")
        s.add_argument("--lang", choices=["zh", "en"], default="zh")
        s.add_argument("--rows-per-partition", type=int, default=250_000)
        s.add_argument("--overwrite", action="store_true")
        if name == "class-reports":
            s.add_argument("--current-unit", default=None)
        else:
            s.add_argument("--items", required=True, help="item bank CSV/Parquet")
            s.add_argument("--grade", type=int, required=True)
            s.add_argument("--subject", default=None)
            s.add_argument(
                "--predict-next",
                action="store_true",
                help="success per student and item from the model (slower) rather than "
                "from the mastery table",
            )
        _add_cluster_options(s)
        s.set_defaults(func=fn)

    p.set_defaults(func=lambda args: p.print_help() or 2)
