"""GReaT (be-great 0.0.14) against our generators on the demo cohort, same local model.

Every contender starts from the same converted SmolLM2-135M-Instruct folder
(lm_store.ensure_default_model(), never a hub name), is fit on the same seeded 70% split of
assets/nhefs_cohort.csv and samples --rows rows. Reported per contender: fine-tuning time
(s/step), sampling speed (rows/s, valid rows only), share of valid rows, the fidelity
quality score against the fit split and TSTR AUROC for `death` on the 30% holdout
(utility.tstr_auroc). The machine is shared: the load average is recorded with each run.

    .venv/bin/python bench/bench_great.py [--steps 60] [--rows 200] [--contenders great,ours,prompt]

"ours" is the fine-tuned LLMGenerator (imported lazily; skipped if missing), "prompt" is
the paper's few-shot prompt mode (PromptGenerator, no fine-tuning). Writes bench/out/great.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.generators.lm import store as lm_store  # noqa: E402
from faircause_core.io.data import load_table, table_from_frame  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402

DATA = ROOT / "assets" / "nhefs_cohort.csv"
DAG = ROOT / "assets" / "nhefs_dag.json"
OUT = ROOT / "bench" / "out" / "great.json"
TARGET = "death"


def load_split(seed: int = 0):
    """The typed demo table split 70/30 with a seeded permutation."""
    table = load_table(DATA, name="nhefs")
    order = np.random.default_rng(seed).permutation(len(table.df))
    cut = int(round(0.7 * len(order)))
    train = table.df.iloc[np.sort(order[:cut])].reset_index(drop=True)
    test = table.df.iloc[np.sort(order[cut:])].reset_index(drop=True)
    return table, train, test


def valid_rows(synth: pd.DataFrame, table) -> pd.DataFrame:
    """Rows whose every value is one the real column can take (GReaT may write anything)."""
    ok = pd.Series(True, index=synth.index)
    out = pd.DataFrame(index=synth.index)
    for c in table.df.columns:
        schema = table.schema[c]
        if c not in synth.columns:
            return synth.iloc[0:0]
        col = synth[c]
        missing = col.isna() | col.astype(str).str.strip().isin(["", "nan", "None"])
        if schema.is_numeric or pd.api.types.is_numeric_dtype(table.df[c]):
            num = pd.to_numeric(col, errors="coerce")
            good = num.notna()
            if schema.minimum is not None:
                good &= num.between(schema.minimum, schema.maximum)
            out[c] = num
        else:
            cats = {str(v): v for v in table.df[c].dropna().unique()}
            good = col.astype(str).str.strip().isin(list(cats))
            out[c] = col.astype(str).str.strip().map(cats)
        allowed_missing = missing & bool(table.df[c].isna().any())
        out.loc[allowed_missing, c] = np.nan
        ok &= good | allowed_missing
    out = out[ok].reset_index(drop=True)
    for c in table.df.columns:
        try:
            out[c] = out[c].astype(table.df[c].dtype)
        except (TypeError, ValueError):
            pass
    return out


def score(synth: pd.DataFrame, table, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """Quality (if fidelity.quality_report exists) and TSTR AUROC on the holdout."""
    result: dict = {}
    if len(synth) < 10:
        result["note"] = f"only {len(synth)} valid rows: no scores"
        return result
    try:
        from faircause_core.metrics.fidelity import quality_report

        report = quality_report(train, synth, table.schema)
        result.update(quality=report["quality"], shape=report["shape"], trend=report["trend"])
    except ImportError:
        result["quality"] = None
    except Exception as err:  # a metric failing must not hide the timings
        result["quality_error"] = str(err)
    try:
        from faircause_core.metrics.utility import tstr_auroc

        auroc = tstr_auroc(train, synth, test, TARGET, table.schema, seed=0)
        result.update(auroc_tstr=auroc["tstr"], auroc_trtr=auroc["trtr"])
    except ImportError:
        result["auroc_tstr"] = None
    except Exception as err:
        result["auroc_error"] = str(err)
    return result


def run_great(steps: int, rows: int, batch_size: int = 8, seed: int = 0) -> dict:
    """Fine-tune GReaT for `steps` steps from the local folder, then sample `rows` rows."""
    import torch
    from be_great import GReaT

    torch.manual_seed(seed)
    folder = lm_store.ensure_default_model()
    table, train, test = load_split(seed)
    with tempfile.TemporaryDirectory(prefix="great_") as tmp:
        t0 = time.perf_counter()
        great = GReaT(
            str(folder), experiment_dir=tmp, epochs=1000, batch_size=batch_size, max_steps=steps,
            save_strategy="no", logging_steps=max(1, steps // 5), seed=seed, use_cpu=not torch.cuda.is_available(),
        )
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        great.fit(train.copy())
        fit_s = time.perf_counter() - t0
        # a row written in GReaT's format, to size max_length so rows are not cut off
        longest = max(len(great.tokenizer(", ".join(f"{c} is {v}" for c, v in r.items()))["input_ids"])
                      for r in train.head(200).to_dict("records"))
        t0 = time.perf_counter()
        raw = great.sample(rows, k=min(rows, 50), max_length=longest + 24, temperature=0.7, device="cpu")
        sample_s = time.perf_counter() - t0
    good = valid_rows(raw, table)
    return dict(
        name="GReaT (be-great 0.0.14)", steps=steps, batch_size=batch_size, load_s=load_s, fit_s=fit_s,
        s_per_step=fit_s / max(steps, 1), sample_s=sample_s, rows_requested=rows, rows_returned=len(raw),
        rows_valid=len(good), rows_per_s=len(good) / sample_s if sample_s > 0 else None,
        **score(good, table, train, test),
    )


def _graph_and_roles(table):
    graph = CausalGraph.load(DAG)
    return graph, derive_roles(graph, "sex", TARGET, x0="Male", x1="Female")


def run_ours(steps: int, rows: int, seed: int = 0) -> dict | None:
    """The fine-tuned LLMGenerator; None if that module is not there yet."""
    try:
        from faircause_core.generators.llm import LLMGenerator
    except ImportError:
        return None
    folder = lm_store.ensure_default_model()
    table, train, test = load_split(seed)
    graph, roles = _graph_and_roles(table)
    fit_table = table_from_frame(train, name="nhefs", kinds={c: table.schema[c].kind for c in train.columns})
    gen = LLMGenerator(model_dir=folder, train_steps=steps, cache=False, seed=seed)
    t0 = time.perf_counter()
    gen.fit(fit_table, graph, roles)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = gen.sample(rows, seed=seed)
    sample_s = time.perf_counter() - t0
    good = valid_rows(synth, table)
    ran = gen.train_stats_["steps"]  # early stopping on held-out rows may end before `steps`
    return dict(name="ours: LLMGenerator (fine-tuned)", steps=ran, fit_s=fit_s,
                s_per_step=gen.train_stats_["seconds"] / max(ran, 1), lm_columns=gen.train_stats_["lm_columns"],
                sample_s=sample_s, rows_requested=rows, rows_returned=len(synth), rows_valid=len(good),
                rows_per_s=len(good) / sample_s, **score(good, table, train, test))


def run_prompt(rows: int, seed: int = 0, n_examples: int = 8) -> dict:
    """The paper's mode: few-shot prompting, no fine-tuning (fit is free)."""
    from faircause_core.generators.prompt import PromptGenerator

    folder = lm_store.ensure_default_model()
    table, train, test = load_split(seed)
    graph, roles = _graph_and_roles(table)
    fit_table = table_from_frame(train, name="nhefs", kinds={c: table.schema[c].kind for c in train.columns})
    gen = PromptGenerator(model_dir=folder, n_examples=n_examples).fit(fit_table, graph, roles)
    t0 = time.perf_counter()
    synth = gen.sample(rows, seed=seed)
    sample_s = time.perf_counter() - t0
    good = valid_rows(synth, table)
    return dict(name="ours: PromptGenerator (few-shot)", steps=0, fit_s=0.0, s_per_step=None, sample_s=sample_s,
                rows_requested=rows, rows_returned=len(synth), rows_valid=len(good),
                rows_per_s=len(good) / sample_s, **score(good, table, train, test))


def _fmt(value, spec="{:.3f}"):
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else spec.format(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--contenders", default="great,ours")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    wanted = [c.strip() for c in args.contenders.split(",") if c.strip()]
    results = []
    for name in wanted:
        load_before = os.getloadavg()[0]
        print(f"-- {name}: steps={args.steps} rows={args.rows}", flush=True)
        if name == "great":
            res = run_great(args.steps, args.rows, batch_size=args.batch_size)
        elif name == "ours":
            res = run_ours(args.steps, args.rows)
            if res is None:
                print("   ours: faircause_core.generators.llm not available, skipped")
                continue
        elif name == "prompt":
            res = run_prompt(args.rows)
        else:
            parser.error(f"unknown contender {name!r}: use great, ours, prompt")
        res["load_avg_1min"] = [load_before, os.getloadavg()[0]]
        results.append(res)
        _write(args.out, args, results, {})  # keep what finished if a later contender fails
    header = f"{'contender':34} {'s/step':>8} {'fit s':>8} {'rows/s':>8} {'valid':>9} {'quality':>8} {'AUROC':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['name']:34} {_fmt(r.get('s_per_step'), '{:.2f}'):>8} {_fmt(r.get('fit_s'), '{:.1f}'):>8} "
              f"{_fmt(r.get('rows_per_s'), '{:.2f}'):>8} {r['rows_valid']:>4}/{r['rows_requested']:<4} "
              f"{_fmt(r.get('quality')):>8} {_fmt(r.get('auroc_tstr')):>7}")
    great = next((r for r in results if r["name"].startswith("GReaT")), None)
    ratios = {}
    for r in results:
        if great is not None and r is not great and r.get("rows_per_s") and great.get("rows_per_s"):
            ratios[r["name"]] = r["rows_per_s"] / great["rows_per_s"]
            print(f"sampling speed {r['name']} / GReaT: {ratios[r['name']]:.1f}x")
    print(f"wrote {_write(args.out, args, results, ratios)}")
    return 0


def _write(path, args, results, ratios) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(steps=args.steps, rows=args.rows, results=results,
                                   speed_ratio_vs_great=ratios), indent=1, default=float))
    return out


if __name__ == "__main__":
    sys.exit(main())
