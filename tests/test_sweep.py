"""The trade-off sweep: one fitted generator, one measured draw per dial value; and its CLI."""

import json

import pytest

from faircause_core.errors import InputError
from faircause_core.generators.base import Cancelled, CancelToken
from faircause_core.generators.bayesnet import BayesNetGenerator
from faircause_core.workflow.pipeline import audit, split_holdout
from faircause_core.workflow.sweep import parse_pathway, parse_points, run_sweep
from tests.conftest import DEMO, ROOT

EFFECT_KEYS = {"estimate", "se", "ci_low", "ci_high"}


class CountingBayesNet(BayesNetGenerator):
    """The real Bayes net, counting its fits and draws (to show the sweep fits once)."""

    def __init__(self):
        super().__init__()
        self.fits, self.draws = 0, []

    def fit(self, *args, **kwargs):
        self.fits += 1
        return super().fit(*args, **kwargs)

    def sample(self, n, fairness=None, *args, **kwargs):
        self.draws.append((n, fairness))
        return super().sample(n, fairness, *args, **kwargs)


@pytest.fixture(scope="module")
def swept(demo_table, demo_graph, demo_roles):
    gen = CountingBayesNet()
    result = run_sweep(demo_table, demo_graph, demo_roles, "DE", "0,0.5,1", generator=gen, rows=400,
                       measure_rows=6000, seed=0, repeats=2)
    return gen, result


def test_points_and_pathway_are_checked_with_one_line():
    assert parse_points("1, 0,0.5,0.5") == (0.0, 0.5, 1.0)
    assert parse_points([0, 0.25]) == (0.0, 0.25)
    assert parse_pathway(" all ") == "all" and parse_pathway("De") == "de"
    for bad in ("0,1.5", "0,x", "0", "0,nan", "", ",".join(str(i / 30) for i in range(31))):
        with pytest.raises(InputError) as err:
            parse_points(bad)
        assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="use DE, IE, SE or all"):
        parse_pathway("TV")


def test_the_generator_is_fitted_once_and_sampled_once_per_point(swept):
    gen, result = swept
    assert gen.fits == 1
    assert [round(f.de, 3) for _, f in gen.draws] == [0.0, 0.5, 1.0]
    assert all(f.ie == 0 and f.se == 0 for _, f in gen.draws) and {n for n, _ in gen.draws} == {6000}
    assert result.timings["fit_s"] > 0 and len(result.points) == 3


def test_every_point_is_measured_with_intervals(swept):
    _, result = swept
    d = result.to_dict()
    json.dumps(d, allow_nan=False)  # JSON-safe
    assert [p["alpha"] for p in d["points"]] == [0.0, 0.5, 1.0]
    for p in d["points"]:
        assert set(p["effects"]) == {"tv", "ctf_de", "ctf_ie", "ctf_se", "ett"}
        assert all(set(v) == EFFECT_KEYS for v in p["effects"].values())
        e = p["effects"]["ctf_de"]
        assert e["ci_low"] <= e["estimate"] <= e["ci_high"]
        assert 0.5 < p["quality"] <= 1 and p["rows"] == 400 and p["measured_rows"] == 6000
        lo, hi = p["auroc_tstr_ci"]
        assert 0 <= lo <= p["auroc_tstr"] <= hi <= 1
        assert {"reduction", "reduction_ci_low", "reduction_ci_high"} <= set(p["fair_predictor"])


def test_the_dial_removes_the_direct_effect_and_the_real_point_is_the_fitting_split(swept, demo_table, demo_roles):
    _, result = swept
    de = [p.effects["ctf_de"] for p in result.points]
    assert abs(de[2]["estimate"]) < abs(de[1]["estimate"]) < abs(de[0]["estimate"])
    assert de[2]["ci_low"] <= 0 <= de[2]["ci_high"]  # removed: no direct effect left
    fit, _ = split_holdout(demo_table, 0.3, 0)
    real = audit(fit, demo_roles, seed=0)
    assert result.real["effects"]["ctf_de"]["estimate"] == pytest.approx(real["ctf_de"])
    assert result.real["rows"] == len(fit.df) and 0.5 < result.real["auroc_trtr"] <= 1
    assert result.real["fair_predictor"]["real_trained_de"] is not None


def test_a_pathway_the_graph_lacks_is_refused_and_all_moves_the_others(demo_table, demo_graph, demo_roles):
    gen = CountingBayesNet()
    with pytest.raises(InputError, match="no parents") as err:  # the demo graph gives sex no parents
        run_sweep(demo_table, demo_graph, demo_roles, "SE", generator=gen)
    assert "\n" not in str(err.value) and gen.fits == 0
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run_sweep(demo_table, demo_graph, demo_roles, "all", generator=gen, cancel=token)
    assert gen.fits == 1 and gen.draws == []  # cancelled before the first point


def test_all_moves_every_pathway_the_graph_has(demo_table, demo_graph, demo_roles):
    gen = CountingBayesNet()
    result = run_sweep(demo_table, demo_graph, demo_roles, "all", (0, 1), generator=gen, rows=300,
                       measure_rows=2000, repeats=1)
    assert result.moved == ("de", "ie") and result.effect == "tv"
    assert any(w.startswith("SE is not swept") for w in result.warnings)
    assert [(f.de, f.ie, f.se) for _, f in gen.draws] == [(0, 0, 0), (1, 1, 0)]


# ------------------------------------------------------------------------------ CLI

def cli(*args, cwd=ROOT, process=False):
    """`sweep` in this process (tests/clirun.py), or with process=True in a real subprocess."""
    from tests.clirun import run_cli, run_cli_process

    return (run_cli_process if process else run_cli)("sweep", *args, cwd=cwd)


QUESTION = ["--data", str(DEMO), "--sensitive", "sex", "--x0", "Male", "--x1", "Female", "--outcome", "death"]
DAG = ["--dag", str(ROOT / "assets" / "nhefs_dag.json")]


def test_cli_sweep_writes_points_json_and_summary(tmp_path):
    out, page = tmp_path / "sweep.json", tmp_path / "summary.html"
    r = cli(*QUESTION, *DAG, "--pathway", "DE", "--points", "0,1", "--rows", "300", "--measure-rows", "2000",
            "--generator", "bayesnet", "--json", str(out), "--summary", str(page), "--chosen", "1",
            process=True)  # the subprocess smoke test of `sweep`
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert [p["alpha"] for p in d["points"]] == [0.0, 1.0] and d["pathway"] == "de"
    for p in d["points"]:
        assert all(set(v) == EFFECT_KEYS for v in p["effects"].values())
        assert isinstance(p["quality"], float) and isinstance(p["auroc_tstr"], float)
    assert "real" in d and d["real"]["effects"]["ctf_de"].keys() == EFFECT_KEYS
    assert "real" in r.stdout and "ctf_de" in r.stdout
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in html and "<script src" not in html


@pytest.mark.parametrize("args, words", [
    (["--pathway", "TV"], "use DE, IE, SE or all"),
    (["--points", "0,2"], "outside [0, 1]"),
    (["--points", "0,0.5", "--chosen", "1"], "no point at dial"),
    (["--pathway", "IE", "--dag", "missing.json"], "DAG file not found"),
    (["--generator", "bayesnet", "--model", "/nowhere"], "--model applies"),
])
def test_cli_sweep_bad_input_is_one_line_exit_2(args, words, tmp_path):
    dag = [] if "--dag" in args else DAG
    r = cli(*QUESTION, *dag, *args, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert words in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_cli_sweep_refuses_a_pathway_the_graph_lacks(tmp_path):
    dag = tmp_path / "no_mediator.json"
    dag.write_text(json.dumps({"nodes": ["sex", "age", "death"], "edges": [["sex", "death"], ["age", "death"]]}))
    data = tmp_path / "small.csv"
    import pandas as pd

    pd.read_csv(DEMO)[["sex", "age", "death"]].to_csv(data, index=False)
    r = cli("--data", str(data), "--sensitive", "sex", "--x0", "Male", "--x1", "Female", "--outcome", "death",
            "--dag", str(dag), "--pathway", "IE", "--fixed", "age")
    assert r.returncode == 2 and "no indirect effect to remove" in r.stderr and r.stderr.count("\n") == 1
