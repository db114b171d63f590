"""Look-alike cohorts from structural models, for checks that must hold on tables nobody tuned
for: a 299-patient heart-failure survival cohort (`time`: follow-up days, `DEATH_EVENT`,
`ejection_fraction` and the other baseline measurements), built like the public one but drawn
here from a seeded structural causal model. Its truth is known: sex and age come first, the
baseline measurements depend on them, death on the measurements, and the follow-up time is
recorded after (and because of) the outcome: short for the patients who died, up to the end of
the study for those censored."""

from __future__ import annotations

import numpy as np
import pandas as pd


def heart_failure_like(n: int = 299, seed: int = 0, follow_up: str = "time") -> pd.DataFrame:
    """A heart-failure-like cohort of n patients; `follow_up` names the follow-up column."""
    rng = np.random.default_rng(seed)
    sex = (rng.random(n) < 0.65).astype(int)  # 1 = man
    age = np.round(np.clip(rng.normal(61 + 2 * sex, 11.5, n), 40, 95)).astype(int)
    smoking = (rng.random(n) < np.where(sex == 1, 0.45, 0.05)).astype(int)
    diabetes = (rng.random(n) < 0.42).astype(int)
    high_bp = (rng.random(n) < 0.30 + 0.004 * (age - 60)).astype(int)
    anaemia = (rng.random(n) < 0.40 + 0.06 * (1 - sex)).astype(int)
    ef = np.clip(np.round(rng.normal(40 - 3 * sex - 0.08 * (age - 60), 11, n)), 14, 80).astype(int)
    creat = np.round(np.exp(rng.normal(0.15 + 0.08 * sex + 0.006 * (age - 60), 0.4, n)), 2)
    sodium = np.round(rng.normal(136.6, 4.2, n)).astype(int)
    cpk = np.round(np.exp(rng.normal(5.6, 1.0, n))).astype(int)
    platelets = np.round(rng.normal(263_000, 90_000, n).clip(25_000, 850_000), -2)
    logit = (-1.0 + 0.055 * (age - 60) - 0.07 * (ef - 38) + 0.9 * np.log(creat / 1.2)
             - 0.06 * (sodium - 136.6) + 0.25 * anaemia + 0.2 * high_bp)
    death = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    # follow-up: the day of death for the dead, the day follow-up ended (censoring) for the rest
    time = np.where(death == 1, np.round(rng.exponential(55, n)) + 4, np.round(rng.uniform(30, 285, n)))
    time = np.clip(time, 4, 285).astype(int)
    return pd.DataFrame({
        "age": age, "anaemia": anaemia, "creatinine_phosphokinase": cpk, "diabetes": diabetes,
        "ejection_fraction": ef, "high_blood_pressure": high_bp, "platelets": platelets,
        "serum_creatinine": creat, "serum_sodium": sodium, "sex": sex, "smoking": smoking,
        follow_up: time, "DEATH_EVENT": death,
    })
