"""Issue 20 item 5: the generator's own effects (Monte Carlo on its mechanisms) shown beside
the audit of its rows, in the HTML report and on the compare page, with intervals and the
decomposition's signs; nothing shown where a run has none."""

import dataclasses

import pytest

from faircause_core.causal.effects import as_decomposition
from faircause_core.present.explain import own_effects_rows, shown, with_interval
from faircause_core.present.report import build_report


def test_the_rows_are_the_recorded_numbers_with_their_intervals(bayes_run):
    own = bayes_run.generator_effects
    assert own, "the Bayes net run records its own effects"
    rows = own_effects_rows(bayes_run)
    assert [r["effect"].split(" (")[0] for r in rows] == ["Total gap", "Direct", "Indirect", "Spurious"]
    mine, synth = as_decomposition(own), bayes_run.decompositions()["synthetic"]
    head = next(k for k in rows[0] if k.startswith("generator's own"))
    audit = next(k for k in rows[0] if k.startswith("audit of its"))
    assert "200,000 rows" in head and f"{len(bayes_run.synthetic):,} rows" in audit
    for row, e in zip(rows, ("tv", "ctf_de", "ctf_ie", "ctf_se")):
        assert row[head] == with_interval(mine, e) and row[audit] == with_interval(synth, e)
        lo, est, hi = (shown(mine).loc[e, c] for c in ("ci_low", "estimate", "ci_high"))
        assert lo <= est <= hi
    # DE removed (the fixture's edit): the network's own direct effect is 0 exactly
    assert rows[1][head].startswith("+0.0 pp")


def test_the_report_shows_them_and_a_run_without_them_does_not(bayes_run, demo_roles):
    html = build_report(bayes_run, demo_roles).replace("&#x27;", "'")
    section = html.split("The generator's own effects beside the audit of its rows", 1)[1].split("</table>", 1)[0]
    for row in own_effects_rows(bayes_run):
        for value in row.values():
            assert value in section, value
    bare = dataclasses.replace(bayes_run, generator_effects={})
    assert own_effects_rows(bare) == []
    assert "own effects beside" not in build_report(bare, demo_roles)


@pytest.mark.parametrize("with_own", [True, False])
def test_the_compare_page_shows_them_in_an_expander(bayes_run, with_own):
    from streamlit.testing.v1 import AppTest

    result = bayes_run if with_own else dataclasses.replace(bayes_run, generator_effects={})

    def page(result):
        from faircause_app import panels

        panels.fairness_tab(result)

    at = AppTest.from_function(page, kwargs={"result": result}, default_timeout=60).run()
    assert not at.exception
    titles = [e.label for e in at.expander]
    assert ("The generator's own effects beside the audit of its rows" in titles) == with_own
    if with_own:
        frame = at.dataframe[0].value
        assert list(frame["effect"]) == [r["effect"] for r in own_effects_rows(result)]
