"""Plain-language sentences: sign conventions of method.md, intervals, roles named."""

import math

import pytest

from faircause_core.causal.effects import Decomposition
from faircause_core.present.explain import explain_all, outcome_phrase, sentence, summary_line


def frame(**values):
    """A Decomposition with these estimates and a standard error of 0.01 each."""
    return Decomposition(estimates=values, ses={e: 0.01 for e in values}, quantities={}, n=100, n0=50, n1=50,
                         method="dr")


def test_direct_effect_reads_like_the_example():
    text = sentence("ctf_de", -0.041, -0.062, -0.020, x0="Male", x1="Female", y="death", w=["smoking"])
    assert text.startswith("Through the direct path alone, the death rate would be 4.1 percentage points "
                           "lower for Female than for Male (95% CI -6.2 to -2.0)")
    assert "smoking" in text and "may be no effect" not in text


def test_indirect_and_spurious_state_the_decompositions_own_numbers():
    """One sign convention (TV = DE - IE - SE): a sentence states Ctf-IE as it is, its "higher"
    or "lower" follows that number's sign, and only then says in words how it moves the gap."""
    ie = sentence("ctf_ie", 0.03, 0.01, 0.05, x0="A", x1="B", y="death", w=["bp"])
    assert "would be 3.0 percentage points higher (95% CI +1.0 to +5.0)" in ie
    assert "the gap subtracts it, so these differences make the rate 3.0 percentage points lower for B" in ie
    se = sentence("ctf_se", -0.02, -0.03, -0.01, x0="A", x1="B", y="death", z=["age"])
    assert "2.0 percentage points lower for them (95% CI -3.0 to -1.0)" in se and "age" in se
    assert "make the rate 2.0 percentage points higher for B" in se


def test_an_interval_bound_near_zero_keeps_its_sign():
    """"+0.0 to +14.9" was shown for a lower bound of -0.03 points: a bound that rounds to 0
    gets the decimals that show its side of 0, in sentences and in every interval text."""
    from faircause_core.present.explain import interval_text, signed

    text = sentence("tv", 0.07, -0.0003, 0.149, x0="A", x1="B", y="death")
    assert "(95% CI -0.03 to +14.9)" in text and "may be no effect" in text
    assert interval_text(-0.03, 14.9) == "-0.03 to +14.9" and interval_text(0.0, 0.04) == "+0.0 to +0.04"
    assert [signed(v) for v in (-0.0004, 0.0, -0.0, 2.25, -0.04)] == ["-0.0004", "+0.0", "+0.0", "+2.2", "-0.04"]


def test_interval_covering_zero_is_said_out_loud_and_threshold_outcome():
    text = sentence("tv", 0.01, -0.01, 0.03, x0="A", x1="B", y="chol", threshold=240)
    assert "the share with chol \u2265 240" in text and "may be no effect" in text
    assert outcome_phrase("death") == "the death rate"


def test_explain_all_covers_every_effect_and_the_identity_line_adds_up():
    from faircause_core.present.explain import identity_line

    f = frame(tv=-0.10, ctf_de=-0.06, ctf_ie=0.02, ctf_se=0.02, ett=-0.08)
    out = explain_all(f, x0="Male", x1="Female", y="death", z=["age"], w=["bp"])
    assert list(out) == ["tv", "ctf_de", "ctf_ie", "ctf_se", "ett"]
    # TV = DE - IE - SE: -10 = -6 - (+2) - (+2); IE and SE are stated as +2.0 ("higher").
    assert "10.0 percentage points lower" in out["tv"]
    assert "6.0 percentage points lower" in out["ctf_de"]
    assert "2.0 percentage points higher" in out["ctf_ie"] and "2.0 percentage points higher" in out["ctf_se"]
    assert all(s.endswith(".") for s in out.values())
    assert identity_line(f) == ("total gap -10.0 = direct -6.0 \u2212 indirect (+2.0) \u2212 spurious (+2.0) "
                                "percentage points")


def test_decomposition_dict_and_summary(bayes_run):
    real = bayes_run.real_effects
    out = explain_all(real, x0="Male", x1="Female", y="death")
    assert len(out) == 5
    line = summary_line(real, bayes_run.synthetic_effects)
    assert line.startswith("Direct: real ") and "synthetic" in line
    with pytest.raises(KeyError):
        sentence("nope", 0.0, math.nan, math.nan, x0="a", x1="b", y="y")


def test_shown_numbers_are_the_decompositions_own():
    from faircause_core.present.explain import shown

    f = frame(tv=-0.10, ctf_de=-0.06, ctf_ie=0.02, ctf_se=0.02, ett=-0.08)
    assert shown(f).equals(f.to_frame())
    c = shown(f)
    assert c.loc["ctf_de", "estimate"] - c.loc["ctf_ie", "estimate"] - c.loc["ctf_se", "estimate"] == \
        pytest.approx(c.loc["tv", "estimate"])


def test_fair_predictor_lines_with_intervals_undefined_reduction_and_control():
    from faircause_core.present.explain import fair_predictor_lines

    # The real-trained effect is clearly away from 0 (its nearest bound, -2.1, is over half of -3.1).
    fair = dict(real_trained_de=-0.031, real_trained_de_ci_low=-0.046, real_trained_de_ci_high=-0.021,
                synthetic_trained_de=0.018, synthetic_trained_de_ci_low=0.002, synthetic_trained_de_ci_high=0.038,
                reduction=0.43, reduction_ci_low=-0.3, reduction_ci_high=0.88, control=None)
    lines = fair_predictor_lines(fair)
    assert "-3.1 pp (95% CI -4.6 to -2.1)" in lines[0] and "+1.8 pp (95% CI +0.2 to +3.8)" in lines[1]
    assert lines[2].endswith("43% (95% CI -30% to 88%)") and len(lines) == 3
    fair.update(reduction=None, reduction_ci_low=None, reduction_ci_high=None,
                control=dict(synthetic_trained_de=-0.028, reduction=None))
    lines = fair_predictor_lines(fair)
    assert "not shown" in lines[2] and "not distinguishable from 0" in lines[2]
    assert "control" in lines[3] and "-2.8 pp" in lines[3]
    assert fair_predictor_lines({"error": "no x1 rows"}) == ["fair predictor not measured: no x1 rows"]
    old = fair_predictor_lines({"ctf_de_real_model": -0.05, "ctf_de_synth_model": -0.01, "reduction": 0.8})
    assert "-5.0 pp" in old[0] and "80%" in old[2]  # a run saved before the exact measure


def test_a_ratio_to_a_real_effect_near_zero_is_not_shown_and_says_why():
    """The heart-failure mirror run showed "-16% (95% CI -1238% to 41%)": the real-trained
    interval excluded 0, but barely. The ratio is shown only when that interval's end nearest 0
    is at least half the estimate away from 0; otherwise the line says why."""
    from faircause_core.present.explain import RATIO_MARGIN, fair_predictor_lines, ratio_blocked

    near = dict(real_trained_de=0.031, real_trained_de_ci_low=0.003, real_trained_de_ci_high=0.066,
                synthetic_trained_de=0.036, reduction=-0.16, reduction_ci_low=-12.38, reduction_ci_high=0.41)
    why = ratio_blocked(near)
    assert "too close to 0" in why and "+3.1 pp, 95% CI +0.3 to +6.6" in why
    line = fair_predictor_lines(near)[2]
    assert "-16%" not in line and "1238" not in line and line.endswith(why)
    clear = dict(near, real_trained_de_ci_low=0.031 * RATIO_MARGIN, reduction=0.5)
    assert ratio_blocked(clear) == "" and "50%" in fair_predictor_lines(clear)[2]


def test_a_mirror_run_is_its_own_control():
    """On a mirror run: no "no control" warning, the synthetic-trained effect named as this
    run's, and the difference to the real-trained one with its interval."""
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.present.explain import fair_predictor_lines, fair_predictor_notes, is_mirror
    from faircause_core.workflow.pipeline import GenerationSettings

    fair = dict(real_trained_de=0.05, real_trained_de_ci_low=0.04, real_trained_de_ci_high=0.06,
                synthetic_trained_de=0.045, synthetic_trained_de_ci_low=0.03, synthetic_trained_de_ci_high=0.06,
                de_difference=0.005, de_difference_ci_low=-0.01, de_difference_ci_high=0.02,
                reduction=0.1, reduction_ci_low=-0.2, reduction_ci_high=0.3, control=None,
                notes=["no control: compare with the same generator run in mirror mode (nothing removed), whose "
                       "reduction interval should contain 0", "only 12 real test rows have sex = 1"])
    mirror = is_mirror(GenerationSettings(generator="bayesnet"))
    assert mirror and not is_mirror(GenerationSettings(generator="bayesnet", fairness=FairnessSpec(de=1.0)))
    assert fair_predictor_notes(fair, mirror) == ["only 12 real test rows have sex = 1"]
    assert len(fair_predictor_notes(fair, False)) == 2
    lines = fair_predictor_lines(fair, mirror)
    assert "+5.0 pp (95% CI +4.0 to +6.0)" in lines[0]
    assert lines[1] == "trained on this mirror run's synthetic rows (nothing removed): +4.5 pp (95% CI +3.0 to +6.0)"
    assert lines[2].startswith("difference, real-trained minus synthetic-trained: +0.5 pp (95% CI -1.0 to +2.0)")


def test_fair_predictor_lines_show_the_difference_of_magnitudes_where_the_ratio_is_undefined():
    """|real| - |synthetic| in percentage points, with its interval, beside the ratio, and for the
    control; it says something even when the ratio is undefined (medpar)."""
    from faircause_core.present.explain import fair_predictor_lines

    fair = dict(real_trained_de=-0.004, synthetic_trained_de=0.001, reduction=None,
                magnitude_reduction=0.003, magnitude_reduction_ci_low=-0.012, magnitude_reduction_ci_high=0.015,
                control=dict(synthetic_trained_de=-0.005, reduction=None, magnitude_reduction=-0.001,
                             magnitude_reduction_ci_low=-0.02, magnitude_reduction_ci_high=0.017))
    lines = fair_predictor_lines(fair)
    assert "not shown" in lines[2]
    assert lines[3] == "direct effect smaller by (|real| - |synthetic|): +0.3 pp (95% CI -1.2 to +1.5)"
    assert lines[4].endswith("smaller by -0.1 pp (95% CI -2.0 to +1.7)")


def test_one_exact_copy_in_4024_rows_is_counted_not_rounded_away():
    import numpy as np
    import pandas as pd

    from faircause_core.metrics.privacy import distance_to_closest_record
    from faircause_core.present.explain import copies_text

    rng = np.random.default_rng(0)
    kinds = {"a": "continuous", "b": "continuous"}
    real = pd.DataFrame(rng.normal(size=(300, 2)), columns=["a", "b"])
    synth = pd.DataFrame(rng.normal(size=(4024, 2)), columns=["a", "b"])
    synth.iloc[17] = real.iloc[5]
    out = distance_to_closest_record(real, synth, None, kinds, sdmetrics_rows=200)
    assert (out["exact_copies"], out["synthetic_rows"]) == (1, 4024)
    assert f"{out['exact_copy_share']:.1%}" == "0.0%"  # what the CLI used to print
    assert copies_text(out) == "1 of 4,024 synthetic rows"


# ----------------------------------------------------------- labels and clinician words

def test_typed_labels_name_the_groups_and_the_outcome_in_every_sentence():
    from faircause_core.causal.question import ValueLabels

    labels = ValueLabels.from_dict({"x": {"0": "men", "1": "women"}, "y": {"1": "died", "0": "survived"}})
    f = frame(tv=-0.10, ctf_de=-0.06, ctf_ie=0.02, ctf_se=0.02, ett=-0.08)
    out = explain_all(f, x0=0, x1=1, y="death", z=["age"], w=["bp"], x="sex", positive=1, labels=labels)
    assert out["tv"].startswith("Overall, the share who died is 10.0 percentage points lower for women than for men")
    assert "as if men were women but kept their own bp" in out["ctf_de"]
    assert out["ett"].startswith("Had men been women")
    for text in out.values():  # no bare code, no symbol
        assert " 0 " not in text and " 1 " not in text and "x0" not in text and "x1" not in text


def test_numeric_codes_without_labels_read_as_column_equals_value():
    f = frame(tv=0.03, ctf_de=0.01, ctf_ie=-0.01, ctf_se=-0.01, ett=0.02)
    out = explain_all(f, x0=0, x1=1, y="death", z=["age"], w=["bp"], x="sex", positive=1)
    assert "higher for sex = 1 than for sex = 0" in out["tv"] and "the death rate" in out["tv"]
    text = explain_all(f, x0="Male", x1="Female", y="death", x="sex", z=["age"], w=["bp"])["tv"]
    assert "for Female than for Male" in text  # text values as they are
    assert outcome_phrase("status", positive="Deceased") == "the share with status = Deceased"
    assert outcome_phrase("death", positive=0) == "the share with death = 0"  # Y = 1 is the 0 code: said so


def test_no_mediators_gives_a_sentence_not_an_interval_of_zero():
    f = frame(tv=-0.05, ctf_de=-0.04, ctf_ie=0.0, ctf_se=0.01, ett=-0.04)
    f.ses["ctf_ie"] = 0.0
    out = explain_all(f, x0="Male", x1="Female", y="death", x="sex", z=["age"], w=[])
    assert out["ctf_ie"] == ("The graph has no mediators between sex and death, so there is no indirect "
                             "effect to measure.")
    assert "+0.0 to +0.0" not in " ".join(out.values())
    assert "may be no effect" in out["ctf_se"] or "CI" in out["ctf_se"]  # confounders present: numbers kept
    # A nonzero estimate with no mediators named (a caller that left w out) keeps its numbers.
    g = frame(tv=-0.05, ctf_de=-0.04, ctf_ie=0.02, ctf_se=0.01, ett=-0.04)
    assert "2.0 percentage points" in explain_all(g, x0="A", x1="B", y="death")["ctf_ie"]


def test_labels_and_notes_use_words_and_keep_the_symbols_for_tooltips():
    from faircause_core.causal.graph import Roles
    from faircause_core.present.explain import (EFFECT_WORDS, SIGN_NOTE, SYMBOL_HELP, SYMBOLS,
                                                effects_title, question_line, sign_note)

    shown = " ".join(EFFECT_WORDS.values()) + SIGN_NOTE
    for symbol in ("x0", "x1", "ETT", "Ctf", "TV", "P(X)", "x*"):
        assert symbol not in shown, symbol
    assert set(SYMBOLS) == set(EFFECT_WORDS) and "ETT" in SYMBOL_HELP and "x0" in SYMBOL_HELP
    roles = Roles.from_dict({"x": "sex", "y": "death", "x0": 0, "x1": 1, "positive": 1,
                             "labels": {"x": {"0": "men", "1": "women"}, "y": {"1": "died"}}})
    assert question_line(roles) == ("Comparing women (comparison group) with men (baseline group) on the "
                                    "share who died.")
    from faircause_core.present.explain import REFERENCE_HELP, reference_options

    assert reference_options(roles) == {"x1": "the comparison group (women)", "x0": "the baseline group (men)",
                                        "marginal": "drawn at random, as in the real population"}
    assert reference_options()["x0"] == "the baseline group"  # the report's settings, no roles at hand
    assert "x*" in REFERENCE_HELP and "P(X)" in REFERENCE_HELP
    assert "comparison group is women" in sign_note(roles) and effects_title(roles).startswith(
        "Fairness decomposition, women against men")
    assert "direct \u2212 indirect \u2212 spurious" in effects_title(roles) and "minus sign" in SIGN_NOTE


def test_percent_never_reads_minus_zero():
    """An interval end just below 0 must say on which side of 0 it lies (the demo's DE-removed
    reduction interval printed as "-0% to 98%")."""
    from faircause_core.present.explain import _reduction_text, percent

    assert [percent(v) for v in (-0.0047, 0.004, 0.0, -0.0, 0.9024, -11.5, 0.0151)] == [
        "-0.5%", "0.4%", "0%", "0%", "90%", "-1150%", "2%"]
    assert _reduction_text({"reduction": 0.9024, "reduction_ci_low": -0.0047, "reduction_ci_high": 0.9843,
                            "real_trained_de": 0.05}) == "90% (95% CI -0.5% to 98%)"
