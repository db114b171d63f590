"""`--labels` on audit and generate: the typed words reach every sentence and the JSON; a
bad spelling or an unknown value is one line on stderr with exit status 2."""

import json

import pandas as pd
import pytest

from tests.test_cli import DEMO, DEMO_DAG, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def coded_csv(tmp_path_factory):
    """600 demo rows with sex coded 0 (Male) / 1 (Female)."""
    df = pd.read_csv(DEMO).sample(600, random_state=0)
    df["sex"] = df["sex"].map({"Male": 0, "Female": 1})
    path = tmp_path_factory.mktemp("cli_labels") / "coded.csv"
    df.to_csv(path, index=False)
    return path


AUDIT = ["audit", "--sensitive", "sex", "--x0", "0", "--x1", "1", "--outcome", "death", "--z", "age", "race",
         "--w", "smoke_intensity", "--method", "plugin"]


def test_audit_labels_reach_the_sentences_and_the_json(coded_csv, tmp_path):
    out = tmp_path / "audit.json"
    proc = run_cli(*AUDIT, "--data", coded_csv, "--labels", "sex:0=men,1=women", "death:1=died", "--json", out)
    assert proc.returncode == 0, proc.stderr
    assert "Y = 1 means death=1 (died); comparing women with men" in proc.stdout
    assert "Overall, the share who died is" in proc.stdout and "for women than for men" in proc.stdout
    rec = json.loads(out.read_text())
    assert rec["labels"] == {"x": {"0": "men", "1": "women"}, "y": {"1": "died"}}
    assert rec["group_names"] == {"x0": "men", "x1": "women"} and rec["x0"] == "0"  # keys added, none changed

    plain = run_cli(*AUDIT, "--data", coded_csv, "--json", out)  # no words: codes read 'sex = 0'
    assert plain.returncode == 0, plain.stderr
    assert "for sex = 1 than for sex = 0" in plain.stdout and "the death rate" in plain.stdout
    assert json.loads(out.read_text())["labels"] == {"x": {}, "y": {}}


@pytest.mark.parametrize("labels, needles", [
    (["sex0=men"], ["--labels", "'sex0=men' is not COLUMN:VALUE=LABEL"]),
    (["sex:0men"], ["--labels", "is not VALUE=LABEL"]),
    (["age:0=young"], ["--labels", "column 'age' is neither"]),
    (["sex:2=other"], ["labelled value '2' does not occur in column 'sex'", "'0', '1'"]),
    (["death:yes=died"], ["labelled value 'yes' does not occur in column 'death'"]),
    (["sex:0=men,1=Men"], ["same label 'men'"]),
])
def test_bad_labels_are_one_line_exit_2(coded_csv, labels, needles):
    assert_one_line_error(run_cli(*AUDIT, "--data", coded_csv, "--labels", *labels), *needles)


def test_generate_records_the_labels_in_the_report(tmp_path):
    out, report = tmp_path / "syn.csv", tmp_path / "report.json"
    proc = run_cli("generate", "--data", DEMO, "--sensitive", "sex", "--x0", "Male", "--x1", "Female",
                   "--outcome", "death", "--dag", DEMO_DAG, "--rows", "300", "--generator", "bayesnet",
                   "--no-refine", "--labels", "sex:male=men,female=women", "death:1=died,0=survived",
                   "--out", out, "--report", report)
    assert proc.returncode == 0, proc.stderr
    assert "Y = 1 means death=1 (died); comparing women with men" in proc.stdout
    rep = json.loads(report.read_text())
    assert rep["labels"] == {"x": {"Male": "men", "Female": "women"}, "y": {"1": "died", "0": "survived"}}
    assert rep["group_names"] == {"x0": "men", "x1": "women"} and "settings" in rep and "metrics" in rep
    bad = run_cli("generate", "--data", DEMO, "--sensitive", "sex", "--x0", "Male", "--x1", "Female",
                  "--outcome", "death", "--dag", DEMO_DAG, "--rows", "300", "--generator", "bayesnet",
                  "--labels", "sex:F=women", "--out", out)
    assert_one_line_error(bad, "labelled value 'F' does not occur in column 'sex'")
