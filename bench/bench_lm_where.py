"""Where can the language model help? Held-out measurements against the fixed part alone.

The fixed part (F) is each column's Dirichlet posterior centred on a logistic model of its
parents (5 pseudo rows): what the default generator delivers for a column the language
model does not change (LLMGenerator(body="none")). Against it:

- R: the default generator, the fixed part plus the trained residual kept per column by the
  Holm-corrected held-out test (quick preset). Compared per column on evaluation rows no
  part of the fit saw (LLMGenerator.heldout_gains: paired per-row log-loss gain, SE).
- P: the language model as the prior's base measure: each column's Dirichlet centre is
  softmax(logistic + tau * LM), the LM's zero-shot logits of the column's values given its
  parents' values (SmolLM2, first 8 layers, through the slot encoding, untrained), with
  tau in {0, 0.1, 0.3, 1} and the strength s in {1, 5, 20, 100} chosen per column by 5-fold
  cross-validation on the fitting rows. Its own control, F-cv, chooses s the same way with
  tau = 0, so a P gain over F-cv is the language model's, not the cross-validation's.
  P-random: the same with the architecture's random weights (a model that knows nothing).

Settings (what is run, all seeded; --part picks):

  small   subsamples of 100, 200, 400, 800 rows of the demo, flchain and medpar (seeds 0, 1),
          the graph discovered once on the whole cohort; evaluation rows: 1,000 other rows
          (medpar: 695, so that 800 remain to draw from).
  text    a built cohort with a 120-level diagnosis column (diagnosis names, their severity
          drives death; sex-specific and age-specific diagnoses) at 400 and 1,500 fitting
          rows; flchain's 16-level `chapter` is in `small` and in bench_lm_schedule.
  large   50,000 simulated rows, Y with X x W and W x Z interactions the additive fixed part
          cannot express; R with the quick and thorough presets; the Bayes net with its
          X-by-parent outcome (outcome_by_x) beside them.

For R against F also: TSTR AUROC (trained on 2,000 synthetic rows, tested on the evaluation
rows) and the gap of each effect (TV, Ctf-DE/IE/SE on 10,000 synthetic rows, doubly
robust) to the real rows' - computed only where R kept a column: otherwise R's rows ARE F's
(same seed, same conditionals), which the script checks on the first 200 rows.

    nice -n 10 .venv/bin/python bench/bench_lm_where.py --part small [--sizes 100,200] [--seeds 0]
Writes bench/out/lm_where_<part>.json (appending per finished setting); `--part report`
prints the tables docs/language_model.md quotes.
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit computed and timed (workflow.audit_store)

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_lm_ablation import COHORTS  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.llm import LLMGenerator  # noqa: E402
from faircause_core.generators.lm import store as lm_store  # noqa: E402
from faircause_core.generators.lm.slots import SlotLayout, SlotLM  # noqa: E402
from faircause_core.generators.lm.train import fit_skip_tables  # noqa: E402
from faircause_core.io.data import load_table, table_from_frame  # noqa: E402

TAUS = (0.0, 0.1, 0.3, 1.0)
STRENGTHS = (1.0, 5.0, 20.0, 100.0)
EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")
OUT = ROOT / "bench" / "out"


# ------------------------------------------------------------------------- the prior variant

def _codes_ok(layout, df):
    codes = layout.encode(df)
    cards = np.array([layout.cols[c].card for c in layout.order])
    return codes[(codes < cards[None, :]).all(axis=1)]


class ZeroShot:
    """The untrained language model's logits of each column's values given its parents,
    through the slot encoding (the residual path at gate 1, nothing trained)."""

    def __init__(self, body: str, layers: int = 8):
        self.body = body
        self.folder = lm_store.ensure_default_model()
        self.model, self.tokenizer, _ = lm_store.load_model(self.folder, "cpu", layers=layers,
                                                            random_seed=0 if body == "random" else None)

    def logits(self, slot_lm: SlotLM, c: str, slots: np.ndarray) -> np.ndarray:
        lay = slot_lm.layout
        lo, hi = lay.offset[c], lay.offset[c] + lay.cols[c].card
        out = []
        with torch.inference_mode():
            kv = slot_lm.prefix_kv()
            for start in range(0, len(slots), 512):
                part = torch.as_tensor(slots[start:start + 512])
                cols = torch.full((len(part),), lay.index[c], dtype=torch.long)
                h = slot_lm._query_hidden(kv, cols, part)
                out.append((h @ slot_lm.value_out.T)[:, lo:hi].double().numpy())
        return np.concatenate(out) if out else np.zeros((0, hi - lo))


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def prior_losses(zero: ZeroShot, fit_table, graph, eval_df, folds: int = 5, seed: int = 0) -> dict:
    """Per column: per-row losses on the evaluation rows of F (s = 5), F-cv and P (module
    docstring), with the chosen tau and s."""
    layout = SlotLayout(fit_table, graph, 10)
    torch.manual_seed(0)
    slot_lm = SlotLM(zero.model, zero.tokenizer, layout).eval()
    fit_codes = layout.encode(fit_table.df)
    eval_codes = _codes_ok(layout, eval_df)
    n_fit = len(fit_codes)
    allc = np.concatenate([fit_codes, eval_codes])
    by_col = {c: allc[:, layout.index[c]] for c in layout.order}
    fold_of = np.random.default_rng([seed, 3]).permutation(n_fit) % folds
    out = {"eval_rows": int(len(eval_codes)), "columns": {}}
    # per column: configuration ids per row, the LM's zero-shot logits per configuration
    cfg, lm_logits, cfg_slots = {}, {}, {}
    for c in layout.order:
        slots = (layout.parent_slots(c, by_col) if layout.parents[c]
                 else np.full((len(allc), layout.max_parents), -1, dtype=np.int64))
        uniq, inverse = np.unique(slots, axis=0, return_inverse=True)
        cfg[c], cfg_slots[c] = inverse.reshape(-1), uniq
        lm_logits[c] = zero.logits(slot_lm, c, uniq)

    def logistic_logp(rows):
        fit_skip_tables(slot_lm, fit_codes, 1.0, rows=rows)
        res = {}
        with torch.no_grad():
            for c in layout.order:
                lo, hi = layout.offset[c], layout.offset[c] + layout.cols[c].card
                res[c] = _log_softmax(slot_lm.skip_logits(torch.as_tensor(cfg_slots[c]))[:, lo:hi].double().numpy())
        return res

    def losses(c, logp, rows_count, rows_eval, tau, s):
        """-log posterior of rows_eval's values, counts from rows_count (indices into allc)."""
        card = layout.cols[c].card
        y = by_col[c]
        counts = np.zeros((len(cfg_slots[c]), card))
        np.add.at(counts, (cfg[c][rows_count], y[rows_count]), 1.0)
        centre = np.exp(_log_softmax(logp + tau * lm_logits[c]))
        k = cfg[c][rows_eval]
        p = (counts[k, y[rows_eval]] + s * centre[k, y[rows_eval]]) / (counts[k].sum(axis=1) + s)
        return -np.log(np.clip(p, 1e-300, None))

    cv = {c: np.zeros((len(TAUS), len(STRENGTHS))) for c in layout.order}
    for f in range(folds):
        tr, va = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        logp = logistic_logp(tr)
        for c in layout.order:
            for i, tau in enumerate(TAUS):
                for j, s in enumerate(STRENGTHS):
                    cv[c][i, j] += losses(c, logp[c], tr, va, tau, s).sum()
    logp = logistic_logp(np.arange(n_fit))
    ev = np.arange(n_fit, len(allc))
    every = np.arange(n_fit)
    for c in layout.order:
        i, j = np.unravel_index(np.argmin(cv[c]), cv[c].shape)
        j0 = int(np.argmin(cv[c][0]))
        f5 = losses(c, logp[c], every, ev, 0.0, 5.0)
        fcv = losses(c, logp[c], every, ev, 0.0, STRENGTHS[j0])
        pr = losses(c, logp[c], every, ev, TAUS[i], STRENGTHS[j])
        out["columns"][c] = {"tau": TAUS[i], "s": STRENGTHS[j], "s_fixed_cv": STRENGTHS[j0],
                             "F": f5, "Fcv": fcv, "P": pr}
    return out


def paired(a: np.ndarray, b: np.ndarray) -> dict:
    """Mean per-row gain of b over a (a's loss minus b's) and its SE."""
    d = np.asarray(a) - np.asarray(b)
    return {"gain": round(float(d.mean()), 5), "se": round(float(d.std(ddof=1) / np.sqrt(len(d))), 5)}


# ------------------------------------------------------------------------- R against F

def fit_pair(fit_table, graph, roles, preset="quick"):
    t0 = time.perf_counter()
    r = LLMGenerator(cache=False, preset=preset).fit(fit_table, graph, roles)
    r_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    f = LLMGenerator(cache=False, body="none").fit(fit_table, graph, roles)
    return r, f, r_s, time.perf_counter() - t0


def compare_rows(r, f, fit_table, eval_df, roles, graph, real_effects=None, always: bool = False):
    """What R's rows change against F's: identical rows where R kept no column (checked);
    else (or with `always`) TSTR AUROC and effect gaps for both."""
    from faircause_core.causal.fairness import decompose
    from faircause_core.metrics.frames import model_kinds
    from faircause_core.metrics.utility import tstr_auroc

    a, b = r.sample(200, seed=0), f.sample(200, seed=0)
    if not r.language_model_["columns_used"]:
        assert a.equals(b), "a residual kept for no column must give the fixed part's rows"
        if not always:
            return {"identical_rows": True}
    after = graph.descendants(roles.y)
    features = {c: k for c, k in model_kinds(fit_table.schema).items() if c not in after}
    res = {"identical_rows": not r.language_model_["columns_used"]}
    for name, gen in (("R", r), ("F", f)):
        syn = gen.sample(2000, seed=1)
        auc = tstr_auroc(fit_table.df, syn, eval_df, roles.y, features, positive=roles.positive,
                         threshold=roles.threshold)
        big = gen.sample(10_000, seed=2)
        eff = decompose(big, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, seed=0,
                        threshold=roles.threshold).to_frame()
        res[name] = {"tstr": round(auc["tstr"], 4), "trtr": round(auc["trtr"], 4),
                     "effects": {e: round(float(eff.loc[e, "estimate"]), 4) for e in EFFECTS}}
        if real_effects is not None:
            res[name]["gaps"] = {e: round(res[name]["effects"][e] - real_effects[e], 4) for e in EFFECTS}
    return res


def r_gains(r, eval_df) -> dict:
    g = r.heldout_gains(eval_df)
    return {c: {"gain": round(v["gain"], 5), "se": round(v["se"], 5)} for c, v in g.items()}


def summary_line(rec):
    lm = rec["R"]["record"]
    return (f"{rec['setting']}: R kept {len(lm['columns_used'])}/{len(lm['columns'])} {lm['columns_used']} "
            f"steps {lm['steps_run']}/{lm['step_budget']} fit {rec['R']['fit_s']}s; P sum gain over F-cv "
            f"{rec.get('P_total', {}).get('vs_Fcv')}")


def _append(path: Path, rec: dict) -> None:
    done = json.loads(path.read_text()) if path.exists() else []
    done = [d for d in done if d["setting"] != rec["setting"]] + [rec]
    path.write_text(json.dumps(done, indent=1) + "\n")


def measure(setting: str, fit_table, graph, roles, eval_df, zero: dict, real_effects=None, presets=("quick",),
            always: bool = False):
    rec = {"setting": setting, "fit_rows": len(fit_table.df), "load": round(os.getloadavg()[0], 1)}
    if zero:
        rec["P"] = {}
        for body, z in zero.items():
            t0 = time.perf_counter()
            pl = prior_losses(z, fit_table, graph, eval_df)
            cols = pl["columns"]
            rec["P"][body] = {"seconds": round(time.perf_counter() - t0, 1), "eval_rows": pl["eval_rows"],
                              "columns": {c: {"tau": v["tau"], "s": v["s"], "s_fixed_cv": v["s_fixed_cv"],
                                              "F": round(float(v["F"].mean()), 4),
                                              "P_vs_Fcv": paired(v["Fcv"], v["P"]), "Fcv_vs_F": paired(v["F"], v["Fcv"]),
                                              "P_vs_F": paired(v["F"], v["P"])} for c, v in cols.items()}}
            tot_f = np.sum([v["Fcv"] for v in cols.values()], axis=0)
            tot_p = np.sum([v["P"] for v in cols.values()], axis=0)
            rec["P"][body]["total_vs_Fcv"] = paired(tot_f, tot_p)
        rec["P_total"] = {"vs_Fcv": rec["P"].get("pretrained", {}).get("total_vs_Fcv")}
    for preset in presets:
        r, f, r_s, f_s = fit_pair(fit_table, graph, roles, preset)
        key = "R" if preset == "quick" else f"R_{preset}"
        rec[key] = {"fit_s": round(r_s, 1), "record": r.language_model_, "heldout": r_gains(r, eval_df),
                    "rows": compare_rows(r, f, fit_table, eval_df, roles, graph, real_effects, always)}
        rec["F_fit_s"] = round(f_s, 2)
    return rec


# ------------------------------------------------------------------------- settings

def part_small(sizes, seeds, cohorts, path, zero):
    from faircause_core.causal.discovery import discover
    from faircause_core.workflow.pipeline import audit

    for name in cohorts:
        file, x, x0, x1, y, fixed, after = COHORTS[name]
        table = load_table(file)
        graph = discover(table, x, y, fixed=fixed, after_outcome=after, seed=0)
        roles = derive_roles(graph, x, y, x0=x0, x1=x1)
        df = table.df
        order = np.random.default_rng([11, len(df)]).permutation(len(df))
        n_eval = min(1000, len(df) - max(sizes))  # medpar's 1,495 rows: 695 evaluation rows
        eval_idx, pool = order[:n_eval], order[n_eval:]
        eval_df = df.iloc[eval_idx].reset_index(drop=True)
        whole = audit(table, roles, seed=0).to_frame()
        real = {e: float(whole.loc[e, "estimate"]) for e in EFFECTS}
        for n in sizes:
            for seed in seeds:
                pick = np.random.default_rng([seed, n]).choice(pool, size=n, replace=False)
                fit = table_from_frame(df.iloc[np.sort(pick)].reset_index(drop=True), name=f"{name}_{n}_{seed}")
                rec = measure(f"{name} n={n} seed={seed}", fit, graph, roles, eval_df, zero, real)
                _append(path, rec)
                print(summary_line(rec), flush=True)


# 120 diagnoses: (name, severity 0-3, sex "M"/"F"/None, age "old"/"young"/None)
DIAGNOSES = [
    ("metastatic pancreatic cancer", 3, None, "old"), ("septic shock", 3, None, None),
    ("acute myocardial infarction", 3, None, "old"), ("ruptured abdominal aortic aneurysm", 3, "M", "old"),
    ("massive pulmonary embolism", 3, None, None), ("intracerebral hemorrhage", 3, None, "old"),
    ("acute liver failure", 3, None, None), ("cardiac arrest", 3, None, "old"), ("metastatic lung cancer", 3, None, "old"),
    ("acute respiratory distress syndrome", 3, None, None), ("end-stage renal disease", 3, None, "old"),
    ("glioblastoma", 3, None, None), ("acute myeloid leukemia", 3, None, "old"), ("necrotizing fasciitis", 3, None, None),
    ("severe traumatic brain injury", 3, "M", "young"), ("ovarian cancer", 3, "F", "old"),
    ("metastatic colorectal cancer", 3, None, "old"), ("cirrhosis with variceal bleeding", 3, "M", None),
    ("aortic dissection", 3, "M", "old"), ("amyotrophic lateral sclerosis", 3, None, "old"),
    ("congestive heart failure", 2, None, "old"), ("community-acquired pneumonia", 2, None, "old"),
    ("chronic obstructive pulmonary disease exacerbation", 2, None, "old"), ("ischemic stroke", 2, None, "old"),
    ("hip fracture", 2, "F", "old"), ("atrial fibrillation with rapid ventricular response", 2, None, "old"),
    ("diabetic ketoacidosis", 2, None, "young"), ("acute pancreatitis", 2, None, None), ("pyelonephritis", 2, "F", None),
    ("gastrointestinal bleeding", 2, None, "old"), ("acute kidney injury", 2, None, "old"), ("breast cancer", 2, "F", None),
    ("prostate cancer", 2, "M", "old"), ("non-Hodgkin lymphoma", 2, None, None), ("bowel obstruction", 2, None, "old"),
    ("cellulitis with sepsis", 2, None, None), ("pulmonary fibrosis", 2, None, "old"), ("Parkinson disease", 2, None, "old"),
    ("Alzheimer dementia", 2, None, "old"), ("unstable angina", 2, "M", "old"), ("deep vein thrombosis", 2, None, None),
    ("pre-eclampsia", 2, "F", "young"), ("multiple myeloma", 2, None, "old"), ("bladder cancer", 2, "M", "old"),
    ("cervical cancer", 2, "F", None), ("endocarditis", 2, None, None), ("meningitis", 2, None, "young"),
    ("hyponatremia", 2, None, "old"), ("hypertensive emergency", 2, None, None), ("complicated diverticulitis", 2, None, "old"),
    ("peritonitis", 2, None, None), ("osteomyelitis", 2, None, None), ("status epilepticus", 2, None, None),
    ("testicular cancer", 1, "M", "young"), ("type 2 diabetes", 1, None, "old"), ("essential hypertension", 1, None, "old"),
    ("asthma exacerbation", 1, None, "young"), ("urinary tract infection", 1, "F", None), ("cholecystitis", 1, "F", None),
    ("appendicitis", 1, None, "young"), ("kidney stones", 1, "M", None), ("migraine", 1, "F", "young"),
    ("major depressive disorder", 1, None, None), ("anxiety disorder", 0, "F", "young"), ("gout flare", 1, "M", "old"),
    ("anemia", 1, "F", None), ("hypothyroidism", 1, "F", None), ("benign prostatic hyperplasia", 1, "M", "old"),
    ("endometriosis", 1, "F", "young"), ("osteoarthritis of the knee", 1, None, "old"), ("rheumatoid arthritis", 1, "F", None),
    ("alcohol withdrawal", 1, "M", None), ("syncope", 1, None, "old"), ("gastroenteritis", 0, None, "young"),
    ("dehydration", 1, None, "old"), ("influenza", 1, None, None), ("bronchitis", 0, None, None), ("sinusitis", 0, None, None),
    ("otitis media", 0, None, "young"), ("ankle sprain", 0, None, "young"), ("wrist fracture", 0, "F", None),
    ("lower back pain", 0, None, None), ("tension headache", 0, "F", "young"), ("allergic rhinitis", 0, None, "young"),
    ("eczema", 0, None, "young"), ("acne", 0, None, "young"), ("psoriasis", 0, None, None), ("conjunctivitis", 0, None, None),
    ("cataract", 0, None, "old"), ("glaucoma", 1, None, "old"), ("hemorrhoids", 0, None, None), ("hernia repair", 0, "M", None),
    ("carpal tunnel syndrome", 0, "F", None), ("plantar fasciitis", 0, None, None), ("tonsillitis", 0, None, "young"),
    ("irritable bowel syndrome", 0, "F", "young"), ("gastroesophageal reflux disease", 0, None, None),
    ("insomnia", 0, None, None), ("vitamin D deficiency", 0, None, None), ("iron deficiency", 0, "F", "young"),
    ("uncomplicated pregnancy", 0, "F", "young"), ("contact dermatitis", 0, None, None), ("varicose veins", 0, "F", None),
    ("shingles", 1, None, "old"), ("Lyme disease", 0, None, None), ("mononucleosis", 0, None, "young"),
    ("concussion", 1, "M", "young"), ("laceration of the hand", 0, "M", "young"), ("sunburn", 0, None, "young"),
    ("ingrown toenail", 0, None, None), ("common cold", 0, None, None), ("strep throat", 0, None, "young"),
    ("tinnitus", 0, None, "old"), ("vertigo", 0, None, "old"), ("pneumothorax", 2, "M", "young"),
    ("sickle cell crisis", 2, None, "young"), ("anorexia nervosa", 2, "F", "young"), ("opioid overdose", 3, "M", "young"),
    ("heat stroke", 2, None, "old"), ("acute cholangitis", 2, None, "old"),
]


def text_cohort(n: int, seed: int):
    """age, sex, diagnosis (120 levels, Zipf frequencies shaped by sex and age), length of
    stay (by severity) and death (by age, severity and a small direct effect of sex)."""
    rng = np.random.default_rng(seed)
    names = [d[0] for d in DIAGNOSES]
    sev = np.array([d[1] for d in DIAGNOSES], dtype=float)
    base = 1.0 / np.arange(1, len(DIAGNOSES) + 1) ** 0.8
    base = base[np.random.default_rng(99).permutation(len(base))]
    age = rng.integers(18, 96, n)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    diag = np.empty(n, dtype=object)
    for i in range(n):
        w = base.copy()
        for k, (_, _, s, a) in enumerate(DIAGNOSES):
            if s is not None and s != sex[i]:
                w[k] *= 0.02
            if a == "old":
                w[k] *= np.exp((age[i] - 60) / 15)
            elif a == "young":
                w[k] *= np.exp(-(age[i] - 40) / 15)
        diag[i] = names[rng.choice(len(w), p=w / w.sum())]
    s = sev[[names.index(d) for d in diag]]
    los = np.maximum(1, np.round(rng.gamma(1.5 + 1.5 * s, 1.5))).astype(int)
    logit = -4.2 + 1.3 * s + 0.035 * (age - 60) + 0.25 * (sex == "M")
    death = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({"age": age, "sex": sex, "diagnosis": diag, "length_of_stay": los, "death": death})
    graph = CausalGraph(list(df.columns), [("age", "diagnosis"), ("sex", "diagnosis"), ("age", "death"),
                                           ("sex", "death"), ("diagnosis", "death"), ("diagnosis", "length_of_stay"),
                                           ("age", "length_of_stay")])
    return df, graph, derive_roles(graph, "sex", "death", x0="F", x1="M")


def part_text(sizes, seeds, path, zero):
    from faircause_core.workflow.pipeline import audit

    full, graph, roles = text_cohort(30_000, 123)
    whole = audit(table_from_frame(full, name="diagnoses"), roles, seed=0).to_frame()
    real = {e: float(whole.loc[e, "estimate"]) for e in EFFECTS}
    eval_df = full.iloc[:1000].reset_index(drop=True)
    for n in sizes:
        for seed in seeds:
            df, _, _ = text_cohort(n, seed)
            fit = table_from_frame(df, name=f"diagnoses_{n}_{seed}")
            rec = measure(f"diagnoses n={n} seed={seed}", fit, graph, roles, eval_df, zero, real)
            rec["levels_seen"] = int(df["diagnosis"].nunique())
            _append(path, rec)
            print(summary_line(rec), flush=True)


def large_cohort(n: int, seed: int):
    """Z (age, region), X (binary), W1, W2 (numbers, X-dependent); Y with X x W1 and W2 x age
    interactions, invisible to an additive logistic model."""
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 12, n).round(0)
    region = rng.choice(["north", "south", "east", "west"], n)
    x = np.where(rng.random(n) < 1 / (1 + np.exp(-(age - 60) / 20)), "exposed", "unexposed")
    ex = (x == "exposed").astype(float)
    w1 = (rng.normal(0, 1, n) + 0.6 * ex).round(2)
    w2 = (rng.normal(0, 1, n) + 0.02 * (age - 60)).round(2)
    za = (age - 60) / 12
    logit = -1.0 + 0.3 * ex + 0.4 * w1 + 1.5 * ex * w1 - 1.2 * w2 * za + 0.2 * (region == "south")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({"age": age, "region": region, "x": x, "w1": w1, "w2": w2, "y": y})
    graph = CausalGraph(list(df.columns), [("age", "x"), ("age", "w2"), ("x", "w1"), ("age", "y"), ("region", "y"),
                                           ("x", "y"), ("w1", "y"), ("w2", "y")])
    return df, graph, derive_roles(graph, "x", "y", x0="unexposed", x1="exposed")


def part_large(n, presets, path):
    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.workflow.pipeline import audit

    df, graph, roles = large_cohort(n + 5000, 0)
    fit = table_from_frame(df.iloc[:n].reset_index(drop=True), name=f"large_{n}")
    eval_df = df.iloc[n:].reset_index(drop=True)
    whole = audit(fit, roles, seed=0, splits=1).to_frame()
    real = {e: float(whole.loc[e, "estimate"]) for e in EFFECTS}
    rec = measure(f"large n={n}", fit, graph, roles, eval_df, {}, real, presets=presets, always=True)
    from faircause_core.causal.fairness import decompose
    from faircause_core.metrics.frames import model_kinds
    from faircause_core.metrics.utility import tstr_auroc

    for label, kw in (("bayesnet", {}), ("bayesnet_outcome_by_x", {"outcome_by_x": True})):
        t0 = time.perf_counter()
        bn = BayesNetGenerator(**kw).fit(fit, graph, roles)
        syn = bn.sample(2000, seed=1)
        auc = tstr_auroc(fit.df, syn, eval_df, roles.y, model_kinds(fit.schema), positive=roles.positive)
        eff = decompose(bn.sample(10_000, seed=2), roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w,
                        seed=0).to_frame()
        rec[label] = {"fit_s": round(time.perf_counter() - t0, 1), "tstr": round(auc["tstr"], 4),
                      "gaps": {e: round(float(eff.loc[e, "estimate"]) - real[e], 4) for e in EFFECTS}}
    _append(path, rec)
    print(summary_line(rec), json.dumps({k: rec[k] for k in rec if k.startswith("bayesnet")}), flush=True)


def _pm(p) -> str:
    return f"{p['gain']:+.4f} ± {p['se']:.4f}"


def report() -> str:
    """The markdown tables of docs/language_model.md from the JSON files written so far."""
    lines = []
    for part in ("small", "text"):
        path = OUT / f"lm_where_{part}.json"
        if not path.exists():
            continue
        lines += ["", "| setting | R: columns kept (won on evaluation rows) / tested | R steps (budget) | R fit s | "
                  "P vs F-cv, summed over columns | P-random vs F-cv | F-cv vs F | R's rows |", "|---|---|---|---|---|---|---|---|"]
        for r in sorted(json.loads(path.read_text()), key=lambda r: (r["setting"].split()[0], r["fit_rows"], r["setting"])):
            rec, held = r["R"]["record"], r["R"]["heldout"]
            won = [c for c in rec["columns_used"] if held[c]["gain"] > 2 * held[c]["se"]]
            kept = f"{len(rec['columns_used'])} ({len(won)}) / {len(rec['columns'])}"
            if rec["columns_used"]:
                kept += " " + ", ".join(f"{c} {_pm(held[c])}" for c in rec["columns_used"])
            P = r.get("P", {})
            fcv = "-"
            if "pretrained" in P:
                cols = P["pretrained"]["columns"]
                top = max(cols, key=lambda c: cols[c]["Fcv_vs_F"]["gain"])
                fcv = (f"{sum(v['Fcv_vs_F']['gain'] for v in cols.values()):+.3f} (largest: {top} "
                       f"{_pm(cols[top]['Fcv_vs_F'])}, s = {cols[top]['s_fixed_cv']:g})")
            rows = r["R"]["rows"]
            said = "same as F" if rows.get("identical_rows") else (
                f"TSTR {rows['R']['tstr']:.3f} vs {rows['F']['tstr']:.3f}; Ctf-DE gap {rows['R']['gaps']['ctf_de']:+.3f} "
                f"vs {rows['F']['gaps']['ctf_de']:+.3f}")
            lines.append(f"| {r['setting']} | {kept} | {rec['steps_run']} ({rec['step_budget']}) | {r['R']['fit_s']:.0f} | "
                         f"{_pm(P['pretrained']['total_vs_Fcv']) if 'pretrained' in P else '-'} | "
                         f"{_pm(P['random']['total_vs_Fcv']) if 'random' in P else '-'} | {fcv} | {said} |")
        cols = [(r["setting"], c, v) for r in json.loads(path.read_text())
                for c, v in r.get("P", {}).get("pretrained", {}).get("columns", {}).items()
                if v["tau"] > 0 and abs(v["P_vs_Fcv"]["gain"]) > 2 * v["P_vs_Fcv"]["se"]]
        if cols:
            lines += ["", "P's columns beyond 2 SE of F-cv: " + "; ".join(
                f"{s} {c} {_pm(v['P_vs_Fcv'])} (tau {v['tau']:g}, s {v['s']:g})" for s, c, v in cols)]
    path = OUT / "lm_where_large.json"
    if path.exists():
        for r in json.loads(path.read_text()):
            rows, rec = r["R"]["rows"], r["R"]["record"]
            lines += ["", f"{r['setting']}: R kept {len(rec['columns_used'])} of {len(rec['columns'])} columns, "
                      f"{rec['steps_run']} of {rec['step_budget']} steps, {r['R']['fit_s']:.0f} s; y's gain on evaluation "
                      f"rows {_pm(r['R']['heldout']['y'])}.", "",
                      "| generator | TSTR AUROC | TV gap | Ctf-DE gap | Ctf-IE gap | Ctf-SE gap | fit s |", "|---|---|---|---|---|---|---|"]
            for name, v in (("fixed part F (= R)", rows.get("F")), ("Bayes net", r.get("bayesnet")),
                            ("Bayes net, outcome_by_x", r.get("bayesnet_outcome_by_x"))):
                if v:
                    fit_s = r["F_fit_s"] if name.startswith("fixed") else v.get("fit_s")
                    lines.append(f"| {name} | {v['tstr']:.3f} | " + " | ".join(f"{v['gaps'][e]:+.3f}" for e in EFFECTS)
                                 + f" | {fit_s} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("small", "text", "large", "report"), required=True,
                    help="report: print the markdown tables of what has been measured")
    ap.add_argument("--sizes", default=None)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--cohorts", default="demo,flchain,medpar")
    ap.add_argument("--priors", default="pretrained,random", help="P variants ('' for none)")
    ap.add_argument("--presets", default="quick", help="large: R presets, e.g. quick,thorough")
    args = ap.parse_args()
    if args.part == "report":
        print(report())
        return 0
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"lm_where_{args.part}.json"
    seeds = [int(s) for s in args.seeds.split(",")]
    zero = {b: ZeroShot(b) for b in args.priors.split(",") if b}
    if args.part == "small":
        sizes = [int(s) for s in (args.sizes or "100,200,400,800").split(",")]
        part_small(sizes, seeds, args.cohorts.split(","), path, zero)
    elif args.part == "text":
        sizes = [int(s) for s in (args.sizes or "400,1500").split(",")]
        part_text(sizes, seeds, path, zero)
    else:
        part_large(int(args.sizes or 50_000), tuple(args.presets.split(",")), path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
