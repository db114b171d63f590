"""CSV downloads cannot run spreadsheet formulas; plain numbers and other text are untouched."""

import io
import json

import numpy as np
import pandas as pd

from faircause_core.io.export import graph_json_bytes, json_bytes, neutralize_cell, plain, safe_filename, to_csv_bytes


def test_formula_cells_get_an_apostrophe_and_numbers_do_not():
    for bad in ("=1+1", "+A1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "=HYPERLINK(\"http://x\")", "-"):
        assert neutralize_cell(bad) == "'" + bad
    for ok in ("-3.5", "+7", "-1e5", "text", "a=b", "", "12"):
        assert neutralize_cell(ok) == ok
    assert neutralize_cell(-3) == -3 and neutralize_cell(None) is None


def test_csv_round_trip_neutralises_text_columns_and_header():
    df = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "ok", None], "=x": [1.5, -2.0, np.nan],
                       "code": ["-5", "@home", "+1"]})
    text = to_csv_bytes(df).decode("utf-8")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(back.columns) == ["name", "'=x", "code"]
    assert back["name"].tolist() == ["'=cmd|' /C calc'!A0", "ok", ""]
    assert back["'=x"].tolist() == ["1.5", "-2.0", ""]
    assert back["code"].tolist() == ["-5", "'@home", "+1"]


def test_real_synthetic_rows_export(bayes_run):
    data = to_csv_bytes(bayes_run.synthetic)
    back = pd.read_csv(io.BytesIO(data))
    assert back.shape == bayes_run.synthetic.shape
    assert list(back.columns) == list(bayes_run.synthetic.columns)


def test_json_helpers(demo_graph, bayes_run):
    from faircause_core.causal.graph import CausalGraph

    assert CausalGraph.from_json(graph_json_bytes(demo_graph)) == demo_graph
    settings = json.loads(json_bytes(bayes_run.settings.to_dict()))
    assert settings["generator"] == "bayesnet" and settings["fairness"]["de"] == 1.0
    assert json.loads(json_bytes({"a": np.float64(1.5), "b": float("nan")})) == {"a": 1.5, "b": None}
    assert safe_filename("../etc/pass wd.csv") == "etc_pass_wd.csv" and safe_filename("///") == "data"


def test_plain_is_strict_json_for_numpy_pandas_and_results(tmp_path, bayes_run):
    """The one sanitiser: what json.dumps would reject or write as non-standard NaN becomes JSON types."""
    obj = {1: np.int64(2), "t": (np.float32(0.5), {np.bool_(True)}), "inf": -np.inf, "arr": np.array([1.0, np.nan]),
           "df": pd.DataFrame({"a": [1]}), "path": tmp_path}
    assert plain(obj) == {"1": 2, "t": [0.5, [True]], "inf": None, "arr": [1.0, None], "df": [{"a": 1}],
                          "path": str(tmp_path)}
    text = json.dumps(plain(bayes_run.decompositions()), allow_nan=False)  # a Decomposition via its to_dict
    assert json.loads(text)["real"] == bayes_run.real_effects
    assert json.loads(text)["target"]["ses"] == {"ctf_de": None, "ctf_ie": None, "ctf_se": None}


def test_whole_numbers_stay_whole_in_the_csv():
    """Issue 10: 45, not 45.0; death 0, not 0.0; real decimals and missing cells untouched."""
    import numpy as np
    import pandas as pd

    from faircause_core.io.export import to_csv_bytes

    df = pd.DataFrame({"age": [45.0, 61.0, np.nan], "death": [0.0, 1.0, 0.0], "bmi": [22.5, 30.0, 27.1],
                       "sex": ["F", "M", "F"]})
    lines = to_csv_bytes(df).decode().splitlines()
    assert lines == ["age,death,bmi,sex", "45,0,22.5,F", "61,1,30.0,M", ",0,27.1,F"]
