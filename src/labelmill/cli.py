"""The `labelmill` command.

Bad input exits with code 2 and a one-line message naming the file, row or source;
`--debug` shows the full traceback instead.
"""

from __future__ import annotations

import json
import signal
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._cli_common import check_n_jobs, check_out_file, debug_option, debug_requested
from .errors import LabelmillError
from .label_models import LABEL_MODELS, make_label_model

console = Console()
err_console = Console(stderr=True)


@contextmanager
def _stage_display():
    """A transient spinner line naming the pipeline stage under way, with a bar where the
    stage counts its steps; yields the ``progress(desc, done, total)`` function that
    `pipeline.run` reports to. Each stage gets its own line and clock. When the console is
    not a terminal (a log file), each stage is one line on stderr instead, with the
    seconds since the run started."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if not console.is_terminal:  # a log file gets a line per stage, not a redrawn status line
        start, seen = time.monotonic(), set()

        def log_stage(desc, done, total):
            if desc not in seen:
                seen.add(desc)
                err_console.print(f"[{time.monotonic() - start:6.0f} s] {desc}", highlight=False, markup=False)

        yield log_stage
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as display:
        current = {"desc": None, "task": None}

        def stage(desc, done, total):
            if desc != current["desc"]:  # a new stage: a fresh task, so no count or clock carries over
                if current["task"] is not None:
                    display.remove_task(current["task"])
                current["desc"], current["task"] = desc, display.add_task(desc, total=total)
            display.update(current["task"], completed=done or 0, total=total)

        yield stage


METRIC_COLUMNS = ("accuracy", "macro_f1", "f1", "coverage", "log_loss", "ece", "n")


class LabelmillGroup(click.Group):
    """Click group that turns labelmill errors into exit code 2 and a one-line message
    (the first line of the error; all of it, and the traceback, with --debug)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (LabelmillError, FileNotFoundError, PermissionError, IsADirectoryError,
                NotADirectoryError) as exc:
            message = str(exc) or type(exc).__name__
            if debug_requested():
                traceback.print_exc()
            else:
                message = message.splitlines()[0]
            err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
            ctx.exit(2)


@click.group(cls=LabelmillGroup)
@debug_option
@click.version_option(package_name="labelmill")
@click.pass_context
def main(ctx):
    """labelmill: cheap, imperfect supervision in; training labels and a model out."""
    ctx.ensure_object(dict)
    # SIGTERM (timeout, docker stop, batch schedulers) ends a run as Ctrl-C does: worker
    # processes are stopped and no output is half written
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def _load(data_dir, demo):
    from .datasets import demo_path, load_wrench

    if demo and data_dir:
        raise click.UsageError("give either DATA_DIR or --demo, not both")
    if not demo and not data_dir:
        raise click.UsageError("give a WRENCH-format DATA_DIR, or --demo for the bundled YouTube data")
    return load_wrench(demo_path() if demo else data_dir)


_RAW_DATA_OPTIONS = [
    click.option("--lfs", "lfs_file", default=None, metavar="FILE.py",
                 help="Raw data mode: DATA_DIR is a table (Parquet file/folder, CSV, JSON lines) and the "
                      "labeling functions defined at module level in FILE.py make the votes."),
    click.option("--gold-column", default=None, help="Raw data mode: column of gold class ids (-1 = unknown)."),
    click.option("--split-column", default=None,
                 help="Raw data mode: column with train/valid/test per row (default: all rows train; rows "
                      "with gold also scored as valid)."),
    click.option("--n-classes", type=click.IntRange(min=2), default=None, help="Raw data mode: number of classes."),
    click.option("--class-names", default=None, metavar="A,B,...",
                 help="Raw data mode: the class names in class-id order (they name the outputs' classes, and the "
                      "gold column may hold them)."),
    click.option("--no-cache", is_flag=True, help="Raw data mode: do not read or write the LF vote cache."),
    click.option("--on-error", type=click.Choice(["raise", "abstain"]), default="raise", show_default=True,
                 help="Raw data mode: an LF that raises stops the run (raise) or abstains on that row (abstain; "
                      "the count is reported)."),
]


def raw_data_options(command):
    """The options of raw data mode (--lfs and what goes with it), shared by run and
    compare and read by `_load_any`; listed in --help in this order."""
    for option in reversed(_RAW_DATA_OPTIONS):
        command = option(command)
    return command


def _load_any(data_dir, demo, lfs_file, gold_column, split_column, n_classes, no_cache, n_jobs, examples="ids",
              class_names=None, on_error="raise"):
    """The dataset of `run` and `compare`: a WRENCH folder (or --demo), or with --lfs a raw
    table the labeling functions of FILE.py are applied to."""
    if lfs_file is None:
        for flag, value in (("--gold-column", gold_column), ("--split-column", split_column),
                            ("--n-classes", n_classes), ("--class-names", class_names),
                            ("--on-error", None if on_error == "raise" else on_error)):
            if value is not None:
                raise click.UsageError(f"{flag} needs --lfs (a WRENCH folder holds its own gold, splits and classes)")
        return _load(data_dir, demo)
    from .lfs import load_lfs_from_file
    from .pipeline import dataset_from_lfs

    if demo or data_dir is None:
        raise click.UsageError("with --lfs, give the raw data table as DATA_DIR (not --demo)")
    if not Path(data_dir).exists():
        raise click.UsageError(f"{data_dir}: no such data file or folder")
    lfs = load_lfs_from_file(lfs_file)
    names = [n.strip() for n in class_names.split(",")] if class_names is not None else None
    ds = dataset_from_lfs(str(data_dir), lfs, gold_column=gold_column, split_column=split_column,
                          n_classes=n_classes, cache=not no_cache, n_jobs=n_jobs, progress=True, examples=examples,
                          class_names=names, on_error=on_error)
    report = ds.apply_report
    if report is not None and report.n_errors:
        failed = ", ".join(f"{name} on {n} rows" for name, n in report.errors.items() if n)
        err_console.print(f"--on-error abstain: LF failures turned into abstains: {failed}")
    return ds


def _parse_params(params, label_model: str) -> dict:
    """``("abstain=model", "smoothing=0.5")`` -> ``{"abstain": "model", "smoothing": 0.5}``."""
    import ast

    out = {}
    allowed = LABEL_MODELS[label_model]._param_names()
    for item in params:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise click.UsageError(f"--param expects KEY=VALUE, got {item!r}")
        if key not in allowed or key == "random_state":
            raise click.UsageError(f"label model {label_model!r} has no parameter {key!r}; its parameters are "
                                   f"{', '.join(a for a in allowed if a != 'random_state')} (use --seed for "
                                   f"random_state)")
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise click.BadParameter(f"{out_dir} is a file; give a folder for the outputs", param_hint="--out")


def _check_params_early(model, L, params) -> None:
    """Fit the label model with the user's --param values on a few rows, so a bad value is
    reported as a bad --param at once, not as a traceback after the data is loaded."""
    if not params or L is None or L.n_rows == 0:
        return
    try:
        model.clone().fit(L[: min(L.n_rows, 200)])
    except (ValueError, TypeError, AttributeError, ArithmeticError) as exc:
        raise click.BadParameter(f"{', '.join(params)}: {exc}", param_hint="--param") from None


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, int):
        return str(v)
    return f"{v:.3f}" if v == v else "nan"


#: options that only mean something with --propagate / --end-model (by click parameter name)
_PROPAGATION_OPTIONS = {"n_neighbors": "--neighbors", "denoise": "--denoise", "denoise_fraction": "--denoise-fraction",
                        "uncovered_fill": "--uncovered-fill"}
_END_MODEL_OPTIONS = {"mixup": "--mixup", "self_train": "--self-train", "train_rows": "--train-rows"}


def _check_stage_options(propagate: bool, end_model) -> None:
    """Refuse options given on the command line for a stage that is not run (they would be
    silently ignored), and --train-rows with --propagate (propagated labels cover every row)."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    given = {name for name in ctx.params if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}

    def refuse(options: dict, needed: str):
        names = sorted(given & set(options))
        if names:
            flags = ", ".join(options[n] for n in names)
            raise click.UsageError(f"{flags} {'needs' if len(names) == 1 else 'need'} {needed}")

    if not propagate:
        refuse(_PROPAGATION_OPTIONS, "--propagate")
    if not end_model:
        refuse(_END_MODEL_OPTIONS, "--end-model logreg|mlp")
    if not propagate and not end_model:
        refuse({"teacher": "--teacher", "featurizer": "--featurizer"}, "--propagate or --end-model")
    if propagate and "train_rows" in given:
        raise click.UsageError("--train-rows applies without --propagate: propagated labels cover every row")
    if "denoise_fraction" in given and ctx.params.get("denoise") != "correct":
        raise click.UsageError("--denoise-fraction needs --denoise correct (it is the fraction relabelled)")


def metrics_table(title: str, rows: dict[str, dict], shared: tuple[str, ...] = ()) -> Table:
    """A rich table: one row per (label) key, one column per metric.

    A metric named in ``shared`` that has one value on every row (coverage and n are
    properties of the votes, the same for every label model) goes into the title instead
    of a column, so that the table fits an 80-column terminal without cut headers."""
    in_title = [c for c in shared if len({repr(r.get(c)) for r in rows.values()}) == 1
                and next(iter(rows.values())).get(c) is not None]
    if in_title:
        first = next(iter(rows.values()))
        title += " (" + ", ".join(f"{c} {_fmt(first[c])}" for c in in_title) + ")"
    table = Table(title=title, title_justify="left")
    table.add_column("", no_wrap=True)
    cols = [c for c in METRIC_COLUMNS if c not in in_title and any(c in r for r in rows.values())]
    for c in cols:
        table.add_column(c, justify="right")
    for name, r in rows.items():
        table.add_row(name, *[_fmt(r.get(c)) for c in cols])
    if any(isinstance(r.get(c), float) and r[c] != r[c] for r in rows.values() for c in cols):
        table.caption = ("nan: undefined here (no row with gold; or f1 with class 1 in neither gold nor "
                         "predictions)")
        table.caption_justify = "left"
    return table


@main.command()
@click.argument("data_dir", required=False, type=click.Path(path_type=Path))
@click.option("--demo", is_flag=True, help="Run on the bundled YouTube spam data.")
@click.option("--label-model", "label_model", default="auto", show_default=True,
              type=click.Choice(list(LABEL_MODELS)), help="Label model to fit.")
@click.option("--out", "out_dir", default="labelmill-out", show_default=True, type=click.Path(path_type=Path),
              help="Folder for metrics.json and labels.parquet.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1),
              help="Random state for every random choice.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A label-model parameter, e.g. --param abstain=model (repeatable; values are read as "
                   "Python literals, else as strings).")
@raw_data_options
@click.option("--n-jobs", type=int, default=None, callback=check_n_jobs,
              help="Processes for Python LFs (raw data mode) and for the end-model fits (default: every core).")
@click.option("--propagate", is_flag=True,
              help="Spread the label model's labels over a kNN graph of the examples to every train row.")
@click.option("--featurizer", default="tfidf", show_default=True, type=click.Choice(["tfidf", "embeddings", "numeric"]),
              help="Features for --propagate (embeddings needs the 'embeddings' extra).")
@click.option("--neighbors", "n_neighbors", default=10, show_default=True, type=click.IntRange(min=1),
              help="k of the kNN graph.")
@click.option("--denoise", type=click.Choice(["correct", "weight"]), default=None,
              help="With --propagate: relabel the covered rows that disagree most with their neighbours "
                   "(correct), or down-weight them (weight).")
@click.option("--denoise-fraction", default=0.1, show_default=True, type=click.FloatRange(0, 1),
              help="Fraction relabelled by --denoise correct, of the covered rows with a graph neighbour "
                   "(the graph spans train and valid, so of train's roughly).")
@click.option("--uncovered-fill", type=click.Choice(["auto", "spreading", "prior", "classifier"]), default="auto",
              show_default=True,
              help="With --propagate: what rows no source labeled get: the spread labels, the class prior, or "
                   "a classifier trained on the covered rows; auto keeps spreading unless another is clearly "
                   "better on valid's uncovered rows.")
@click.option("--end-model", type=click.Choice(["logreg", "mlp"]), default=None,
              help="Train a classifier on the (propagated) probabilistic labels; saved to OUT/model.")
@click.option("--mixup", is_flag=True, help="End model: train on mixup of features and soft labels.")
@click.option("--self-train", is_flag=True, help="End model: teacher-student rounds over all rows, "
                                                   "stopped on the valid split.")
@click.option("--train-rows", type=click.Choice(["auto", "all", "covered"]), default="auto", show_default=True,
              help="End model without --propagate: train on all rows (rows no source labeled at "
                   "P(class | all sources abstain)) or only on rows some source labeled; auto picks on valid "
                   "(logreg; mlp: all).")
@click.option("--teacher", type=click.Choice(["auto", "label_model"]), default="auto", show_default=True,
              help="With --propagate or --end-model and --label-model auto: spread / learn from the candidate "
                   "label model whose labels train the best end model on valid (auto), or from auto's choice.")
@debug_option
def run(data_dir, demo, label_model, out_dir, seed, params, lfs_file, gold_column, split_column, n_classes,
        class_names, no_cache, on_error, n_jobs, propagate, featurizer, n_neighbors, denoise, denoise_fraction, uncovered_fill, end_model,
        mixup, self_train, train_rows, teacher):
    """Fit a label model on DATA_DIR's train votes; score valid and test.

    DATA_DIR is a WRENCH-format folder, or with --lfs a raw table to apply the LFs to.
    Writes OUT/metrics.json and OUT/labels.parquet (one row per fitted example: id,
    split, one probability column per class, predicted label). Without a train split
    the model is fitted on the valid and test votes (transductively).
    """
    from .pipeline import run as run_pipeline

    _check_stage_options(propagate, end_model)
    _check_out_dir(out_dir)
    ds = _load_any(data_dir, demo, lfs_file, gold_column, split_column, n_classes, no_cache, n_jobs,
                   examples="all" if propagate or end_model else "ids", class_names=class_names, on_error=on_error)
    model = make_label_model(label_model, random_state=seed, **_parse_params(params, label_model))
    fit_split = ds.train or ds.valid or ds.test
    _check_params_early(model, fit_split.L if fit_split is not None else None, params)
    with _stage_display() as stage:
        prop_params = {"n_neighbors": n_neighbors, "denoise": denoise, "denoise_fraction": denoise_fraction,
                       "uncovered_fill": uncovered_fill}
        result = run_pipeline(ds, model, out_dir=out_dir, random_state=seed, propagate_labels=propagate,
                              featurizer=featurizer, propagation_params=prop_params,
                              cache=False if no_cache else None, end_model=end_model, mixup=mixup,
                              self_train=self_train, train_rows=train_rows, teacher=teacher, n_jobs=n_jobs,
                              progress=stage)
    info = result.metrics["label_model_info"]
    chosen = f" (chose {info['selected']} by {info['selection']})" if "selected" in info else ""
    console.print(f"[bold]{ds.name}[/]: {ds.n_classes} classes, {len(ds.source_names)} sources, "
                  f"fitted on {result.fit_split} ({len(result.labels)} rows) with {label_model}{chosen}")
    if "valid_ignored" in info:
        console.print(f"note: {info['valid_ignored']}, which cannot rank label models; auto chose by held-out "
                      f"source agreement")
    if result.metrics["splits"]:
        in_sample = " (valid chose the label model: its valid scores are in-sample; test is held out)" \
            if info.get("selection") == "valid" else ""
        console.print(metrics_table(f"label quality{in_sample}", result.metrics["splits"]))
    else:
        console.print("no split with gold labels: nothing to score")
    if "train_labels" in result.metrics:
        tl = result.metrics["train_labels"]
        rows = {}
        names = {"before": f"label model {result.metrics['label_model']}",
                 "teacher_labels": f"teacher {tl['teacher']['name']}", "after": "after propagation"}
        for when in ("before", "teacher_labels", "after"):
            if when in tl:
                rows[f"{names[when]}: all rows"] = tl[when]
                rows[f"{names[when]}: covered"] = tl[when]["covered"]
                rows[f"{names[when]}: uncovered"] = tl[when]["uncovered"]
        fill = tl["propagator"]["uncovered_fill"]["chosen"]
        console.print(metrics_table(f"train labels before / after propagation ({tl['featurizer']['name']}; "
                                    f"uncovered rows filled by {fill})", rows))
        if "teacher_labels" in tl:
            console.print(f"propagation started from the labels of the teacher {tl['teacher']['name']} (chosen on "
                          f"valid), not from the label model's: the teacher rows show what the switch gained")
    if "end_model" in result.metrics:
        em = result.metrics["end_model"]
        t = em["teacher"]
        taught = f"; learned from {t['name']}" + (" (chosen on valid)" if t["switched"] else "")
        method = em["calibrated_by"]["method"]
        calibration = f"calibration {method}" if method else \
            f"not calibrated: {em['calibrated_by'].get('skipped', 'no valid gold')}"
        tuned = ("; valid chose its settings" + (" and calibrated it" if method else "")
                 + ": valid scores are in-sample") if "valid" in em["splits"] else ""
        title = f"end model {em['name']} ({calibration}{taught}{tuned})"
        if em["splits"]:
            console.print(metrics_table(title, em["splits"]))
        else:
            console.print(f"{title}: no split with gold labels to score")
        console.print(f"saved the end model to {out_dir / 'model'}; label new rows with "
                      f"`labelmill predict {out_dir / 'model'} TABLE --out PRED.parquet`")
    if "removed_stale_model" in result.extra:
        console.print(f"removed {result.extra['removed_stale_model']}: an earlier run's end model (this run "
                      f"trained none)")
    console.print(f"wrote {out_dir / 'metrics.json'} and {out_dir / 'labels.parquet'}")


@main.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("table", type=click.Path(path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path), help="Output Parquet file.")
@debug_option
def predict(model_dir, table, out_path):
    """Label the rows of TABLE (Parquet, CSV, JSON lines) with a model saved by `run --end-model`.

    Writes one row per input row: id (if the table has one, else the row number), one
    calibrated probability column per class, the predicted label and its class name.
    """
    from ._io import write_parquet_atomic
    from .end_models.saved import load_end_model
    from .lfs._data import TableSource

    check_out_file(out_path)
    saved = load_end_model(model_dir)
    if not Path(table).exists():
        raise click.UsageError(f"{table}: no such file or folder")
    source = TableSource(str(table))
    saved.check_columns(source.column_names, where=str(table))
    cols = list(dict.fromkeys(saved.meta["input_columns"] + (["id"] if "id" in source.column_names else [])))
    df = source.table(cols).to_pandas()
    with console.status(f"labelling {len(df)} rows..."):
        proba = saved.predict_proba(df)
    out = {"id": df["id"].to_numpy() if "id" in df.columns else range(len(df))}
    for c in range(proba.shape[1]):
        out[f"prob_{c}"] = proba[:, c]
    out["label"] = proba.argmax(axis=1)
    out["label_name"] = np.asarray(saved.class_names, dtype=object)[out["label"]]
    import pandas as pd
    write_parquet_atomic(out_path, pd.DataFrame(out))
    console.print(f"wrote {len(df)} predictions to {out_path}")


@main.command()
@click.argument("data_dir", required=False, type=click.Path(path_type=Path))
@click.option("--demo", is_flag=True, help="Compare on the bundled YouTube spam data.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1))
@raw_data_options
@click.option("--n-jobs", type=int, default=None, callback=check_n_jobs, help="Raw data mode: processes for Python LFs.")
@debug_option
def compare(data_dir, demo, as_json, seed, lfs_file, gold_column, split_column, n_classes, class_names, no_cache,
            on_error, n_jobs):
    """Every label model side by side on one dataset (a WRENCH folder, or a raw table with --lfs)."""
    from .pipeline import compare as compare_models

    ds = _load_any(data_dir, demo, lfs_file, gold_column, split_column, n_classes, no_cache, n_jobs,
                   class_names=class_names, on_error=on_error)
    with console.status(f"fitting {len(LABEL_MODELS)} label models on {ds.name}..."):
        results = compare_models(ds, random_state=seed)
    if as_json:
        click.echo(json.dumps({"dataset": ds.name, "n_classes": ds.n_classes, "models": results}, indent=2))
        return
    scored = False
    for split in ("valid", "test"):
        rows = {n: r[split] for n, r in results.items() if split in r}
        if rows:
            scored = True
            console.print(metrics_table(f"{ds.name}: {split}", rows, shared=("coverage", "n")))
    if not scored:
        console.print(f"{ds.name}: no split with gold labels: nothing to score")
    if "selected" in results.get("auto", {}):
        console.print(f"auto chose {results['auto']['selected']}"
                      + (" on valid, so auto's valid row is in-sample; compare on test"
                         if results["auto"].get("selection") == "valid" else ""))


@main.command()
@click.argument("answers", type=click.Path(path_type=Path))
@click.option("--item", default="item", show_default=True, help="Column of the item (question, task) ids.")
@click.option("--annotator", default="annotator", show_default=True, help="Column of the annotator (worker) ids.")
@click.option("--label", default="label", show_default=True, help="Column of the answers.")
@click.option("--label-model", "label_model", default="dawid_skene", show_default=True,
              type=click.Choice(list(LABEL_MODELS)),
              help="Label model to fit on every item (Dawid-Skene was the most accurate on all five crowd "
                   "benchmark tables).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A label-model parameter (repeatable).")
@click.option("--class-names", default=None, metavar="A,B,...",
              help="The answers in class-id order, when they are names or numbered from 1 (e.g. no,yes).")
@click.option("--n-classes", type=click.IntRange(min=2), default=None, help="Number of classes, when some "
              "class has no answer.")
@click.option("--truth", "truth_path", default=None, type=click.Path(path_type=Path),
              help="A table of known labels to score against: the item column and --truth-column.")
@click.option("--truth-column", default="truth", show_default=True, help="Column of the known labels in --truth.")
@click.option("--out", "out_dir", default="labelmill-crowd", show_default=True, type=click.Path(path_type=Path),
              help="Folder for labels.parquet, annotators.parquet and metrics.json.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1))
@debug_option
def aggregate(answers, item, annotator, label, label_model, params, class_names, n_classes, truth_path,
              truth_column, out_dir, seed):
    """One label per item from crowd answers: ANSWERS is a long table (Parquet, CSV/TSV,
    JSON lines) with one row per (item, annotator, answer).

    Writes labels.parquet (the item column, prob_0 ... prob_{k-1}, label, label_name with
    --class-names, n_answers), annotators.parquet (annotator, n_answers, the model's accuracy
    estimate, agreement with the aggregated labels) and metrics.json.
    """
    from ._io import output_batch, write_json_atomic, write_parquet_atomic
    from .crowd import aggregate as aggregate_answers
    from .lfs._data import TableSource

    _check_out_dir(out_dir)
    table = _read_table(answers, "ANSWERS").to_pandas()
    names = _parse_class_names(class_names, table[label] if label in table.columns else None)
    shown_names = names
    if class_names is not None and names is None:  # numeric answers, named classes: answers are class ids
        shown_names = [n.strip() for n in class_names.split(",")]
        if n_classes is not None and n_classes != len(shown_names):
            raise click.BadParameter(f"--n-classes {n_classes} but {len(shown_names)} class names",
                                     param_hint="--class-names")
        n_classes = len(shown_names)
    truth = None
    if truth_path is not None:
        source = TableSource(str(_existing(truth_path, "--truth")))
        missing = source.check_columns([item, truth_column])
        if missing:
            raise click.BadParameter(f"{truth_path} has no column {', '.join(map(repr, missing))}; columns are "
                                     f"{source.column_names}", param_hint="--truth")
        t = source.table([item, truth_column]).to_pandas()
        if t[item].duplicated().any():
            raise click.BadParameter(f"{truth_path} lists item {t[item][t[item].duplicated()].iloc[0]!r} twice",
                                     param_hint="--truth")
        truth = t.set_index(item)[truth_column]
    model = make_label_model(label_model, random_state=seed, **_parse_params(params, label_model))
    with console.status(f"fitting {label_model} on {len(table)} answers..."):
        try:
            result = aggregate_answers(table, item=item, annotator=annotator, label=label, label_model=model,
                                       class_names=names, n_classes=n_classes, truth=truth, random_state=seed)
        except LabelmillError:
            raise
        except (ValueError, TypeError) as exc:  # the model's parameter checks, at fit
            if params:
                raise click.BadParameter(f"{', '.join(params)}: {exc}", param_hint="--param") from None
            raise
    L = result.L
    if shown_names is not names:
        result.labels["label_name"] = np.asarray(shown_names, dtype=object)[result.labels["label"].to_numpy()]
        cols = [c for c in result.labels.columns if c != "n_answers"] + ["n_answers"]
        result.labels = result.labels[cols]
        names = shown_names
    console.print(f"{answers.name}: {L.n_rows} items, {L.n_sources} annotators, {L.nnz} answers, "
                  f"{L.n_classes} classes; {label_model}")
    counts = np.bincount(result.labels["label"], minlength=L.n_classes)
    shown = names or [str(c) for c in range(L.n_classes)]
    console.print("aggregated labels: " + ", ".join(f"{n} {c}" for n, c in zip(shown, counts)))
    if result.metrics is not None:
        console.print(metrics_table(f"against {truth_path.name}", {"aggregated": result.metrics},
                                    shared=("coverage", "n")))
    worst = result.annotators[result.annotators.n_answers >= 5].sort_values("accuracy").head(5)
    if len(worst) and worst["accuracy"].notna().any():
        console.print("least accurate annotators with 5+ answers (the model's estimate): "
                      + ", ".join(f"{escape(str(r.Index))} {r.accuracy:.2f} ({r.n_answers})" for r in worst.itertuples()))
    labels_out = result.labels.reset_index()
    metrics = {"dataset": answers.stem, "label_model": label_model, "n_classes": L.n_classes,
               "class_names": names, "n_items": L.n_rows, "n_annotators": L.n_sources, "n_answers": L.nnz,
               "columns": {"item": item, "annotator": annotator, "label": label}}
    if result.metrics is not None:
        metrics["truth"] = result.metrics
    with output_batch():
        write_parquet_atomic(out_dir / "labels.parquet", labels_out)
        write_parquet_atomic(out_dir / "annotators.parquet", result.annotators.reset_index())
        write_json_atomic(out_dir / "metrics.json", metrics)
    console.print(f"wrote {out_dir / 'labels.parquet'}, {out_dir / 'annotators.parquet'} and "
                  f"{out_dir / 'metrics.json'}")


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise click.BadParameter(f"{path}: no such file or folder", param_hint=what)
    return path


def _read_table(path: Path, what: str):
    from .lfs._data import TableSource

    return TableSource(str(_existing(path, what))).table()


def _parse_class_names(raw: str | None, answers) -> list | None:
    """``"no,yes"`` -> ["no", "yes"]; numbers when the answer column is numeric (``"1,2,3"``).
    None when the answers are numbers and the names are not: the answers are then class
    ids 0..k-1 and the names only name them."""
    if raw is None:
        return None
    import pandas as pd

    names = [n.strip() for n in raw.split(",")]
    if answers is not None and pd.api.types.is_numeric_dtype(answers):
        try:
            return [int(n) if float(n) == int(float(n)) else float(n) for n in names]
        except ValueError:
            return None  # names of class ids 0..k-1: see `aggregate`
    return names


def _register_stage_commands():
    """Commands that live with their stage (apply, lfs, cache) join the main group here."""
    from .lfs.cli_commands import register

    register(main)


_register_stage_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
