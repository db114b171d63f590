"""No silent no-ops (issue #7 item 5): a pathway edit the graph gives no path for is refused
before any work, with one line, by the one rule (generators.base.check_edits) that the CLI,
the pipeline and the app reach."""

import json
from pathlib import Path

import pytest

from faircause_core.causal.graph import CausalGraph, derive_roles
from faircause_core.errors import InputError
from faircause_core.generators.base import FairnessSpec, check_edits, pathway_gaps
from faircause_core.io.data import load_table
from faircause_core.workflow.pipeline import GenerationSettings, run_generation

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "assets" / "nhefs_cohort.csv"
DEMO_DAG = ROOT / "assets" / "nhefs_dag.json"
NO_DE = "the graph has no direct path from sex to death: there is no direct effect to remove"
NO_IE = "the graph has no path from sex to death through a mediator: there is no indirect effect to remove"
NO_SE = ("sex has no parents in this graph and is associated with no confounder: there is no spurious effect to "
         "remove")

# z -> x, z -> y, x -> w -> y, x -> y: every pathway exists.
FULL = [("z", "x"), ("z", "y"), ("x", "w"), ("w", "y"), ("x", "y")]


def roles_of(edges, nodes=("z", "x", "w", "y")):
    graph = CausalGraph(list(nodes), edges)
    return graph, derive_roles(graph, "x", "y", "a", "b")


def without(*drop):
    return [e for e in FULL if e not in drop]


def test_every_pathway_present_nothing_refused():
    graph, roles = roles_of(FULL)
    assert pathway_gaps(graph, roles) == {}
    check_edits(graph, roles, FairnessSpec(de=1, ie=1, se=1))


@pytest.mark.parametrize("edges, pathway, needle", [
    (without(("x", "y")), "de", "no direct path from x to y"),
    (without(("x", "w")), "ie", "no path from x to y through a mediator"),
    (without(("z", "x")), "se", "x has no parents in this graph"),
])
def test_a_missing_pathway_is_refused_and_only_that_one(edges, pathway, needle):
    graph, roles = roles_of(edges)
    assert set(pathway_gaps(graph, roles)) == {pathway}
    for alpha in (1.0, 0.5, 0.01):  # a partial dial is an edit too
        with pytest.raises(InputError) as err:
            check_edits(graph, roles, FairnessSpec(**{pathway: alpha}))
        assert needle in str(err.value) and "\n" not in str(err.value)
    check_edits(graph, roles, FairnessSpec(**{pathway: 0.0}))  # alpha 0 keeps the pathway: no edit
    others = {p: 1.0 for p in ("de", "ie", "se") if p != pathway}
    check_edits(graph, roles, FairnessSpec(**others))  # the pathways that exist can still be edited


def test_an_alpha_outside_0_1_is_refused_before_any_edit():
    with pytest.raises(InputError, match=r"alpha for DE must be in \[0, 1\]"):
        FairnessSpec(de=-0.3)


def test_a_parent_of_x_that_does_not_reach_y_gives_no_spurious_effect():
    # x reaches y only through nothing: q -> x, x has no path to y, z -> y.
    graph = CausalGraph(["q", "z", "x", "y"], [("q", "x"), ("z", "y")])
    roles = derive_roles(graph, "x", "y", "a", "b")
    gaps = pathway_gaps(graph, roles)
    assert gaps["se"] == ("no parent of x reaches y in this graph, nor does a column associated with it: there is "
                          "no spurious effect to remove")
    assert set(gaps) == {"de", "ie", "se"}


def test_an_association_of_x_with_a_confounder_is_a_spurious_pathway():
    """The standard fairness model's Z <-> X, drawn as an association (no arrow into X): SE exists."""
    graph = CausalGraph(["z", "x", "w", "y"], without(("z", "x")), associations=[("z", "x")])
    roles = derive_roles(graph, "x", "y", "a", "b")
    assert roles.z == ("z",) and graph.parents("x") == ()
    assert pathway_gaps(graph, roles) == {}
    check_edits(graph, roles, FairnessSpec(se=1))
    # without the association, SE is refused as before
    bare = graph.remove_association("z", "x")
    assert "x has no parents in this graph and is associated with no confounder" in pathway_gaps(bare, roles)["se"]


def test_several_missing_pathways_are_named_on_one_line():
    graph, roles = roles_of([("z", "y"), ("w", "y")])
    with pytest.raises(InputError) as err:
        check_edits(graph, roles, FairnessSpec(de=1, ie=1, se=1))
    msg = str(err.value)
    assert "direct" in msg and "mediator" in msg and "no parents" in msg and "\n" not in msg


def demo_without_direct_edge():
    graph = CausalGraph.load(DEMO_DAG).remove_edge("sex", "death")
    return load_table(DEMO), graph, derive_roles(graph, "sex", "death", "Male", "Female")


def test_pipeline_refuses_before_any_work():
    table, graph, roles = demo_without_direct_edge()
    stages = []
    settings = GenerationSettings(generator="bayesnet", rows=200, fairness=FairnessSpec(de=0.5))
    with pytest.raises(InputError, match="no direct path from sex to death"):
        run_generation(table, graph, roles, settings, progress=lambda *a: stages.append(a))
    assert stages == []  # not even the audit started


def test_demo_dag_names_each_gap_in_the_brief_wording():
    table, graph, roles = demo_without_direct_edge()
    assert pathway_gaps(graph, roles) == {"de": NO_DE}  # sex has no parents, but age and race are associated with it
    bare = CausalGraph(graph.nodes, graph.edges)  # the reviewed DAG before issue 20: no association, no SE
    assert pathway_gaps(bare, roles) == {"de": NO_DE, "se": NO_SE}
    no_mediator = CausalGraph(graph.nodes, [e for e in graph.edges if e[0] != "sex"])
    assert pathway_gaps(no_mediator, derive_roles(no_mediator, "sex", "death"))["ie"] == NO_IE


from tests.clirun import run_cli  # noqa: E402  (in this process)


@pytest.mark.parametrize("edit", [["--remove", "DE"], ["--alpha", "DE=0.5"]])
def test_cli_generate_refuses_de_without_the_edge(tmp_path, edit):
    _, graph, _ = demo_without_direct_edge()
    dag = tmp_path / "no_de.json"
    dag.write_text(json.dumps(graph.to_dict()))
    out = tmp_path / "synthetic.csv"
    proc = run_cli("generate", "--data", DEMO, "--dag", dag, "--sensitive", "sex", "--x0", "Male", "--x1", "Female",
                   "--outcome", "death", "--rows", "300", "--generator", "bayesnet", *edit, "--out", out,
                   "--report", tmp_path / "report.json")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"error: {NO_DE}"], proc.stderr
    assert not out.exists() and not (tmp_path / "report.json").exists()
    assert "converged" not in (proc.stdout + proc.stderr).lower()
