"""The generate page through AppTest: the form survives a reload (issue 10 item 8), a re-run
that reuses the cached fitted model says so, and the progress panel shows one bar for the
whole run."""

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from faircause_core.workflow import workspace
from tests.conftest import DEMO, ROOT


def texts(elements):
    return [e.value for e in elements]


@pytest.fixture()
def ready(tmp_path, monkeypatch, demo_graph):
    """A workspace whose saved session has the demo, its question and a graph (steps 1-2 done),
    the tiny language model and a private model cache."""
    from faircause_core.generators.lm.store import tiny_model

    ws = tmp_path / "ws"
    data_id = workspace.save_data(DEMO.read_bytes(), DEMO.name, root=ws)
    workspace.save_session({"data_id": data_id, "graph": demo_graph.to_dict(),
                            "problem": {"x": "sex", "x0": "Male", "x1": "Female", "y": "death"}}, root=ws)
    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(ws))
    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FAIRCAUSE_MODEL_DIR", str(tiny_model(path=tmp_path / "tiny", seed=0)))
    return ws


def open_generate(sid=None):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if sid:
        at.query_params["sid"] = sid
    at.run()
    at.switch_page("pages/4_generate.py").run()
    assert not at.exception, texts(at.exception)
    return at


def job_running() -> bool:
    """A job thread of the app (faircause_app.jobs.launch names them faircause-<id>) is alive:
    AppTest runs the pages in this process, so the test can wait on the job itself."""
    return any(t.name.startswith("faircause-") and t.is_alive() for t in threading.enumerate())


def wait_while_job_runs(seconds: float) -> None:
    """Sleep up to `seconds`, less if the app's job ends first (then the page is read at once)."""
    until = time.time() + seconds
    while time.time() < until and job_running():
        time.sleep(0.05)


def generate_and_wait(at, timeout=400, every=2.0):
    """Click Generate and poll like the page's fragment does (a rerun every `every` seconds, for
    the bars); returns the bar fractions seen. Between reruns it waits on the job's thread, so
    the page is read again as soon as the run ends, not up to a second later."""
    before = at.session_state["run_id"] if "run_id" in at.session_state else None
    at.button(key="w_start").click().run()
    seen, deadline = [], time.time() + timeout
    while time.time() < deadline:
        assert not at.exception and not at.error, texts(at.exception) + texts(at.error)
        bars = at.get("progress")
        seen += [b.proto.value for b in bars]
        run_id = at.session_state["run_id"] if "run_id" in at.session_state else None
        if run_id and run_id != before and not bars:
            return seen
        wait_while_job_runs(every)
        at.run()
    pytest.fail(f"generation did not finish in {timeout} s")


def test_form_survives_a_reload_and_a_rerun_says_it_reused_the_fitted_model(ready):
    at = open_generate()
    at.radio(key="w_generator").set_value("llm")
    at.number_input(key="w_rows").set_value(150)
    at.number_input(key="w_seed").set_value(7)
    at.selectbox(key="w_mode_de").set_value("remove")
    at.selectbox(key="w_mode_ie").set_value("partial").run()
    at.slider(key="w_alpha_ie").set_value(0.25)
    at.checkbox(key="w_refine").uncheck().run()
    seen = generate_and_wait(at)
    assert seen and all(b >= a for a, b in zip(seen, seen[1:])), seen  # one bar: never back to 0
    assert not any("reused the fitted model" in m for m in texts(at.info))

    # a reload: a new session over the same workspace finds the form as it was left
    again = open_generate()
    assert again.radio(key="w_generator").value == "llm"
    assert again.number_input(key="w_rows").value == 150 and again.number_input(key="w_seed").value == 7
    assert again.selectbox(key="w_mode_de").value == "remove" and again.selectbox(key="w_mode_ie").value == "partial"
    assert again.slider(key="w_alpha_ie").value == 0.25 and again.checkbox(key="w_refine").value is False

    # the same settings again: the fitted model comes from the cache, and the page says so
    generate_and_wait(again)
    notes = texts(again.info)
    assert any("reused the fitted model" in m and "training was skipped" in m for m in notes), notes
    runs = workspace.list_runs(root=ready)
    assert len(runs) == 2 and {r["rows"] for r in runs} == {150}
    assert [workspace.load_run(r["run_id"], root=ready)["result"].fit_reused for r in runs] == [True, False]


def test_rows_saved_for_one_table_do_not_carry_over_to_another(ready):
    at = open_generate()
    at.number_input(key="w_rows").set_value(300).run()
    assert open_generate().number_input(key="w_rows").value == 300  # kept for this table
    lines = DEMO.read_bytes().splitlines(keepends=True)
    smaller = workspace.save_data(b"".join(lines[:401]), "first_400.csv", root=ready)
    saved = workspace.load_session(root=ready)
    workspace.save_session({**saved, "data_id": smaller}, root=ready)
    at = open_generate()
    assert at.number_input(key="w_rows").value == 400  # the other table's size, not 300
    assert at.number_input(key="w_seed").value == 0


def test_the_measuring_profile_starts_from_the_environment_and_a_misspelt_one_is_one_error(ready, monkeypatch):
    """The form's light-measuring box starts at FAIRCAUSE_MEASURE (the suite sets light:
    tests/conftest.py), is kept with the form, and a misspelt value is one error line, not a crash."""
    at = open_generate()
    assert at.checkbox(key="w_light").value is True  # the suite's light default
    at.checkbox(key="w_light").uncheck().run()
    assert open_generate().checkbox(key="w_light").value is False  # kept for this table, over the default
    monkeypatch.setenv("FAIRCAUSE_MEASURE", "full")
    workspace.save_session({**workspace.load_session(root=ready), "generate_forms": {}}, root=ready)
    fresh = open_generate()
    assert fresh.checkbox(key="w_light").value is False
    monkeypatch.setenv("FAIRCAUSE_MEASURE", "quick")
    bad = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    bad.run()
    bad.switch_page("pages/4_generate.py").run()
    assert not bad.exception
    from faircause_app.text import md

    assert [e.value for e in bad.error] == [md("FAIRCAUSE_MEASURE='quick' is not a measuring profile: use full or light")]
