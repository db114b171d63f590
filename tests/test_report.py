"""The HTML report is self-contained (inline plotly.js, no CDN) and escapes data text."""

import html
import re

import pytest

from faircause_core.causal.graph import CausalGraph, Roles
from faircause_core.present.report import build_report


def test_report_is_self_contained_with_numbers(bayes_run, demo_graph, demo_roles):
    page = build_report(bayes_run, demo_roles, graph=demo_graph, data_name="nhefs_cohort.csv")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]+src=", page) and "<link" not in page  # nothing fetched
    assert page.count("Plotly.newPlot") >= 3
    assert len(page) > 1_000_000  # plotly.js itself is inline
    de = bayes_run.synthetic_effects["estimates"]["ctf_de"] * 100
    assert f"{de:+.2f}" in page
    assert "Through the direct path alone" in page and "nhefs_cohort.csv" in page
    for a, b in demo_graph.edges[:3]:
        assert f"<td>{a}</td><td>{b}</td>" in page


def test_data_text_is_escaped(bayes_run):
    evil = "<script>alert(1)</script>"
    roles = Roles(x=evil, y="death", z=("age",), w=(), other=(), x0="Male", x1="<b>F</b>")
    page = build_report(bayes_run, roles, graph=CausalGraph([evil, "death"], [(evil, "death")]), data_name=evil)
    assert evil not in page and "<b>F</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_table_uses_the_decompositions_sign_and_shows_fair_predictor_warnings(bayes_run, demo_roles):
    from faircause_core.present.explain import EFFECT_WORDS, SIGN_NOTE, SYMBOLS, fair_predictor_notes, signed

    page = build_report(bayes_run, demo_roles)
    ie = bayes_run.real_effects_all_rows["estimates"]["ctf_ie"] * 100  # the real data: all rows, first column
    label = html.escape(f"{EFFECT_WORDS['ctf_ie']} ({SYMBOLS['ctf_ie']})")
    row = re.search(f"<td>{re.escape(label)}</td><td>([^<]+)</td>", page)
    assert row and row.group(1).startswith(signed(ie, 2))
    assert html.escape(SIGN_NOTE[:60]) in page and "Real data, all 1,629 rows: total gap" in page
    fair = bayes_run.metrics["fair_predictor"]
    assert "direct effect of X on the predictions of a model trained on real rows" in page
    for note in fair_predictor_notes(fair):  # a run with DE removed is not its own control: all notes
        assert f"<div class='warn'>{html.escape(note)}</div>" in page


def _visible(page: str) -> str:
    import html as h

    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S)
    return h.unescape(re.sub(r"<[^>]+>", "\n", body))


def test_report_has_no_raw_dumps_and_a_privacy_verdict(bayes_run, demo_roles):
    from faircause_core.present.report import privacy_verdict

    text = _visible(build_report(bayes_run, demo_roles))
    for raw in ("None", "[]", "{'", "dcr_synth_p5", "model_dir", "n_train_real", "disclosure_known", "nan"):
        assert raw not in text, raw
    verdict = privacy_verdict(bayes_run.metrics["privacy"])
    assert verdict in text and verdict.startswith(("Verdict: safe to share. ", "Verdict: review before sharing. "))
    assert "distance ratio, synthetic / unseen real (about 1 is good)" in text
    assert "fairness edits\nDE removed" in re.sub(r"\n+", "\n", text)


def test_privacy_verdict_flags_copies_and_memorisation():
    from faircause_core.present.report import privacy_verdict

    base = {"exact_copy_share": 0.0, "exact_copies": 0, "synthetic_rows": 100, "holdout_exact_copy_share": 0.0,
            "ratio": 1.02}
    assert privacy_verdict(base).startswith("No sign of copying")
    assert privacy_verdict(dict(base, exact_copy_share=0.2, exact_copies=20)).startswith("Check before sharing: 20 of 100")
    assert "memorisation" in privacy_verdict(dict(base, ratio=0.5))
    assert privacy_verdict(dict(base, ratio=float("nan"))).startswith("No verdict")


def test_report_names_groups_in_the_users_words_and_keeps_symbols_out_of_the_text(bayes_run, demo_roles):
    from dataclasses import replace

    from faircause_core.causal.question import ValueLabels

    roles = replace(demo_roles, positive=1, labels=ValueLabels.from_dict({"x": {"Male": "men", "Female": "women"},
                                                              "y": {"1": "died"}}))
    page = build_report(bayes_run, roles)
    assert "Comparing women (comparison group) with men (baseline group) on the share who died." in page
    assert "Fairness decomposition, women against men" in page and "baseline group men, comparison group women" in page
    assert "x0 =" not in page and "x* =" not in page and "reference group: the comparison group" in page


def test_the_outcome_rate_is_shown_per_group_and_an_edit_says_why_it_moved(demo_roles):
    """Found probing SEER- and Framingham-like cohorts: with DE removed the death rate rose
    (14.6% -> 20.1%) and nothing said why. The words come from the rates and the edit."""
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.present.explain import outcome_rate_lines

    def rates(r0, r1, lo_hi):
        return {"all": {"rate": (r0 + r1) / 2, "ci_low": lo_hi[0], "ci_high": lo_hi[1], "rows": 1000},
                "x0": {"rate": r0, "ci_low": r0 - 0.02, "ci_high": r0 + 0.02, "rows": 500},
                "x1": {"rate": r1, "ci_low": r1 - 0.02, "ci_high": r1 + 0.02, "rows": 500}}

    real = rates(0.14, 0.29, (0.20, 0.23))
    moved = {"rates": {"real": real, "synthetic": rates(0.20, 0.28, (0.235, 0.265))}}
    kept = {"rates": {"real": real, "synthetic": rates(0.145, 0.285, (0.20, 0.23))}}
    de = FairnessSpec(de=1.0)
    lines = outcome_rate_lines(moved, de, demo_roles)
    assert lines[0].startswith("outcome rate (") and "real 21.5% [20.0, 23.0]" in lines[0]
    assert lines[1].startswith("why the rate moved: removing DE") and "14.0% -> 20.0%" in lines[1]
    assert len(outcome_rate_lines(kept, de, demo_roles)) == 1  # intervals overlap: nothing to explain
    assert "a mirror should keep it" in outcome_rate_lines(moved, FairnessSpec(), demo_roles)[1]
    assert len(outcome_rate_lines(moved, None, demo_roles)) == 1  # evaluate: the edit is not known
    assert outcome_rate_lines({}, de, demo_roles) == []  # a run saved before the rates were kept


def test_a_run_keeps_each_groups_outcome_rate_with_its_interval(bayes_run, demo_table, demo_roles):
    from faircause_core.workflow.pipeline import split_holdout

    rates = bayes_run.metrics["outcome"]["rates"]
    for side in ("real", "synthetic"):
        for key in ("all", "x0", "x1"):
            r = rates[side][key]
            assert 0 <= r["ci_low"] <= r["rate"] <= r["ci_high"] <= 1 and r["rows"] > 0, (side, key, r)
    assert rates["synthetic"]["all"]["rows"] == len(bayes_run.synthetic)
    # counted here from the fitting split's own rows (the demo's death is 0/1), not read back
    fit, _ = split_holdout(demo_table, bayes_run.settings.holdout, bayes_run.settings.seed)
    deaths = fit.df[demo_roles.y]
    assert len(fit.df) == rates["real"]["all"]["rows"] == bayes_run.fitting_rows
    assert rates["real"]["all"]["rate"] == pytest.approx(deaths.mean(), abs=1e-12)
    for key, group in (("x0", "Male"), ("x1", "Female")):
        assert rates["real"][key]["rate"] == pytest.approx(deaths[fit.df[demo_roles.x] == group].mean(), abs=1e-12)
    synthetic = bayes_run.synthetic[demo_roles.y]
    assert rates["synthetic"]["all"]["rate"] == pytest.approx(synthetic.mean(), abs=1e-12)
