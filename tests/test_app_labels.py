"""Value labels and clinician words through Streamlit's AppTest: a cohort coded 0/1 reads
"women / men" and "the share who died" on the audit page once the words are typed, keeps
them across a restart, and a graph without mediators says so instead of +0.0 to +0.0."""

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import DEMO, ROOT
from tests.test_app import app, plain, texts  # noqa: F401  (app: the fixture, a fresh workspace)


def ok(at):
    assert not at.exception, texts(at.exception)
    assert not at.error, texts(at.error)


@pytest.fixture()
def coded(app):  # noqa: F811
    """The demo's first 800 rows with sex coded 0 (Male) / 1 (Female), on the graph page."""
    df = pd.read_csv(DEMO).head(800)
    df["sex"] = df["sex"].map({"Male": 0, "Female": 1})
    app.file_uploader(key="w_upload").upload("coded.csv", df.to_csv(index=False).encode(), "text/csv").run()
    app.switch_page("pages/2_graph.py").run()
    ok(app)
    app.selectbox(key="w_x0_sex").set_value("0")
    app.selectbox(key="w_x1_sex").set_value("1").run()
    ok(app)
    return app


def sentences(at) -> str:
    return " ".join(plain(m) for m in texts(at.markdown))


def test_typed_words_name_the_groups_and_outcome_on_the_audit_page_and_survive_a_restart(coded):
    at = coded
    assert any("Comparing sex = 1 with sex = 0" in plain(c) for c in texts(at.caption)), texts(at.caption)
    at.text_input(key="w_lab_sex_0").input("men")
    at.text_input(key="w_lab_sex_1").input("women")
    at.text_input(key="w_lab_death_1").input("died").run()
    ok(at)
    assert any("Y = 1 means death=1 (died). Comparing women with men" in plain(c) for c in texts(at.caption))
    at.button(key="w_discover").click().run()
    ok(at)

    at.switch_page("pages/3_audit.py").run()
    ok(at)
    words = sentences(at)
    assert "Overall, the share who died is" in words and "for women than for men" in words, words
    assert "as if men were women" in words and "Had men been women" in words
    assert not re.search(r"\b(x0|x1|ETT|for [01] than)\b", words), words
    assert any("Comparing women (comparison group) with men (baseline group) on the share who died" in plain(c)
               for c in texts(at.caption))
    chart = at.get("plotly_chart")[0].proto.spec
    assert "women against men" in chart and "Effect among the baseline group" in chart

    # Without words, the codes read as "sex = 0", never a bare "0".
    at.switch_page("pages/2_graph.py").run()
    at.text_input(key="w_lab_sex_0").input("").run()
    at.switch_page("pages/3_audit.py").run()
    ok(at)
    assert "for women than for sex = 0" in sentences(at)

    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.run()
    assert fresh.session_state["problem"]["labels"] == {"x": {"1": "women"}, "y": {"1": "died"}}
    fresh.switch_page("pages/2_graph.py").run()
    assert fresh.text_input(key="w_lab_sex_1").value == "women"


def test_a_label_used_twice_is_one_error_line(coded):
    at = coded
    at.text_input(key="w_lab_sex_0").input("people")
    at.text_input(key="w_lab_sex_1").input("People").run()
    assert not at.exception
    lines = [plain(e) for e in texts(at.error)]
    assert len(lines) == 1 and "have the same label 'people'" in lines[0], lines


def test_no_mediators_is_said_in_words_not_as_an_interval_of_zero(coded):
    at = coded
    at.button(key="w_empty").click().run()
    for a, b in (("age", "death"), ("age", "sex"), ("sex", "death")):
        at.selectbox(key="w_edge_from").set_value(a)
        at.selectbox(key="w_edge_to").set_value(b)
        at.button(key="w_edge_add").click().run()
        ok(at)
    at.switch_page("pages/3_audit.py").run()
    ok(at)
    words = sentences(at)
    assert ("The graph has no mediators between sex and death, so there is no indirect effect to measure."
            in words), words
    assert "+0.0 to +0.0" not in words
