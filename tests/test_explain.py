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


def test_indirect_and_spurious_are_reported_as_contributions_to_the_gap():
    # IE and SE enter TV with a minus sign: a positive IE means the mediators LOWER x1's rate.
    ie = sentence("ctf_ie", 0.03, 0.01, 0.05, x0="A", x1="B", y="death", w=["bp"])
    assert "3.0 percentage points lower for B than for A" in ie and "(95% CI -5.0 to -1.0)" in ie
    se = sentence("ctf_se", -0.02, -0.03, -0.01, x0="A", x1="B", y="death", z=["age"])
    assert "2.0 percentage points higher" in se and "age" in se and "(95% CI +1.0 to +3.0)" in se


def test_interval_covering_zero_is_said_out_loud_and_threshold_outcome():
    text = sentence("tv", 0.01, -0.01, 0.03, x0="A", x1="B", y="chol", threshold=240)
    assert "the share with chol \u2265 240" in text and "may be no effect" in text
    assert outcome_phrase("death") == "the death rate"


def test_explain_all_covers_every_effect_and_contributions_add_up_to_tv():
    f = frame(tv=-0.10, ctf_de=-0.06, ctf_ie=0.02, ctf_se=0.02, ett=-0.08)
    out = explain_all(f, x0="Male", x1="Female", y="death", z=["age"], w=["bp"])
    assert list(out) == ["tv", "ctf_de", "ctf_ie", "ctf_se", "ett"]
    # TV = DE + (-IE) + (-SE): all three pieces are "lower" here, 6 + 2 + 2 = 10.
    assert "10.0 percentage points lower" in out["tv"]
    assert "6.0" in out["ctf_de"] and "2.0" in out["ctf_ie"] and "2.0" in out["ctf_se"]
    assert all(s.endswith(".") for s in out.values())


def test_decomposition_dict_and_summary(bayes_run):
    real = bayes_run.real_effects
    out = explain_all(real, x0="Male", x1="Female", y="death")
    assert len(out) == 5
    line = summary_line(real, bayes_run.synthetic_effects)
    assert line.startswith("Ctf-DE (direct): real ") and "synthetic" in line
    with pytest.raises(KeyError):
        sentence("nope", 0.0, math.nan, math.nan, x0="a", x1="b", y="y")
