"""Shared fixtures for the dashboard and its engine pieces: the demo cohort (bundled copy),
a small hand-checked DAG over it (at most 4 parents per node, so every generator fits it
fast), and one real Bayesian-network run, built once per session."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "assets" / "nhefs_cohort.csv"

DEMO_EDGES = [
    ("age", "smoke_years"), ("age", "high_bp"), ("age", "death"), ("age", "cholesterol"),
    ("race", "education"), ("race", "income_bracket"), ("education", "income_bracket"),
    ("sex", "smoke_intensity"), ("sex", "weight_kg_1971"), ("sex", "death"), ("sex", "exercise"),
    ("smoke_intensity", "quit_smoking"), ("smoke_intensity", "death"), ("high_bp", "heart_failure"),
    ("high_bp", "death"), ("exercise", "activity"), ("weight_kg_1971", "high_bp"),
]


@pytest.fixture(autouse=True)
def light_measuring(request, monkeypatch):
    """Every test's generations and evaluations measure with the light profile
    (workflow.pipeline.MEASURE_PROFILES: fewer repetitions, the same measures), unless the test
    is marked full_measure: the tests of a measure's numbers. Session fixtures are built before
    this runs and name their profile themselves (bayes_run: light, as its readers check the
    run's shape, words and plots, not a measure's precision; 32 s in full, once a run)."""
    if request.node.get_closest_marker("full_measure") is None:
        monkeypatch.setenv("FAIRCAUSE_MEASURE", "light")
    else:
        monkeypatch.delenv("FAIRCAUSE_MEASURE", raising=False)


@pytest.fixture(scope="session")
def demo_table():
    from faircause_core.io.data import load_table

    return load_table(DEMO)


@pytest.fixture(scope="session")
def demo_graph(demo_table):
    from faircause_core.causal.graph import CausalGraph

    return CausalGraph(demo_table.schema.names, DEMO_EDGES)


@pytest.fixture(scope="session")
def demo_roles(demo_graph):
    from faircause_core.causal.graph import derive_roles

    return derive_roles(demo_graph, "sex", "death", x0="Male", x1="Female")


@pytest.fixture(scope="session")
def bayes_run(demo_table, demo_graph, demo_roles):
    """One real end-to-end run (Bayesian network, DE removed, no refinement, 400 rows, light measuring)."""
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.workflow.pipeline import GenerationSettings, run_generation

    settings = GenerationSettings(generator="bayesnet", rows=400, seed=0, refine=False,
                                  fairness=FairnessSpec(de=1.0), measure="light")
    return once_per_test_run("bayes_run", lambda: run_generation(demo_table, demo_graph, demo_roles, settings))


@pytest.fixture(scope="session")
def faithful_real():
    """`faithful_real(name)`: the real side of a faithfulness cohort (tests/faithful.py
    real_side: discovery, the split, the 10-split audit, the holdout's quality), computed once
    per test run and shared by test_faithful_bayesnet.py and test_faithful_lm.py; skips the
    test when the cohort's file is absent."""
    from tests.faithful import COHORTS, real_side

    built: dict = {}

    def get(name):
        if name not in built:
            built[name] = once_per_test_run(f"faithful_real_{name}", lambda: real_side(name))
        if built[name] is None:
            pytest.skip(f"{COHORTS[name][0]} is not available")
        return built[name]

    return get


RUN_FOLDER = "FAIRCAUSE_TEST_RUN"  # this test run's shared folder (pytest_configure)


def once_per_test_run(name: str, make):
    """make(), computed by the first of this test run's worker processes that asks and read (a
    pickle in the run's own folder) by the others, which wait for it: the session fixtures that
    each worker built again (a 19 s generation, each cohort's discovery and audit)."""
    import fcntl
    import os
    import pickle

    folder = os.environ.get(RUN_FOLDER)
    if not folder or not Path(folder).is_dir():
        return make()
    path = Path(folder) / f"{name}.pickle"
    with open(Path(folder) / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            return pickle.loads(path.read_bytes())
        value = make()
        path.with_suffix(".tmp").write_bytes(pickle.dumps(value))
        os.replace(path.with_suffix(".tmp"), path)
        return value


def record_pids(monkeypatch, owner, name: str, where: Path) -> None:
    """Wrap owner.<name> so that each call appends its process id to the file `where`: calls in
    forked children count too (the local engine's workers)."""
    import os

    inner = getattr(owner, name)

    def recording(*args):
        with open(where, "a") as f:
            f.write(f"{os.getpid()}\n")
        return inner(*args)

    monkeypatch.setattr(owner, name, recording)


def pytest_configure(config):
    """One folder per test run, shared by its workers, app servers and CLI calls (they inherit
    the environment): the kept audits (workflow.audit_store; a run starts with none, whatever
    earlier runs left in the user's cache, and the same audit is not refitted by every test)
    and the session fixtures computed once (once_per_test_run)."""
    import os
    import tempfile

    if not hasattr(config, "workerinput") and RUN_FOLDER not in os.environ:
        folder = tempfile.mkdtemp(prefix="faircause-testrun-")
        os.environ[RUN_FOLDER] = folder
        os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", os.path.join(folder, "audits"))
        # one thread per process for the audit's fits (engine.local_threads): the suite's two
        # processes already keep both cores busy, where a second thread each only contends
        os.environ.setdefault("FAIRCAUSE_THREADS", "1")
        config._faircause_run = folder


def pytest_unconfigure(config):
    import shutil

    folder = getattr(config, "_faircause_run", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """With `--no-loadscope-reorder` (make test): the browser files first, then the others by
    their number of tests, most first (xdist's own order otherwise). xdist's order put the
    browser files, few tests each but a minute or more, last: one worker then idled for the
    last 40 s. First, they run while the many short files are still left to even the end."""
    if config.getoption("loadscopereorder", True):
        return
    files: dict = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    order = sorted(files, key=lambda f: (not f.split("/")[-1].startswith("test_browser"), -len(files[f])))
    items[:] = [item for f in order for item in files[f]]


TIMELINE = "FAIRCAUSE_TEST_TIMELINE"  # a file: each test phase's worker, start and stop (tests/timeline_report.py)


def pytest_runtest_logreport(report):
    """With FAIRCAUSE_TEST_TIMELINE set, each process appends one JSON line per test phase (the
    xdist controller too, as "main": tests/timeline_report.py reads the workers' lines): where the
    suite's wall time goes and whether a worker idles at the end (docs/testing.md)."""
    import json
    import os

    path, worker = os.environ.get(TIMELINE), os.environ.get("PYTEST_XDIST_WORKER")
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"worker": worker or "main", "test": report.nodeid, "when": report.when,
                            "start": report.start, "stop": report.stop}) + "\n")
