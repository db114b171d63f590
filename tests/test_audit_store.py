"""Audits kept on disk between processes (workflow.audit_store): a second process gets the
first's numbers without refitting; another question, other code or the switch turned off
computes again; a run whose audits were both kept says so and plans no time for them."""

import json
import subprocess
import sys

import pytest

from faircause_core.workflow import audit_store, pipeline
from faircause_core.workflow.progress import RunProgress
from tests.conftest import ROOT


@pytest.fixture
def small(demo_table, tmp_path, monkeypatch):
    """A 400-row slice of the demo, an empty cache folder and an empty in-process memo."""
    from faircause_core.io.data import Table

    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(audit_store.SWITCH, raising=False)  # the default folder: the cache's
    monkeypatch.setattr(pipeline, "_AUDITS", type(pipeline._AUDITS)())
    return Table(df=demo_table.df.iloc[:400].reset_index(drop=True), schema=demo_table.schema, name="slice")


def refuse(*args, **kwargs):
    raise AssertionError("the audit was computed again")


def test_an_audit_is_read_back_equal_and_not_recomputed(small, monkeypatch, demo_roles, tmp_path):
    first = pipeline.audit(small, demo_roles, seed=3, splits=2)
    assert len(list((audit_store.folder()).glob("*.json"))) == 1
    assert audit_store.folder() == tmp_path / "cache" / "audits"
    monkeypatch.setattr(pipeline, "_AUDITS", type(pipeline._AUDITS)())  # as a new process: memory empty
    monkeypatch.setattr(pipeline, "decompose", refuse)
    told = []
    again = pipeline.audit(small, demo_roles, seed=3, splits=2, progress=lambda k, n: told.append((k, n)))
    assert again.to_dict() == first.to_dict() and told == [(1, 2), (2, 2)]
    assert pipeline.audit_kept(small, demo_roles, seed=3, splits=2)
    # negative controls: another seed, another question, other code, the switch off: computed
    assert not pipeline.audit_kept(small, demo_roles, seed=4, splits=2)
    with pytest.raises(AssertionError, match="computed again"):
        pipeline.audit(small, demo_roles, seed=4, splits=2)
    from dataclasses import replace

    swapped = replace(demo_roles, x0=demo_roles.x1, x1=demo_roles.x0)
    with pytest.raises(AssertionError, match="computed again"):
        pipeline.audit(small, swapped, seed=3, splits=2)
    monkeypatch.setattr(pipeline, "_AUDITS", type(pipeline._AUDITS)())  # memory empty: the disk decides
    monkeypatch.setattr(audit_store, "_CODE", ["another version of the estimator"])
    with pytest.raises(AssertionError, match="computed again"):
        pipeline.audit(small, demo_roles, seed=3, splits=2)
    monkeypatch.setattr(audit_store, "_CODE", [])
    monkeypatch.setenv(audit_store.SWITCH, "off")
    with pytest.raises(AssertionError, match="computed again"):
        pipeline.audit(small, demo_roles, seed=3, splits=2)


def test_a_damaged_file_is_computed_again(small, demo_roles, monkeypatch):
    first = pipeline.audit(small, demo_roles, seed=1, splits=2)
    (path,) = audit_store.folder().glob("*.json")
    path.write_text("{not json")
    monkeypatch.setattr(pipeline, "_AUDITS", type(pipeline._AUDITS)())
    assert not pipeline.audit_kept(small, demo_roles, seed=1, splits=2)
    assert pipeline.audit(small, demo_roles, seed=1, splits=2).to_dict() == first.to_dict()


def test_another_process_reads_the_audit_this_one_stored(small, demo_roles, tmp_path):
    """The app's case: the audit page's worker stores it, a run's own process reads it."""
    first = pipeline.audit(small, demo_roles, seed=2, splits=2)
    small.df.to_csv(tmp_path / "rows.csv", index=False)
    code = f"""
import json, sys
from faircause_core.io.data import load_table
from faircause_core.workflow import pipeline
from faircause_core.causal.graph import Roles
pipeline.decompose = lambda *a, **k: sys.exit("computed again")
t = load_table({str(tmp_path / 'rows.csv')!r})
r = Roles(**json.loads(sys.argv[1]))
print(json.dumps(pipeline.audit(t, r, seed=2, splits=2).to_dict()))
"""
    from dataclasses import asdict

    env = {"FAIRCAUSE_AUDIT_CACHE": str(tmp_path / "elsewhere"), "PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"}
    (tmp_path / "elsewhere").mkdir()
    for path in audit_store.folder().glob("*.json"):  # the named folder is the one read
        (tmp_path / "elsewhere" / path.name).write_bytes(path.read_bytes())
    out = subprocess.run([sys.executable, "-c", code, json.dumps(asdict(demo_roles))], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == json.loads(json.dumps(first.to_dict()))


def test_a_run_whose_audits_were_kept_says_so_and_plans_no_time_for_them():
    plan = {"audit": 12.0, "train": 3.0, "sample": 4.0, "measure": 10.0, "save": 1.0}
    now = [0.0]
    fresh, kept = (RunProgress(plan, clock=lambda: now[0]) for _ in range(2))
    fresh.update("auditing the real data", 0, 200)
    kept.update(pipeline.REUSED_AUDITS, 0, 200)
    kept.update(pipeline.REUSED_AUDITS, 200, 200)
    now[0] = 0.05  # a kept audit is read in milliseconds
    fresh.update("fitting the model", 0, 1)
    kept.update("fitting the model", 0, 1)
    now[0] = 1.0
    assert kept.eta_seconds() == pytest.approx(17.3, abs=0.3)  # train, sample, measure, save at the plan's pace
    assert fresh.eta_seconds() < 3.0  # negative control: 12 planned seconds gone in 0.05 s, the pace says "fast"


def test_a_second_run_of_the_same_data_and_question_reuses_both_audits(small, demo_graph, demo_roles):
    """The first report of a run after the audits were computed (here: by the calls the audit
    page and an earlier run make) says they are reused; before, it says it audits."""
    from faircause_core.generators.base import Cancelled, CancelToken, FairnessSpec
    from faircause_core.workflow.pipeline import GenerationSettings, run_generation, split_holdout

    settings = GenerationSettings(generator="bayesnet", rows=100, seed=5, fairness=FairnessSpec())

    def first_report():
        told, token = [], CancelToken()

        def progress(stage, done, total):
            told.append(stage)
            token.cancel()  # stop at the first report: only what the run says first is needed

        with pytest.raises(Cancelled):
            run_generation(small, demo_graph, demo_roles, settings, progress=progress, cancel=token)
        return told[0]

    assert first_report() == "auditing the real data"  # negative control: nothing kept yet
    pipeline.audit(split_holdout(small, settings.holdout, settings.seed)[0], demo_roles, seed=5)
    assert first_report() == "auditing the real data"  # one of the two kept: still audits
    pipeline.audit(small, demo_roles, seed=pipeline.ALL_ROWS_SEED)
    assert first_report() == pipeline.REUSED_AUDITS


def test_a_later_runs_plan_takes_its_audit_time_from_runs_that_fitted_their_audits():
    from faircause_core.workflow.progress import plan_for

    fitted = {"audit_s": 11.0, "fit_s": 3.0, "sample_s": 4.0}
    read = {"audit_s": 0.02, "fit_s": 3.0, "sample_s": 4.0, "audits_reused": 1}
    assert plan_for("bayesnet", [read, read, fitted])["audit"] == 11.0
    assert plan_for("bayesnet", [read, read, {**fitted, "audits_reused": 0}])["audit"] == 11.0
    # negative control: without the mark the reads' 0.02 s would be the median
    assert plan_for("bayesnet", [{k: v for k, v in read.items() if k != "audits_reused"}] * 2 + [fitted])["audit"] == 0.05
    # only reads: the default plan's audit stays
    assert plan_for("bayesnet", [read])["audit"] == plan_for("bayesnet")["audit"]


def test_what_audit_kept_read_from_disk_is_not_read_again(small, demo_roles, monkeypatch):
    """audit_kept reads the stored file once; the run's audit() then takes it from memory (the
    file gone by then, decompose refused), and the memo stays within AUDIT_MEMO."""
    first = pipeline.audit(small, demo_roles, seed=6, splits=2)
    monkeypatch.setattr(pipeline, "_AUDITS", type(pipeline._AUDITS)())
    assert pipeline.audit_kept(small, demo_roles, seed=6, splits=2)
    for path in audit_store.folder().glob("*.json"):
        path.unlink()
    monkeypatch.setattr(pipeline, "decompose", refuse)
    assert pipeline.audit(small, demo_roles, seed=6, splits=2).to_dict() == first.to_dict()
    monkeypatch.setattr(pipeline, "_AUDITS", type(pipeline._AUDITS)())  # negative control: nothing kept now
    with pytest.raises(AssertionError, match="computed again"):
        pipeline.audit(small, demo_roles, seed=6, splits=2)
    monkeypatch.setattr(pipeline, "AUDIT_MEMO", 1)
    pipeline._remember(("a",), first)
    pipeline._remember(("b",), first)
    assert list(pipeline._AUDITS) == [("b",)]
