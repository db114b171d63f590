"""Issue 19 item 5: the generate form and the job banner belong to the data set and question they
were made for. After a run with "Direct: remove" on the demo, a second data set opens with every
pathway kept and no "Finished ... run ..." banner; back on the demo, both come back."""

import pandas as pd

from faircause_core.workflow import workspace
from tests.conftest import DEMO
from tests.test_app_generate import generate_and_wait, open_generate, ready  # noqa: F401 - the fixture

SID = "a" * 32


def finished(at) -> bool:
    return any("Finished in" in s.value for s in at.success)


def test_form_and_banner_do_not_carry_over_to_another_data_set(ready):  # noqa: F811 - the imported fixture
    at = open_generate(SID)
    at.radio(key="w_generator").set_value("bayesnet")
    at.number_input(key="w_rows").set_value(200)
    at.selectbox(key="w_mode_de").set_value("remove")
    at.checkbox(key="w_refine").uncheck().run()
    generate_and_wait(at)
    at.run()
    assert finished(at) and at.selectbox(key="w_mode_de").value == "remove"
    demo_id = at.session_state["data_id"]

    other = workspace.save_data(pd.read_csv(DEMO).head(700).to_csv(index=False).encode(), "other.csv", root=ready)
    at.session_state["data_id"] = other
    at.switch_page("pages/1_data.py").run()
    at.switch_page("pages/4_generate.py").run()
    assert not at.exception
    assert at.selectbox(key="w_mode_de").value == "keep"
    assert at.number_input(key="w_rows").value == 700  # the new cohort's size, not the 200 chosen for the demo
    assert not finished(at)
    assert any("No generation started yet for this data set" in c.value for c in at.caption)

    # the negative control: on the demo again, the form and the banner are its own
    at.session_state["data_id"] = demo_id
    at.switch_page("pages/1_data.py").run()
    at.switch_page("pages/4_generate.py").run()
    assert at.selectbox(key="w_mode_de").value == "remove" and finished(at)
