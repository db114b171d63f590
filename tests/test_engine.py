"""Issue 22 item 3: the engines. The audit's nuisance fits (each split's folds), the fair
predictor's sets and refits, and the Bayes net's per-column fits and sampling batches map over
the current engine; on a local Ray (2 CPUs) the same seeds give bit-for-bit the local numbers, in the
pipeline and through `--engine ray` on audit, generate, sweep and evaluate (the Ray tasks recorded);
a worker killed mid-task is retried by Ray; bad engine settings are one line and exit 2. The app
runs on the cluster RAY_ADDRESS names, and a bad one is one line within seconds. Also here: the
audit's nuisance models stop early (issue 22 item 2)."""

import json

import numpy as np
import pandas as pd
import pytest

from faircause_core import engine
from faircause_core.errors import InputError
from tests.clirun import run_cli
from tests.conftest import DEMO, ROOT, record_pids
from tests.streamlit_server import wait_for
from tests.ray_tasks import die_once

AUDIT = ["audit", "--data", DEMO, "--dag", ROOT / "assets" / "nhefs_dag.json", "--sensitive", "sex",
         "--x0", "Male", "--x1", "Female", "--outcome", "death", "--splits", "4"]


def _square(shared, item):
    return shared * item * item


def test_the_local_engine_keeps_order_and_shares_one_object():
    assert engine.current().name == "local"
    assert engine.make().map(_square, [1, 2, 3], shared=2) == [2, 8, 18]


def _pid_after(shared, item):
    """A piece that sleeps `shared` s (item 0 at once) and answers (item, its process id)."""
    import os
    import time

    if item:
        time.sleep(shared)
    return item, os.getpid()


def _fails_at_three(shared, item):
    if item == 3:
        raise InputError("piece 3 is refused")
    return item


def _dies_at_three(shared, item):
    import os

    if item == 3:
        os._exit(7)
    return item


def _gone(pid: int) -> bool:
    """The process has ended (reaped, or a zombie nobody waits for)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not engine.FORK, reason="forked workers are Linux only (elsewhere threads)")
def test_the_local_engine_on_processes_keeps_order_raises_and_leaves_no_process():
    """processes=2: the pieces run in two forked children (not here), the results come back in
    order and `done` is told 1..n; a piece's error is raised here with its words, a child that
    dies is an error, not a hang; and when `done` raises (a cancel) the call returns within
    seconds though the children's pieces would sleep 30 s more, every child gone."""
    import os
    import time

    told = []
    out = engine.make().map(_pid_after, list(range(6)), shared=0.01, done=lambda k, n: told.append((k, n)),
                            processes=2)
    assert [item for item, _ in out] == list(range(6)) and told == [(k, 6) for k in range(1, 7)]
    pids = {pid for _, pid in out}
    assert len(pids) == 2 and os.getpid() not in pids and all(_gone(pid) for pid in pids)
    assert engine.make().map(_pid_after, [0, 1], shared=0.0)[0][1] == os.getpid()  # control: in order, here
    with pytest.raises(InputError, match="^piece 3 is refused$"):
        engine.make().map(_fails_at_three, list(range(8)), processes=2)
    with pytest.raises(RuntimeError, match="ended before its pieces did"):
        engine.make().map(_dies_at_three, list(range(8)), processes=2)

    class Cancelled(Exception):
        pass

    def cancel(k, n):
        raise Cancelled

    started = time.monotonic()
    with pytest.raises(Cancelled):
        engine.make().map(_pid_after, [0, 1, 2, 3], shared=30.0, done=cancel, processes=2)
    assert time.monotonic() - started < 10
    children = [int(p) for p in open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split()]
    assert not [p for p in children if not _gone(p)], "a forked worker outlived the cancelled call"


@pytest.mark.skipif(not engine.FORK, reason="forked workers are Linux only (elsewhere threads)")
def test_a_killed_caller_takes_its_forked_workers_with_it(tmp_path):
    """A run's process killed mid-audit (a cancel past its grace, a stopped server) leaves no fit
    running: its workers die with it (PR_SET_PDEATHSIG), they do not finish their pieces."""
    import os
    import signal
    import subprocess
    import sys

    pids = tmp_path / "pids"
    script = (f"import os, time\n"
              f"from faircause_core import engine\n"
              f"def piece(shared, item):\n"
              f"    open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
              f"    time.sleep(60)\n"
              f"engine.make().map(piece, [1, 2], processes=2)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, 60, "two workers started", every=0.05)
        workers = [int(p) for p in pids.read_text().split()]
        assert not [p for p in workers if _gone(p)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        wait_for(lambda: all(_gone(p) for p in workers), 10, "the workers ended with their caller", every=0.05)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(not engine.FORK, reason="forked workers are Linux only (elsewhere threads)")
def test_the_local_engine_on_processes_gives_the_one_process_audit(demo_table, demo_roles, monkeypatch, tmp_path):
    """Linux: the audit's nuisance fits on FAIRCAUSE_THREADS forked processes (default the cores
    up to 4; the suite sets 1) at any size up to THREAD_MAX_MB: the numbers of one process bit
    for bit, each split's end told in order; the fits really ran in two other processes."""
    import os

    from faircause_core.causal import fairness

    r = demo_roles
    args = (demo_table.df, r.x, r.x0, r.x1, r.y, r.z, r.w)
    where = tmp_path / "pids"
    record_pids(monkeypatch, fairness, "_fit_nuisance", where)
    monkeypatch.setenv("FAIRCAUSE_THREADS", "1")
    here, there = [], []
    one = fairness.decompose(*args, seed=0, splits=2, progress=lambda k, n: here.append((k, n)))
    assert set(where.read_text().split()) == {str(os.getpid())}
    where.unlink()
    monkeypatch.setenv("FAIRCAUSE_THREADS", "2")
    forked = fairness.decompose(*args, seed=0, splits=2, progress=lambda k, n: there.append((k, n)))
    pids = where.read_text().split()
    assert len(pids) == 40 and len(set(pids)) == 2 and str(os.getpid()) not in pids
    pd.testing.assert_frame_equal(one.to_frame(), forked.to_frame(), check_exact=True)
    assert here == there == [(1, 2), (2, 2)]
    other = fairness.decompose(*args, seed=1, splits=2)  # control: other fold seeds move the numbers
    assert not other.to_frame()["estimate"].equals(one.to_frame()["estimate"])


def test_the_local_engine_on_threads_gives_the_one_thread_audit(demo_table, demo_roles, monkeypatch):
    """Where the local engine cannot fork (not Linux; engine.FORK off here), the audit's nuisance
    fits on its threads from THREAD_MIN_CELLS: the numbers of one thread bit for bit, each
    split's end told in order, and a cancel raised from `progress` stops the fits not yet started."""
    import threading

    from faircause_core.causal import fairness

    monkeypatch.setattr(engine, "FORK", False)
    r = demo_roles
    args = (demo_table.df, r.x, r.x0, r.x1, r.y, r.z, r.w)
    ran, fit_one = [], fairness._fit_one

    def recording(work, item):
        ran.append(threading.current_thread().name)
        return fit_one(work, item)

    monkeypatch.setattr(fairness, "_fit_one", recording)
    monkeypatch.setenv("FAIRCAUSE_THREADS", "3")  # below THREAD_MIN_CELLS (the demo's 1,629 x 14): one thread
    fairness.decompose(*args, seed=0, splits=1)
    assert set(ran) == {threading.current_thread().name} and len(ran) == 20
    ran.clear()
    monkeypatch.setattr(fairness, "THREAD_MIN_CELLS", 0)
    monkeypatch.setattr(fairness, "THREAD_MAX_MB", 0.01)  # the fixture's matrix above it: one thread too
    fairness.decompose(*args, seed=0, splits=1)
    assert set(ran) == {threading.current_thread().name} and len(ran) == 20
    ran.clear()
    monkeypatch.setattr(fairness, "THREAD_MAX_MB", 500)
    monkeypatch.setenv("FAIRCAUSE_THREADS", "1")
    here, there = [], []
    one = fairness.decompose(*args, seed=0, splits=4, progress=lambda k, n: here.append((k, n)))
    assert set(ran) == {threading.current_thread().name} and len(ran) == 80
    ran.clear()
    monkeypatch.setenv("FAIRCAUSE_THREADS", "3")
    threaded = fairness.decompose(*args, seed=0, splits=4, progress=lambda k, n: there.append((k, n)))
    assert len(ran) == 80 and len(set(ran)) == 3 and all(name.startswith("faircause-local") for name in ran)
    pd.testing.assert_frame_equal(one.to_frame(), threaded.to_frame(), check_exact=True)
    assert here == there == [(1, 4), (2, 4), (3, 4), (4, 4)]

    class Cancelled(Exception):
        pass

    def cancel(k, n):
        if k == 2:
            raise Cancelled

    import time

    def slow_after_two_splits(work, item):  # a later split's fit holds its thread a second, so
        ran.append(item)  # the count does not hang on how soon this thread sees the second split end
        if item[0] >= 2:
            time.sleep(1.0)
        return fit_one(work, item)

    monkeypatch.setattr(fairness, "_fit_one", slow_after_two_splits)
    ran.clear()
    with pytest.raises(Cancelled):
        fairness.decompose(*args, seed=0, splits=4, progress=cancel)
    later = [item for item in ran if item[0] >= 2]
    assert len(ran) - len(later) == 40 and len(later) <= 3  # two splits' fits ended; only the 3 running went on
    for bad in ("two", "0", "-1"):
        monkeypatch.setenv("FAIRCAUSE_THREADS", bad)
        with pytest.raises(InputError, match=f"FAIRCAUSE_THREADS must be a whole number >= 1, got '{bad}'"):
            engine.local_threads()


def test_bad_engine_settings_are_one_line():
    with pytest.raises(InputError, match="unknown engine 'spark'"):
        engine.make("spark")
    with pytest.raises(InputError, match="--ray-address needs --engine ray"):
        engine.make("local", "10.0.0.1:6379")
    proc = run_cli(*AUDIT, "--ray-address", "10.0.0.1:6379")
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --ray-address needs --engine ray"


def test_a_bad_thread_count_stops_the_cli_on_a_small_table(monkeypatch):
    """Where the engine cannot fork the demo is below the threads' THREAD_MIN_CELLS, so its audit
    never reads FAIRCAUSE_THREADS: the CLI checks it first, one line and exit 2, before any file
    is read."""
    monkeypatch.setenv("FAIRCAUSE_THREADS", "two")
    proc = run_cli(*AUDIT[:2], "/no/such.csv", *AUDIT[3:])
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "error: FAIRCAUSE_THREADS must be a whole number >= 1, got 'two'"), proc.stderr
    monkeypatch.setenv("FAIRCAUSE_THREADS", "1")  # control: a good value reaches the file
    proc = run_cli(*AUDIT[:2], "/no/such.csv", *AUDIT[3:])
    assert proc.returncode == 2 and "such.csv" in proc.stderr, proc.stderr


def test_the_app_uses_ray_only_when_ray_address_is_set(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert engine.from_environment().name == "local"


@pytest.fixture(scope="module")
def ray_engine():
    import ray

    eng = engine.make("ray", num_cpus=2)
    yield eng
    ray.shutdown()


class _Recording:
    """The Ray engine, noting which task functions mapped over it (the work really ran there) and
    how many tasks each."""

    name = "ray"

    def __init__(self, inner):
        self.inner, self.tasks, self.counts = inner, set(), {}

    def map(self, fn, items, shared=None, done=None):
        self.tasks.add(fn.__name__)
        self.counts[fn.__name__] = self.counts.get(fn.__name__, 0) + len(items)
        return self.inner.map(fn, items, shared=shared, done=done)


def test_the_audit_on_ray_equals_the_local_audit(ray_engine, demo_table, demo_roles):
    from faircause_core.workflow.pipeline import audit

    here, there = [], []  # each split's end, told as it happens (the run's time-left estimate)
    local = audit(demo_table, demo_roles, seed=0, splits=4, progress=lambda k, n: here.append((k, n)))
    recording = _Recording(ray_engine)
    with engine.use(recording):
        assert engine.current() is recording
        remote = audit(demo_table, demo_roles, seed=0, splits=4, progress=lambda k, n: there.append((k, n)))
    assert engine.current().name == "local"
    # each split's nuisance fits are the tasks: 4 splits x 2 covariate sets x 5 folds x 2 models
    assert recording.tasks == {"_fit_nuisance"} and recording.counts["_fit_nuisance"] == 80
    pd.testing.assert_frame_equal(local.to_frame(), remote.to_frame(), check_exact=True)
    assert here == there == [(1, 4), (2, 4), (3, 4), (4, 4)]
    # negative control: other fold seeds do move the numbers, so equality above is not vacuous
    other = audit(demo_table, demo_roles, seed=1, splits=4).to_frame()
    assert not other["estimate"].equals(local.to_frame()["estimate"])


def test_the_audits_nuisance_models_stop_early(demo_table, demo_roles, monkeypatch):
    """Issue 22: the audit's nuisance models stop early (causal.fairness.GBM_SETTINGS): on the
    demo every fit of a one-split audit (2 covariate sets x 5 folds x 2 models) is a boosting
    model that stopped on its validation split before max_iter (8 to 57 of 150 rounds)."""
    from sklearn.base import clone

    from faircause_core.causal import fairness

    monkeypatch.setenv("FAIRCAUSE_THREADS", "1")  # the fits in this process, where they are counted
    fits, fit = [], fairness._Model.fit

    def recording(self, feats, target):
        out = fit(self, feats, target)
        fits.append((self.est, feats, target))
        return out

    monkeypatch.setattr(fairness._Model, "fit", recording)
    fairness.decompose(demo_table.df, demo_roles.x, demo_roles.x0, demo_roles.x1, demo_roles.y, demo_roles.z,
                       demo_roles.w, seed=0, splits=1)
    cap = fairness.GBM_SETTINGS["max_iter"]
    assert len(fits) == 20 and all(isinstance(est, fairness.HistGradientBoostingClassifier) for est, _, _ in fits)
    rounds = sorted(est.n_iter_ for est, _, _ in fits)
    assert all(est.do_early_stopping_ for est, _, _ in fits) and rounds[-1] < cap, rounds
    # control: the longest of them, refitted without early stopping, runs to the cap
    est, feats, target = max(fits, key=lambda f: f[0].n_iter_)
    assert clone(est).set_params(early_stopping=False).fit(feats, target.astype(int)).n_iter_ == cap


def test_a_one_split_audit_runs_its_fold_fits_on_ray(ray_engine, demo_table, demo_roles):
    """Past about 4.2 million rows the audit is one split: its nuisance fits are still tasks (2
    covariate sets x 5 folds x 2 models), so a cluster shares its work, with the local numbers."""
    from faircause_core.workflow.pipeline import audit

    here, there = [], []
    local = audit(demo_table, demo_roles, seed=2, splits=1, progress=lambda k, n: here.append((k, n)))
    recording = _Recording(ray_engine)
    with engine.use(recording):
        remote = audit(demo_table, demo_roles, seed=2, splits=1, progress=lambda k, n: there.append((k, n)))
    assert recording.tasks == {"_fit_nuisance"} and recording.counts["_fit_nuisance"] == 20
    pd.testing.assert_frame_equal(local.to_frame(), remote.to_frame(), check_exact=True)
    assert (local.warnings, local.settings, local.overlap) == (remote.warnings, remote.settings, remote.overlap)
    assert here == there == [(1, 1)]
    # negative control: another fold seed moves every fitted effect, so equality above is not vacuous
    other = audit(demo_table, demo_roles, seed=3, splits=1).to_frame()
    assert not (other["estimate"] == local.to_frame()["estimate"]).loc[["ctf_de", "ctf_ie", "ctf_se"]].any()


def test_cli_audit_engine_ray_writes_the_local_json(ray_engine, tmp_path):
    here, there = tmp_path / "local.json", tmp_path / "ray.json"
    assert run_cli(*AUDIT, "--json", here).returncode == 0
    proc = run_cli(*AUDIT, "--json", there, "--engine", "ray")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(here.read_text())["decomposition"] == json.loads(there.read_text())["decomposition"]


def test_a_killed_worker_is_retried_by_ray(ray_engine, tmp_path):
    assert ray_engine.map(die_once, [1, 2, 3], shared=str(tmp_path)) == [10, 20, 30]
    assert all((tmp_path / f"ran-{i}").read_text() == "2" for i in (1, 2, 3))  # each ran again after its death


@pytest.fixture(scope="module")
def small_net(demo_table, demo_graph, demo_roles):
    """A Bayes net on the demo, fitted here, with small sampling batches (several tasks)."""
    from faircause_core.generators.bayesnet import BayesNetGenerator

    gen = BayesNetGenerator(batch_size=400, max_cpd_cells=200).fit(demo_table, demo_graph, demo_roles)
    assert {gen.cpd_[v].kind for v in gen.order_} == {"table", "posterior (sparse)"}  # both kinds of fit
    return gen


def _parameters(gen) -> dict:
    """Every fitted number of a Bayes net, per column: its codec's states or bins and its CPD's
    table, or its logistic coefficients, seen parent combinations and their counts."""
    out = {}
    for v in gen.order_:
        col, cpd = gen.cols_[v], gen.cpd_[v]
        parts = [col.states, None if col.binner is None else (col.binner.low_, col.binner.high_), cpd.table, cpd.counts]
        if cpd.logistic is not None and not cpd.logistic.constant:
            parts += [cpd.logistic.coef_t, cpd.logistic.intercept, cpd.logistic.freq]
        if cpd.seen is not None:
            parts.append(cpd.seen.encoded())
        out[v] = parts
    return out


def _same(a: dict, b: dict) -> bool:
    """Whether two `_parameters` are equal, bit for bit."""
    def eq(x, y):
        if isinstance(x, tuple):
            return isinstance(y, tuple) and len(x) == len(y) and all(eq(i, j) for i, j in zip(x, y))
        if x is None or y is None:
            return x is None and y is None
        x, y = np.asarray(x), np.asarray(y)
        return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y)

    return a.keys() == b.keys() and all(len(a[v]) == len(b[v]) and all(eq(x, y) for x, y in zip(a[v], b[v]))
                                        for v in a)


def test_the_bayes_net_fitted_on_ray_has_the_local_parameters(ray_engine, small_net, demo_table, demo_graph,
                                                             demo_roles):
    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.io.data import Table

    there = _Recording(ray_engine)
    with engine.use(there):
        remote = BayesNetGenerator(batch_size=400, max_cpd_cells=200).fit(demo_table, demo_graph, demo_roles)
    assert there.tasks == {"_fit_codec", "_fit_column"}
    assert _same(_parameters(small_net), _parameters(remote))
    # negative control: the net fitted without the last 20 rows differs, so equality above is not vacuous
    fewer = Table(demo_table.df.iloc[:-20].reset_index(drop=True), demo_table.schema, demo_table.name)
    other = BayesNetGenerator(batch_size=400, max_cpd_cells=200).fit(fewer, demo_graph, demo_roles)
    assert not _same(_parameters(small_net), _parameters(other))


@pytest.mark.skipif(not engine.FORK, reason="forked workers are Linux only")
def test_the_bayes_net_fitted_on_forked_workers_has_the_one_process_parameters(small_net, demo_table, demo_graph,
                                                                               demo_roles, monkeypatch, tmp_path):
    """The Bayes net's per-column fits on the local engine's two forked workers (FAIRCAUSE_THREADS=2;
    the suite's 1 made `small_net`): every fitted number of the one-process net, the columns
    fitted in two other processes."""
    import os

    from faircause_core.generators import bayesnet

    where = tmp_path / "pids"
    record_pids(monkeypatch, bayesnet, "_fit_column", where)
    monkeypatch.setenv("FAIRCAUSE_THREADS", "2")
    forked = bayesnet.BayesNetGenerator(batch_size=400, max_cpd_cells=200).fit(demo_table, demo_graph, demo_roles)
    pids = where.read_text().split()
    assert len(pids) == len(demo_graph.nodes) and len(set(pids)) == 2 and str(os.getpid()) not in pids
    assert _same(_parameters(small_net), _parameters(forked))


def test_a_columns_table_is_pgmpys_fit_of_its_family(small_net, demo_table):
    """A column's task runs pgmpy's per-node estimation step (private) for that column alone:
    its table is the one pgmpy's public fit() gives on the column's family network."""
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.parameter_estimator import DiscreteBayesianEstimator

    from faircause_core.generators.bayesnet import _Logistic

    gen = small_net
    codes = pd.DataFrame({c: gen.cols_[c].encode(demo_table.df[c]) for c in gen.columns_})
    v = max((c for c in gen.order_ if gen._tabulated(c)), key=gen._cells)  # the largest table
    pa = gen.parents_[v]
    logistic = _Logistic(codes, v, pa, gen.cols_, gen.C)
    ess = gen.cpd_[v].ess  # the strength cross-validation chose for v
    mine = gen._fit_table(codes, v, logistic, ess).table

    def public(scale):
        net = DiscreteBayesianNetwork()
        net.add_nodes_from([v, *pa])
        net.add_edges_from([(p, v) for p in pa])
        pseudo = {v: scale * ess * logistic.table().T,
                  **{p: np.ones((gen.cols_[p].card, 1)) for p in pa}}
        states = {c: list(range(gen.cols_[c].card)) for c in [v, *pa]}
        net.fit(codes[[v, *pa]], estimator=DiscreteBayesianEstimator(state_names=states, prior_type="dirichlet",
                                                                     pseudo_counts=pseudo))
        return gen._table(net.get_cpds(v), v).table

    assert len(pa) >= 2 and np.array_equal(mine, gen.cpd_[v].table) and np.array_equal(mine, public(1.0))
    assert not np.array_equal(mine, public(2.0))  # control: another prior weight is another table


def test_the_bayes_net_samples_the_local_rows_on_ray(ray_engine, small_net):
    from faircause_core.generators.base import FairnessSpec

    fairness, seen = FairnessSpec(de=1.0), []
    local = small_net.sample(1000, fairness, seed=3)
    there = _Recording(ray_engine)
    with engine.use(there):  # three batches of 400, 400 and 200 rows, each a task
        remote = small_net.sample(1000, fairness, seed=3, progress=lambda stage, k, n: seen.append(k))
    assert there.tasks == {"_sample_batch"} and sorted(seen) == [400, 800, 1000]
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    # negative control: another seed draws other rows
    assert not small_net.sample(1000, fairness, seed=4).equals(local)


def test_the_fair_predictor_on_ray_equals_the_local_one(ray_engine, small_net, demo_table, demo_roles,
                                                        monkeypatch):
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.metrics import utility

    monkeypatch.setattr(utility, "FITS_PER_TASK", 4)  # several tasks per table
    df = demo_table.df
    train, test = df.iloc[:300].reset_index(drop=True), df.iloc[300:900].reset_index(drop=True)
    synth = small_net.sample(2700, FairnessSpec(de=1.0), seed=1)  # 9 sets of the 300 real rows

    def run(seed):
        return utility.fair_predictor(train, synth, test, demo_roles, demo_table.schema, seed=seed,
                                      repeats=9, n_boot=40)

    local = run(0)
    there = _Recording(ray_engine)
    with engine.use(there):
        remote = run(0)
    assert there.tasks == {"_fit_task"} and local["synthetic_sets"] == 9
    assert remote == local
    # negative control: another seed resamples other real rows (the refits' spread) and splits the
    # synthetic rows into other sets, so other numbers
    other = run(1)
    assert other["real_trained_de_training_sd"] != local["real_trained_de_training_sd"]
    assert other["synthetic_trained_de"] != local["synthetic_trained_de"]


# ------------------------------------------- `--engine ray` on generate, sweep and evaluate (the CLI)

GEN = ["--data", DEMO, "--dag", ROOT / "assets" / "nhefs_dag.json", "--sensitive", "sex", "--x0", "Male",
       "--x1", "Female", "--outcome", "death"]


@pytest.fixture
def ray_tasks(ray_engine, monkeypatch):
    """The task functions every Ray engine maps (the CLI makes its own RayEngine, on this module's
    cluster), with how many tasks each: the work of `--engine ray` really ran as Ray tasks. Every
    audit takes 2 cross-fitting splits instead of splits_for's 10 on the demo (the engine, not the
    split count, is under test here; 5x fewer nuisance fits on either engine)."""
    from faircause_core.workflow import pipeline

    monkeypatch.setattr(pipeline, "splits_for", lambda n: 2)
    seen: dict = {}
    inner = engine.RayEngine.map

    def map(self, fn, items, shared=None, done=None):
        seen[fn.__name__] = seen.get(fn.__name__, 0) + len(items)
        return inner(self, fn, items, shared=shared, done=done)

    monkeypatch.setattr(engine.RayEngine, "map", map)
    return seen


def _both(tmp_path, ray_tasks, command, *args, outputs=("report.json",)):
    """`command *args` in this process on the local engine, then with `--engine ray`: the Ray
    tasks of the second run (none may run in the first) and each run's outputs, `{out}` in args
    naming that run's folder."""
    runs = []
    for flags in ([], ["--engine", "ray"]):
        folder = tmp_path / ("ray" if flags else "local")
        folder.mkdir()
        proc = run_cli(command, *[str(a).replace("{out}", str(folder)) for a in args], *flags)
        assert proc.returncode == 0, proc.stderr
        if not flags:
            assert ray_tasks == {}, ray_tasks  # the local run mapped nothing over Ray
        runs.append([(folder / name).read_bytes() for name in outputs])
    return dict(ray_tasks), runs


def _numbers(raw: bytes) -> dict:
    """A report or sweep JSON without its timings (seconds differ run to run)."""
    doc = json.loads(raw)
    doc.pop("timings", None)
    for part in doc.get("points", []) + doc.get("rounds", []):
        part.pop("seconds", None)
    return doc


def test_cli_generate_bayesnet_engine_ray_gives_the_local_rows_and_report(ray_tasks, tmp_path):
    tasks, (local, remote) = _both(tmp_path, ray_tasks, "generate", *GEN, "--generator", "bayesnet", "--rows", "300",
                                   "--no-refine", "--measure", "light", "--out", "{out}/syn.csv",
                                   "--report", "{out}/report.json", outputs=("syn.csv", "report.json"))
    # the Bayes net's per-column fits, its sampling batches and the fair predictor's sets ran on Ray
    assert {"_fit_codec", "_fit_column", "_sample_batch", "_fit_task"} <= set(tasks), tasks
    assert local[0] == remote[0]  # the same rows, byte for byte
    assert _numbers(local[1]) == _numbers(remote[1])


def test_cli_sweep_engine_ray_gives_the_local_points(ray_tasks, tmp_path):
    tasks, (local, remote) = _both(tmp_path, ray_tasks, "sweep", *GEN, "--generator", "bayesnet", "--pathway", "DE",
                                   "--points", "0,1", "--rows", "300", "--measure-rows", "600",
                                   "--json", "{out}/report.json")
    assert {"_fit_codec", "_fit_column", "_sample_batch", "_fit_nuisance", "_fit_task"} <= set(tasks), tasks
    assert _numbers(local[0]) == _numbers(remote[0])


def test_cli_evaluate_engine_ray_gives_the_local_report(ray_tasks, tmp_path):
    syn = tmp_path / "syn.csv"
    pd.read_csv(DEMO).sample(400, replace=True, random_state=0).to_csv(syn, index=False)  # a copier's rows
    tasks, (local, remote) = _both(tmp_path, ray_tasks, "evaluate", *GEN, "--synthetic", syn, "--measure", "light",
                                   "--report", "{out}/report.json")
    assert {"_fit_nuisance", "_fit_task"} <= set(tasks), tasks
    assert _numbers(local[0]) == _numbers(remote[0])


# ------------------------------------------------------- the app: RAY_ADDRESS in its environment

def _closed_port() -> int:
    """A port on this machine nothing listens on (bound by the system, then let go)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_engine() -> tuple:
    """Run in a page worker of the app (faircause_app.job_process.call): the engine the call got,
    the cluster this process is connected to, and a map over the engine (of a function Ray's
    workers can import: os.path.join)."""
    import os

    import ray

    eng = engine.current()
    return eng.name, ray.get_runtime_context().gcs_address if eng.name == "ray" else None, \
        eng.map(os.path.join, ["a", "b"], shared="task")


def test_the_app_runs_on_the_ray_cluster_ray_address_names(ray_engine, monkeypatch):
    """The app's engine calls and runs take engine.from_environment() in a process of their own
    (faircause_app.job_process): with RAY_ADDRESS set to this module's cluster, a fresh page worker
    connects to it and maps over it; an address where no cluster answers is one InputError line
    within seconds (ray.init alone retries it for about 14 minutes), in the app and in the CLI."""
    import time

    import ray

    from faircause_app import job_process

    address = ray.get_runtime_context().gcs_address
    bad = f"127.0.0.1:{_closed_port()}"
    monkeypatch.setattr(job_process, "_POOL", [])  # fresh workers, started now: no Ray connection yet
    try:
        monkeypatch.setenv("RAY_ADDRESS", address)
        assert job_process.call(_app_engine) == ("ray", address, ["task/a", "task/b"])
        monkeypatch.setenv("RAY_ADDRESS", bad)
        t = time.perf_counter()
        with pytest.raises(InputError) as err:
            job_process.call(_app_engine)
        assert time.perf_counter() - t < 10
        assert str(err.value) == f"cannot reach a Ray cluster at '{bad}': Connection refused"
        proc = run_cli(*AUDIT, "--engine", "ray")  # the CLI takes RAY_ADDRESS too, and says it in one line
        assert (proc.returncode, proc.stderr) == (2, f"error: cannot reach a Ray cluster at '{bad}': Connection refused\n")
        monkeypatch.delenv("RAY_ADDRESS")
        assert job_process.call(_app_engine) == ("local", None, ["task/a", "task/b"])  # unset: the local engine
    finally:
        for pool in job_process._POOL:
            pool.shutdown()


@pytest.mark.skipif(not engine.FORK, reason="forked workers are Linux only (elsewhere threads)")
def test_an_audit_forks_safely_after_torch_ran_on_two_threads(demo_table, demo_roles, monkeypatch):
    """A language-model run's synthetic audit forks its fits after the model trained on two torch
    threads (llm.ThreadGovernor on a free machine). The children run scikit-learn's own OpenMP,
    never torch's, so they finish with the one-process numbers. Control, in the same process: a
    forked child that runs torch on two threads there hangs (GNU OpenMP's thread pool is not in
    the child), so the parent really had a two-thread pool when the audit forked."""
    import json
    import os
    import subprocess
    import sys

    from faircause_core.causal import fairness

    r = demo_roles
    monkeypatch.setenv("FAIRCAUSE_THREADS", "1")
    one = fairness.decompose(demo_table.df, r.x, r.x0, r.x1, r.y, r.z, r.w, seed=0, splits=1)
    script = f"""
import json, os, sys, time
import pandas as pd, torch
torch.set_num_threads(2)
x = torch.randn(800, 800)
for _ in range(3):
    x @ x
from faircause_core.causal.fairness import decompose
from faircause_core.io.data import load_table
df = load_table({str(DEMO)!r}).df
dec = decompose(df, {r.x!r}, {r.x0!r}, {r.x1!r}, {r.y!r}, {list(r.z)!r}, {list(r.w)!r}, seed=0, splits=1)
pid = os.fork()
if pid == 0:
    x @ x
    os._exit(0)
deadline = time.time() + 3
while time.time() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
    time.sleep(0.1)
hung = os.waitpid(pid, os.WNOHANG) == (0, 0)
os.kill(pid, 9)
print(json.dumps({{"audit": dec.to_frame()["estimate"].tolist(), "control_hung": hung}}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FAIRCAUSE_THREADS": "2", "FAIRCAUSE_AUDIT_CACHE": "off"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["audit"] == one.to_frame()["estimate"].tolist()
    assert out["control_hung"], "the control did not hang: torch had no two-thread pool to inherit"
