"""The graph checked against the data: omitted pathway edges' implications on known SCMs."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircause_core.causal.effects import Decomposition
from faircause_core.causal.fairness import decompose
from faircause_core.causal.graph import CausalGraph, derive_roles
from faircause_core.causal.implications import (
    KINDS,
    check_graph,
    direct_effect_warning,
    format_p,
    holm,
    omitted_pathway_edges,
)
from faircause_core.causal.question import ValueLabels
from faircause_core.errors import InputError
from faircause_core.io.data import table_from_frame

NODES = ["age", "race", "sex", "smoking", "bmi", "death"]
#: The SCM below without sex -> death (and without race -> bmi when `race_bmi` is 0).
EDGES = [("sex", "smoking"), ("sex", "bmi"), ("race", "bmi"), ("age", "death"),
         ("smoking", "death"), ("bmi", "death")]


def scm(n: int, seed: int, direct: float = 0.0, race_bmi: float = 1.5) -> pd.DataFrame:
    """age (continuous, missing), race (3 text levels), sex (F/M), smoking (3 text levels,
    missing), bmi (skewed, missing), death (0/1; nonlinear in age; `direct` log-odds for F)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n)
    race = rng.choice(["White", "Black", "Other"], n, p=[0.6, 0.25, 0.15])
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    fem = sex == "F"
    probs = np.column_stack([0.5 - 0.2 * fem, np.full(n, 0.3), 0.2 + 0.2 * fem])
    smoking = np.array(["never", "former", "current"])[(rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)]
    bmi = 27 - 2 * fem + race_bmi * (race == "Black") + rng.gamma(2, 2, n)
    logit = -2 + 0.004 * (age - 60) ** 2 + 0.05 * (age - 60) + 0.9 * (smoking == "current") \
        + 0.08 * (bmi - 27) + direct * fem
    death = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({"age": age.round(1), "race": race, "sex": sex, "smoking": smoking,
                       "bmi": bmi.round(1), "death": death})
    df.loc[rng.random(n) < 0.05, "age"] = np.nan
    df.loc[rng.random(n) < 0.08, "bmi"] = np.nan
    df.loc[rng.random(n) < 0.03, "smoking"] = np.nan
    return df


GRAPH = CausalGraph(NODES, EDGES)


def by_edge(results):
    return {r.edge: r for r in results}


# ----------------------------------------------------------------------------- which edges


def test_omitted_pathway_edges_follow_the_roles():
    omitted = omitted_pathway_edges(GRAPH, "sex", "death")
    assert [(a, b) for a, b, _ in omitted] == [
        ("sex", "death"), ("race", "death"), ("age", "sex"), ("race", "sex"),
        ("age", "smoking"), ("age", "bmi"), ("race", "smoking")]
    assert [k for _, _, k in omitted] == ["X -> Y", "Z -> Y", "Z -> X", "Z -> X", "Z -> W", "Z -> W", "Z -> W"]
    # w -> w' is no pathway edge; an edge the graph has is no omission.
    assert ("smoking", "bmi") not in {(a, b) for a, b, _ in omitted}
    full = GRAPH.add_edge("sex", "death")
    assert ("sex", "death") not in {(a, b) for a, b, _ in omitted_pathway_edges(full, "sex", "death")}


def test_a_column_the_graph_keeps_away_from_y_is_checked_as_a_cause_of_y():
    g = CausalGraph(NODES, [("sex", "smoking"), ("age", "death")])
    roles = derive_roles(g, "sex", "death")
    assert "bmi" in roles.other and "smoking" in roles.other
    kinds = {(a, b): k for a, b, k in omitted_pathway_edges(g, "sex", "death")}
    assert kinds[("bmi", "death")] == kinds[("smoking", "death")] == "other -> Y"
    assert set(kinds.values()) <= set(KINDS)


# ----------------------------------------------------------------------------- power and size


def test_an_omitted_edge_that_exists_is_contradicted():
    res = by_edge(check_graph(table_from_frame(scm(2000, 0, direct=1.0)), GRAPH, "sex", "death"))
    hit = res[("sex", "death")]
    assert hit.kind == "X -> Y" and hit.df == 1 and hit.given == ("age", "smoking", "bmi")
    assert hit.p_value < 0.001 and hit.p_adjusted < 0.001 and hit.contradicted
    assert hit.sentence == "the data contradicts 'sex does not affect death directly' (p < 0.001, adjusted for 7 checks)"


@pytest.mark.slow  # calibration: 40 null simulations (make test-slow)
def test_omitted_edges_that_do_not_exist_are_rarely_contradicted():
    """40 seeded tables from the SCM without sex -> death: the raw rejection rate over the
    7 true omissions (280 tests) sits near alpha = 0.05, and the Holm-adjusted verdicts
    flag a table in at most 15% of seeds."""
    raw, flagged, x_to_y = [], 0, []
    for seed in range(40):
        res = check_graph(table_from_frame(scm(1000, 100 + seed)), GRAPH, "sex", "death")
        assert len(res) == 7 and all(r.tested for r in res)
        raw += [r.p_value < 0.05 for r in res]
        x_to_y.append(by_edge(res)[("sex", "death")].p_value < 0.05)
        flagged += any(r.contradicted for r in res)
    assert 0.01 <= np.mean(raw) <= 0.10
    assert np.mean(x_to_y) <= 0.15
    assert flagged / 40 <= 0.15


def test_mixed_types_get_the_right_model_and_degrees_of_freedom():
    """Categorical target -> multinomial (df = levels - 1 per added column); skewed numeric
    target with missing values -> Gaussian on normal scores; a numeric predictor adds its
    spline terms and a missing indicator."""
    g = CausalGraph(NODES, [("race", "bmi"), ("age", "death"), ("smoking", "death"), ("bmi", "death")])
    res = by_edge(check_graph(table_from_frame(scm(2000, 1)), g, "sex", "death"))
    # sex has no children here, so smoking is a Z: its omitted edge into X is what is tested.
    assert ("sex", "smoking") not in res
    z_x = res[("smoking", "sex")]
    assert z_x.kind == "Z -> X" and z_x.df == 3 and z_x.contradicted  # 3 smoking levels + missing, 1 class step
    assert res[("age", "sex")].df == 4 and not res[("age", "sex")].contradicted  # 3 spline columns + missing indicator
    g2 = CausalGraph(NODES, [("sex", "smoking"), ("sex", "bmi"), ("age", "death"), ("smoking", "death"),
                             ("bmi", "death"), ("race", "death")])  # race a Z, bmi a W
    res2 = by_edge(check_graph(table_from_frame(scm(2000, 2)), g2, "sex", "death"))
    race_bmi = res2[("race", "bmi")]
    assert race_bmi.kind == "Z -> W" and race_bmi.df == 2 and race_bmi.p_value < 0.001
    assert race_bmi.n == int(scm(2000, 2)["bmi"].notna().sum())  # rows with bmi missing left out
    age_smoking = res2[("age", "smoking")]
    assert age_smoking.df == 8 and not age_smoking.contradicted  # 4 age columns x (3 classes - 1)


def test_an_omission_that_adds_nothing_is_reported_as_untestable():
    df = scm(800, 3)
    df["smoking_copy"] = df["smoking"]
    g = CausalGraph(NODES + ["smoking_copy"], EDGES + [("smoking", "smoking_copy")])
    res = by_edge(check_graph(table_from_frame(df), g, "sex", "death"))
    copy = res[("smoking_copy", "death")]
    assert copy.kind == "other -> Y" and not copy.tested and not copy.contradicted
    assert math.isnan(copy.p_adjusted) and copy.df == 0
    assert copy.sentence == ("'smoking_copy does not affect death' cannot be checked: 'smoking_copy' carries "
                             "nothing beyond its other causes in the graph (age, smoking, bmi)")
    tested = [r for r in res.values() if r.tested]
    assert all(f"adjusted for {len(tested)} checks" in r.sentence for r in tested)


# ----------------------------------------------------------------------------- words and numbers


def test_sentences_name_the_claim_in_plain_words():
    g = CausalGraph(NODES, [("sex", "smoking"), ("sex", "bmi"), ("age", "death"), ("smoking", "death"),
                            ("bmi", "death"), ("age", "smoking"), ("race", "death")])
    res = by_edge(check_graph(table_from_frame(scm(1500, 4, direct=1.2)), g, "sex", "death"))
    assert "'age does not affect sex'" in res[("age", "sex")].sentence
    assert "'sex does not affect death directly'" in res[("sex", "death")].sentence
    assert "'race does not affect bmi'" in res[("race", "bmi")].sentence  # race has no path to bmi here
    for r in res.values():
        verdict = "the data contradicts" if r.contradicted else "the data does not contradict"
        assert r.sentence.startswith(verdict) and format_p(r.p_adjusted) in r.sentence
        assert json.loads(json.dumps(r.to_dict()))["edge"] == list(r.edge)


def test_format_p_and_holm():
    assert format_p(0.0004) == "p < 0.001" and format_p(0.0132) == "p = 0.013" and format_p(0.5) == "p = 0.500"
    adj = holm([0.01, 0.04, 0.03, float("nan")])
    assert adj[:3] == pytest.approx([0.03, 0.06, 0.06]) and math.isnan(adj[3])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])


def test_large_tables_are_tested_on_a_seeded_subsample():
    table = table_from_frame(scm(1000, 5, direct=1.0))
    a = check_graph(table, GRAPH, "sex", "death", max_rows=500, seed=3)
    b = check_graph(table, GRAPH, "sex", "death", max_rows=500, seed=3)
    assert [r.p_value for r in a] == [r.p_value for r in b]
    assert all(r.n <= 500 for r in a)
    assert all(r.sentence.endswith("; tested on 500 of 1,000 rows drawn at random)") for r in a)
    assert all("drawn at random" not in r.sentence for r in check_graph(table, GRAPH, "sex", "death"))


def test_x0_x1_restrict_the_rows_to_the_two_groups():
    df = scm(1200, 6, direct=1.0)
    df.loc[df.index[:200], "sex"] = "Unknown"
    table = table_from_frame(df)
    res = by_edge(check_graph(table, GRAPH, "sex", "death", x0="M", x1="F"))
    assert res[("sex", "death")].n == 1000 and res[("sex", "death")].contradicted


# ----------------------------------------------------------------------------- the audit's warning


def test_direct_effect_warning_from_a_real_audit():
    df = scm(2000, 7, direct=1.0)
    roles = derive_roles(GRAPH, "sex", "death")
    d = decompose(df, "sex", "M", "F", "death", roles.z, roles.w, seed=0)
    low, high = d.to_frame().loc["ctf_de", ["ci_low", "ci_high"]]
    assert low > 0  # the SCM's direct effect is strong and positive for F
    line = direct_effect_warning(GRAPH, d)
    assert line.startswith("the graph says sex does not affect death directly, but the audit's direct effect (F vs M) is ")
    assert line.endswith(f"(95% CI {100 * low:.1f} to {100 * high:.1f}): add the edge sex -> death or explain why it is absent")
    assert direct_effect_warning(GRAPH.add_edge("sex", "death"), d) is None


def test_direct_effect_warning_wording_and_silence():
    def stored(de, se):
        return Decomposition.from_dict({
            "estimates": {"tv": -0.1, "ctf_de": de, "ctf_ie": 0.0, "ctf_se": 0.0, "ett": de},
            "ses": {"tv": 0.01, "ctf_de": se, "ctf_ie": 0.0, "ctf_se": 0.0, "ett": se},
            "quantities": {}, "n": 7874, "n0": 3524, "n1": 4350, "method": "dr",
            "settings": {"x": "sex", "y": "death", "x0": "M", "x1": "F"}})
    g = CausalGraph(["sex", "age", "death"], [("age", "death"), ("age", "sex")])
    assert direct_effect_warning(g, stored(-0.074, 0.0112)) == (
        "the graph says sex does not affect death directly, but the audit's direct effect (F vs M) is "
        "-7.4 points (95% CI -9.6 to -5.2): add the edge sex -> death or explain why it is absent")
    assert direct_effect_warning(g, stored(-0.02, 0.02)) is None  # the interval covers 0
    coded = stored(-0.074, 0.0112)
    coded.settings.update(x0=0, x1=1)  # numeric codes: named, never bare; typed words win
    assert "direct effect (sex = 1 vs sex = 0)" in direct_effect_warning(g, coded)
    assert "(women vs sex = 0)" in direct_effect_warning(g, coded, labels=ValueLabels.from_dict({"x": {"1": "women"}}))
    assert direct_effect_warning(g, Decomposition.from_targets({"ctf_de": 0.0})) is None  # no interval


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("call, message", [
    (lambda t: check_graph(t, CausalGraph(NODES + ["weight"], EDGES), "sex", "death"),
     "the graph does not match the table: column 'weight' not found"),
    (lambda t: check_graph(t, GRAPH, "gender", "death"), "sensitive attribute 'gender' is not a node"),
    (lambda t: check_graph(t, GRAPH, "sex", "death", alpha=1.5), "alpha must be a number between 0 and 1"),
    (lambda t: check_graph(t, GRAPH, "sex", "death", max_rows=10), "max_rows must be a whole number"),
    (lambda t: check_graph(t, GRAPH, "sex", "death", x0="M"), "give both x0 and x1"),
    (lambda t: check_graph(t, GRAPH, "sex", "death", x0="M", x1="X"), "value 'X' does not occur"),
    (lambda t: check_graph(t, "not a graph", "sex", "death"), "expected a CausalGraph"),
    (lambda t: check_graph([1, 2], GRAPH, "sex", "death"), "expected a Table or DataFrame"),
    (lambda t: direct_effect_warning(GRAPH, {"ctf_de": 1}), "expected a Decomposition"),
])
def test_bad_inputs_are_one_line(call, message):
    table = table_from_frame(scm(200, 8))
    with pytest.raises(InputError) as err:
        call(table)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_demo_cohort_with_its_reviewed_graph(demo_table):
    graph = CausalGraph.load(Path(__file__).resolve().parents[1] / "assets" / "nhefs_dag.json")
    res = check_graph(demo_table, graph, "sex", "death", x0="Male", x1="Female")
    assert res and all(r.tested for r in res)
    assert ("sex", "death") not in {r.edge for r in res}  # the reviewed graph draws it
    assert [r.p_value for r in res] == [r.p_value for r in check_graph(demo_table, graph, "sex", "death",
                                                                        x0="Male", x1="Female")]
