"""Wide cohorts and seeded DAGs over them, for the graph editor's layout (issue 19 item 9): a
16-column cohort whose graph has 11 layers, and a 56-column one built from chains (confounder
chains, mediator chains from sex to death, chains recorded after death, columns off every path)
with 15 layers. Both have X = sex (Male/Female) and Y = death (0/1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from faircause_core.causal.graph import CausalGraph

SIXTEEN = ["age_at_entry", "region", "parental_income", "birth_weight", "sex", "schooling", "occupation",
           "bmi", "systolic_bp", "ldl", "smoking_packs", "death", "follow_up_days", "autopsy_done",
           "hair_colour", "shoe_size"]


def table(names, rows: int = 300, seed: int = 3) -> pd.DataFrame:
    """Seeded measurements under `names`, with sex Male/Female and death 0/1."""
    rng = np.random.default_rng(seed)
    cols = {c: np.round(rng.normal(size=rows), 3) for c in names}
    cols["sex"] = rng.choice(["Male", "Female"], rows)
    cols["death"] = rng.integers(0, 2, rows)
    return pd.DataFrame(cols)


def sixteen_graph() -> CausalGraph:
    """Sex, death and 14 measurements, with every role: confounders, mediators, columns after the
    outcome and columns off every path (11 layers across the page)."""
    names = SIXTEEN
    pick = np.random.default_rng(11)
    edges = [(a, b) for i, a in enumerate(names[:11]) for b in names[i + 1:12] if pick.random() < 0.3]
    edges += [("sex", "death"), ("death", "follow_up_days"), ("follow_up_days", "autopsy_done"),
              ("smoking_packs", "hair_colour"), ("hair_colour", "shoe_size"), ("sex", "shoe_size")]
    return CausalGraph(names, list(dict.fromkeys(edges)))


def fifty_six_graph() -> CausalGraph:
    """56 columns in chains: 4 confounder chains of 3 (each starts at a cause of sex and ends at a
    cause of death), 5 mediator chains (26 columns) from sex to death, a chain of 4 after death and
    two of 2 besides it, and 4 chains of 2 off every path; sex also causes death and readmissions.
    Its longest path is 15 layers (2 of them across the page at 1,200 px)."""
    conf = [f"{s}_{k}" for s in ("birth_region", "parental_income", "age_at_entry", "schooling_years")
            for k in (1, 2, 3)]
    labs = ("creatinine", "albumin", "ldl", "crp", "glucose")
    meds = [[f"{lab}_visit_{k}" for k in range(1, 6 if j < 4 else 7)] for j, lab in enumerate(labs)]
    after = ["follow_up_days", "readmissions", "autopsy_done", "registry_update", "icd_code_count",
             "cost_of_care", "discharge_notes", "coder_id"]
    off = ["hair_colour", "shoe_size", "eye_colour", "blood_group", "handedness", "phone_model", "zip_digit",
           "clinic_floor"]
    names = conf + ["sex"] + [m for chain in meds for m in chain] + ["death"] + after + off
    edges = []
    for c in range(4):
        chain = conf[3 * c:3 * c + 3]
        edges += list(zip(chain, chain[1:])) + [(chain[0], "sex"), (chain[2], "death")]
    for chain in meds:
        edges += [("sex", chain[0])] + list(zip(chain, chain[1:])) + [(chain[-1], "death")]
    edges += [("sex", "death"), ("death", after[0]), (after[0], after[1]), (after[1], after[2]),
              (after[2], after[3]), ("death", after[4]), (after[4], after[5]), ("death", after[6]),
              (after[6], after[7]), ("sex", after[1])]
    edges += list(zip(off[::2], off[1::2]))
    return CausalGraph(names, edges)
