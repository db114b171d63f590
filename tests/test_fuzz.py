"""Property-based fuzzing of every reader of user or workspace input (issue 12).

Random bytes, random CSV shapes, broken Parquet and Excel files, random JSON and crafted
workspace folders: the only allowed outcome is a parsed result or one InputError line.
Any other exception (a pandas, json, zip or numpy error, a RecursionError) fails the test.
Derandomized, so every run draws the same examples: 50 per reader in `make test`, 500 per
reader in `make test-slow` (the *_at_full_count twins).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import re
import shutil
import string
import tempfile
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import openpyxl
from openpyxl.utils.exceptions import IllegalCharacterError
from pyarrow.lib import ArrowException
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from faircause_core.causal.graph import CausalGraph
from faircause_core.causal.knowledge import BackgroundKnowledge
from faircause_core.errors import InputError
from faircause_core.generators.base import FairnessSpec
from faircause_core.io.data import load_table
from faircause_core.limits import DEFAULT_LIMITS, Limits
from faircause_core.workflow import workspace
from faircause_core.workflow.pipeline import GenerationSettings

EXAMPLES = 500  # per reader, in `make test-slow` (the test's name ends in _at_full_count)
QUICK = 50  # per reader, in `make test`: the same derandomized search, cut short
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

FULL_COUNT: dict = {}  # name -> the slow twin at EXAMPLES


def fuzz(*strategies, examples: int = EXAMPLES, quick: int = QUICK, **named):
    """@given(*strategies, **named) twice over: the test itself draws `quick` examples (make
    test); its twin `<name>_at_full_count`, marked slow, draws `examples` (make test-slow).
    The twins are put in the module at its end (FULL_COUNT)."""
    def decorate(fn):
        quick_test = settings(FUZZ, max_examples=min(quick, examples))(given(*strategies, **named)(fn))
        full = settings(FUZZ, max_examples=examples)(given(*strategies, **named)(fn))
        FULL_COUNT[fn.__name__ + "_at_full_count"] = pytest.mark.slow(full)
        return quick_test
    return decorate


LIMITS = Limits(max_rows=60, max_columns=10, max_file_mb=0.25)  # small, so the limits are reached


def outcome(fn, *args, **kwargs):
    """fn's result, or None after an InputError whose text is one non-empty line."""
    try:
        return fn(*args, **kwargs)
    except InputError as err:
        text = str(err)
        assert text and "\n" not in text and "\r" not in text, repr(text)
        assert "Traceback" not in text
        return None


# ------------------------------------------------------------------------- strategies

NAME_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))
odd_names = st.one_of(
    st.text(NAME_CHARS, max_size=12),
    st.sampled_from(["T Stage ", " age", "a,b", 'say "hi"', "x\ny", "", "  ", "\t", "#", "nan",
                     "<img src=x onerror=alert(1)>", "**x**", "1", "1.0", "é", "\ufeffid"]),
)
cells = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "n/a", "?", "-", ".", "265,000", "1,5", "007", "True", "None",
                     "Male", "Female", " x ", "1e400", "-0", "inf", '"', "a\nb", "\x0c", "\u2028"]),
    st.text(NAME_CHARS, max_size=8),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=12)


@st.composite
def csv_files(draw):
    """A CSV-ish file: random header names, ragged or square rows, delimiter, quoting, encoding."""
    width = draw(st.one_of(st.integers(0, 5), st.integers(9, 12)))  # around the column limit too
    names = draw(st.lists(odd_names, min_size=width, max_size=width))
    n_rows = draw(st.integers(0, 12))
    ragged = draw(st.booleans()) and draw(st.booleans())
    rows = [draw(st.lists(cells, min_size=width if not ragged else 0,
                          max_size=width if not ragged else width + 2)) for _ in range(n_rows)]
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    writer.writerow(names)
    writer.writerows(rows)
    text = buf.getvalue()
    if draw(st.booleans()):  # damage: cut, or splice in stray quotes / blank lines
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(['"', '\n\n', ',,,\n', '"a"b', ''])) + text[cut:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    ext = draw(st.sampled_from([".csv", ".tsv", ".txt", ""]))
    return data, f"fuzz{ext}"


@st.composite
def frames(draw):
    """A small DataFrame with odd column names and one dtype per column (Parquet/Excel input)."""
    width = draw(st.integers(0, 4))
    n = draw(st.integers(0, 6))
    cols = {}
    for i in range(width):
        name = draw(st.one_of(odd_names, st.integers(-3, 3))) if draw(st.booleans()) else f"c{i}"
        kind = draw(st.sampled_from(["int", "float", "text", "bool", "date", "mixed"]))
        if kind == "int":
            values = draw(st.lists(st.integers(-2**40, 2**40), min_size=n, max_size=n))
        elif kind == "float":
            values = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n))
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        elif kind == "date":
            values = list(pd.date_range("2000-01-01", periods=n, freq="D"))
        elif kind == "mixed":
            values = draw(st.lists(st.one_of(st.none(), st.integers(0, 9), st.text(string.ascii_letters, max_size=3)),
                                   min_size=n, max_size=n))
            values = [None if v is None else str(v) for v in values]
        else:
            values = draw(st.lists(st.text(string.printable.strip() + "é ", max_size=6), min_size=n, max_size=n))
        cols[str(name) if name in cols else name] = values
    return pd.DataFrame(cols) if cols else pd.DataFrame(index=range(n))


def damaged(draw, data: bytes) -> bytes:
    """`data`, or a truncated / byte-flipped copy of it."""
    how = draw(st.sampled_from(["keep", "cut", "flip", "tail"]))
    if how == "keep" or not data:
        return data
    if how == "cut":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "tail":
        return data + draw(st.binary(max_size=64))
    rng = random.Random(draw(st.integers(0, 2**32)))
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def timeless_zip(data: bytes) -> bytes:
    """An .xlsx with its clock times fixed, so the same example gives the same bytes every run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", zin.read(info))
            zout.writestr(zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0)), content,
                          compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ------------------------------------------------------------------------------ loader

@fuzz(data=st.binary(max_size=2048),
      ext=st.sampled_from([".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".xlsm", ".xls", ".json", ""]))
def test_loader_random_bytes(data, ext):
    outcome(load_table, data, name=f"fuzz{ext}", limits=LIMITS)


@fuzz(csv_files())
def test_loader_random_csv_shapes(file):
    data, name = file
    outcome(load_table, data, name=name, limits=LIMITS)


@st.composite
def valid_csv(draw):
    """A well-formed comma CSV (csv.writer) with unique, non-blank names and square rows."""
    names = draw(st.lists(odd_names.filter(lambda n: n.strip() and not n.startswith("\ufeff")),  # BOM: encoding
                          min_size=2, max_size=6, unique_by=lambda n: " ".join(n.split())))
    rows = draw(st.lists(st.lists(cells, min_size=len(names), max_size=len(names)), min_size=1, max_size=5))
    buf = io.StringIO()
    # "\r\n": the writer then quotes any cell holding \r or \n (with "\n" a bare \r goes unquoted)
    csv.writer(buf, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
               lineterminator="\r\n").writerows([names] + rows)
    return names, buf.getvalue().encode("utf-8")


@fuzz(valid_csv())
def test_loader_reads_a_well_formed_csv_as_written(file):
    """A file any CSV writer could produce is never called ragged, and keeps every header name."""
    names, data = file
    try:
        table = load_table(data, name="ok.csv", limits=LIMITS)
    except InputError as err:
        assert "fields" not in str(err) and "malformed" not in str(err), str(err)
        return
    assert table.schema.names == names


# each wide file costs ~0.1 s to type; the shapes are fuzzed above
@fuzz(examples=20, quick=6,
      width=st.sampled_from([DEFAULT_LIMITS.max_columns + d for d in (-1, 0, 1)]),
      rows=st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=4))
def test_loader_wide_files_at_the_real_column_limit(width, rows):
    names = [f"c{i}" for i in range(width)]
    text = ",".join(names) + "\n" + "".join(",".join(json.dumps(c) for c in (r * width)[:width]) + "\n" for r in rows)
    table = outcome(load_table, text.encode(), name="wide.csv")
    if width > DEFAULT_LIMITS.max_columns:
        assert table is None
    elif table is not None:
        assert table.schema.names == names


@fuzz(st.data())
def test_loader_parquet_bytes(data):
    frame = data.draw(frames())
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():  # mixed-type names are written as text: that is the point here
            warnings.simplefilter("ignore", UserWarning)
            frame.to_parquet(buf)
    except (ValueError, TypeError, OverflowError, ArrowException):  # pyarrow refused to write it
        assume(False)
    raw = damaged(data.draw, buf.getvalue())
    name = data.draw(st.sampled_from(["f.parquet", "f.pq", "f"]))
    outcome(load_table, raw, name=name, limits=LIMITS)


@fuzz(st.data())
def test_loader_excel_bytes(data):
    frame = data.draw(frames())
    book = openpyxl.Workbook(write_only=True)  # faster than DataFrame.to_excel, same file
    sheet = book.create_sheet()
    buf = io.BytesIO()
    try:
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if v is None or v != v else v for v in row])
        book.save(buf)
    except (ValueError, TypeError, IllegalCharacterError):  # openpyxl refused a name or cell
        assume(False)
    raw = damaged(data.draw, timeless_zip(buf.getvalue()))
    name = data.draw(st.sampled_from(["f.xlsx", "f.xlsm", "f"]))
    outcome(load_table, raw, name=name, limits=LIMITS)


# ------------------------------------------------------------------------ corruption

JUNK = st.one_of(st.sampled_from([None, True, 0, -1, 2**70, 1.5, math.inf, -math.inf, math.nan, "", "x",
                                   [], {}, [None], {"": None}, ["a", "b"]]), json_values)


SPECIALS = [None, True, -1, 2**70, 1.5, math.inf, math.nan, "", "x", [], {}, [None]]


def every_swap(value):
    """Each single swap of one part of `value` for each special junk value: the systematic
    complement of `corrupted` (which draws swaps at random and can miss a field)."""
    for path in _paths(value):
        for junk in SPECIALS:
            yield path, _replace(value, path, junk)


@st.composite
def corrupted(draw, valid):
    """A value from `valid`, then up to two of its parts (any node, each equally likely) swapped
    for junk, so every field's checks are reached one at a time instead of failing at the first."""
    value = draw(valid)
    for _ in range(draw(st.integers(0, 2))):
        paths = list(_paths(value))
        value = _replace(value, paths[draw(st.integers(0, len(paths) - 1))], draw(JUNK))
    return value


def _paths(value, path=()):
    """Every node's path (the root's is ()), plus one new key per object (an unexpected field)."""
    yield path
    if isinstance(value, dict):
        yield path + ("unexpected",)
        for k, v in value.items():
            yield from _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, path + (i,))


def _replace(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value.get(head), rest, new)}
    return value[:head] + [_replace(value[head], rest, new)] + value[head + 1:]


# ------------------------------------------------------------------------ graph JSON

NODES = ["a", "b", "c", "d", "T Stage ", "<b>x</b>"]


@st.composite
def graph_dicts(draw):
    """Valid-looking DAG objects over a few names (cycles, duplicates and unknowns included)."""
    nodes = draw(st.lists(st.sampled_from(NODES), max_size=5))
    pool = nodes + ["ghost"]
    edges = draw(st.lists(st.lists(st.sampled_from(pool), min_size=2, max_size=2), max_size=6))
    return {"nodes": nodes, "edges": edges}


deep_json = st.integers(1, 3000).map(lambda n: "[" * n * 10 + "]" * n * 10)
graph_values = st.one_of(json_values, corrupted(graph_dicts()))


@fuzz(st.one_of(st.text(max_size=200), st.binary(max_size=200), deep_json, graph_values.map(json.dumps)))
def test_graph_json(text):
    g = outcome(CausalGraph.from_json, text)
    if g is not None:
        assert CausalGraph.from_json(g.to_json()) == g


@fuzz(graph_values)
def test_graph_dict(d):
    outcome(CausalGraph.from_dict, d)


@st.composite
def knowledge_dicts(draw):
    names = st.sampled_from(["a", "b", "c", "d", "e"])
    pairs = st.lists(st.lists(names, min_size=2, max_size=2), max_size=3)
    keys = {"forbidden": pairs, "required": pairs, "tiers": st.lists(st.lists(names, max_size=2), max_size=3),
            "no_outgoing": st.lists(names, max_size=2), "after_outcome": st.lists(names, max_size=2)}
    chosen = draw(st.lists(st.sampled_from(sorted(keys)), unique=True, max_size=5))
    return {k: draw(keys[k]) for k in chosen}


@fuzz(st.one_of(json_values, corrupted(knowledge_dicts())))
def test_background_knowledge_dict(d):
    outcome(BackgroundKnowledge.from_dict, d)


# --------------------------------------------------------------------------- settings

@st.composite
def settings_dicts(draw):
    """What a saved run's settings look like (GenerationSettings.to_dict of valid values)."""
    return {"generator": draw(st.sampled_from(["llm", "bayesnet", "prompt"])),
            "model_dir": draw(st.one_of(st.none(), st.text(max_size=8))),
            "preset": draw(st.sampled_from(["quick", "thorough"])),
            "train_steps": draw(st.one_of(st.none(), st.integers(1, 10**6))),
            "rows": draw(st.integers(1, 10**6)), "seed": draw(st.integers(0, 2**32 - 1)),
            "fairness": {"de": draw(st.floats(0, 1)), "ie": draw(st.sampled_from([0.0, 0.5, 1.0])),
                         "se": draw(st.floats(0, 1)), "reference": draw(st.sampled_from(["x0", "x1", "marginal"]))},
            "refine": draw(st.booleans()), "max_rounds": draw(st.integers(1, 20)),
            "holdout": draw(st.floats(0.05, 0.5)), "measure_rows": draw(st.one_of(st.none(), st.integers(1, 10**6)))}


@fuzz(st.one_of(json_values, corrupted(settings_dicts())))
def test_generation_settings(d):
    s = outcome(GenerationSettings.from_dict, d)
    if s is not None:
        again = GenerationSettings.from_dict(json.loads(json.dumps(s.to_dict())))
        assert again.to_dict() == s.to_dict()


def test_every_field_of_the_settings_and_knowledge_swapped_for_junk():
    settings_value = {"generator": "bayesnet", "model_dir": None, "preset": "quick", "train_steps": None,
                      "rows": 10, "seed": 0, "fairness": {"de": 1.0, "ie": 0.0, "se": 0.0, "reference": "x1"},
                      "refine": True, "max_rounds": 2, "holdout": 0.3, "measure_rows": None}
    for path, d in every_swap(settings_value):
        outcome(GenerationSettings.from_dict, d)
    for path, d in every_swap({"forbidden": [["a", "b"]], "required": [["b", "c"]], "tiers": [["a"], ["b", "c"]],
                               "no_outgoing": ["c"], "after_outcome": ["d"]}):
        outcome(BackgroundKnowledge.from_dict, d)
    for path, d in every_swap({"nodes": ["a", "b", "c"], "edges": [["a", "b"], ["b", "c"]]}):
        outcome(CausalGraph.from_dict, d)


# ---------------------------------------------------------------------- FairnessSpec

spec_text = st.one_of(st.none(), st.text(max_size=20), st.lists(
    st.sampled_from(["DE", "ie", "se", "all", "none", "keep", "+", ",", "=", "0.5", "1", "nan", "inf",
                     "-1", " ", "DE=", "=0.5", "x", "1e400", "1_0", "0x1"]), max_size=6).map("".join))


@fuzz(remove=spec_text, alpha=spec_text, reference=st.one_of(st.sampled_from(["x0", "x1", "marginal"]), spec_text))
def test_fairness_spec_parse(remove, alpha, reference):
    spec = outcome(FairnessSpec.parse, remove, alpha, reference)
    if spec is not None:
        assert all(0.0 <= getattr(spec, p) <= 1.0 for p in ("de", "ie", "se"))


# -------------------------------------------------------------------------- workspace

RUN_ID = "20260101-000000-abcdef"
DATA_ID = "0123456789abcdef"


def effects(draw) -> dict:
    value = draw(st.sampled_from([-0.1, 0.0, 0.25]))
    est = {e: value for e in ("tv", "ctf_de", "ctf_ie", "ctf_se", "ett")}
    return {"estimates": est, "ses": {e: 0.01 for e in est}, "quantities": {}, "n": 100, "n0": 50, "n1": 50,
            "method": "dr", "warnings": [], "settings": {}}


@st.composite
def run_records(draw):
    """A run.json as save_run writes it (load_run reads it back), before corruption."""
    return {"id": RUN_ID, "created": draw(st.sampled_from([0, 1.7e9])), "name": draw(st.sampled_from(["bn", ""])),
            "data_id": DATA_ID, "kinds": {}, "graph": {"nodes": ["a", "b"], "edges": [["a", "b"]]},
            "roles": {"x": "a", "y": "b", "z": [], "w": [], "other": [], "x0": 0, "x1": 1, "threshold": None,
                      "positive": None},
            "result": {"settings": draw(settings_dicts()), "real_effects": effects(draw),
                       "synthetic_effects": effects(draw), "target": {"ctf_de": 0.0}, "rounds": [],
                       "converged": True, "metrics": {"fidelity": {"quality": 0.9}, "utility": {"tstr": 0.7},
                                                      "fair_predictor": {"reduction": 0.5}},
                       "timings": {}, "warnings": [], "message": "", "alphas_used": {}, "frozen": {}}}


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory):
    """One workspace folder for every example, each file rewritten each time; in memory where
    /dev/shm exists (a file write costs ~3 ms on this machine's disk, 0.06 ms there)."""
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="fuzz_ws.", dir=shm)) if shm.is_dir() and os.access(shm, os.W_OK) \
        else tmp_path_factory.mktemp("fuzz_ws")
    yield base
    shutil.rmtree(base, ignore_errors=True)


# Mostly a corrupted record (each field in turn), sometimes random bytes or JSON nested too deep.
file_bytes = st.integers(0, 7).flatmap(
    lambda i: st.binary(max_size=300) if i == 0 else deep_json.map(str.encode) if i == 1
    else corrupted(run_records()).map(lambda v: json.dumps(v).encode()))
good_csv = b"a,b\n0,1\n1,0\n0,0\n"
good_parquet = workspace._rows_file(pd.DataFrame({"a": [0, 1, 0], "b": ["1", "0", None]}))[1]


@fuzz(run_json=file_bytes,
      synthetic=st.integers(0, 3).flatmap(lambda i: st.binary(max_size=200) if i == 0 else st.just(good_csv)),
      rows=st.sampled_from([("synthetic.csv", None), ("synthetic.parquet", None), ("synthetic.parquet", good_parquet)]),
      meta=st.one_of(file_bytes, corrupted(st.fixed_dictionaries({"file": st.sampled_from(
          ["source.csv", "../x", "/etc/hostname", "", ".", "meta.json", "a\x00b", "source.csv/"]),
          "filename": st.sampled_from(["d.csv", "d.parquet", "", "../d.csv"])})).map(lambda v: json.dumps(v).encode())),
      source=st.one_of(st.just(good_csv), st.binary(max_size=200), csv_files().map(lambda f: f[0])),
      session=st.one_of(file_bytes, corrupted(st.fixed_dictionaries({"data_id": st.just(DATA_ID)})).map(
          lambda v: json.dumps(v).encode())))
def test_workspace_reader(fuzz_root, run_json, synthetic, rows, meta, source, session):
    root = fuzz_root
    run, data = root / "runs" / RUN_ID, root / "data" / DATA_ID
    for folder in (run, data):
        folder.mkdir(parents=True, exist_ok=True)
    for old in ("synthetic.csv", "synthetic.parquet"):  # a run keeps its rows one way (Parquet now, CSV before)
        (run / old).unlink(missing_ok=True)
    rows_name, rows_bytes = rows
    for path, content in ((run / "run.json", run_json), (run / rows_name, synthetic if rows_bytes is None else rows_bytes),
                          (data / "meta.json", meta), (data / "source.csv", source), (root / "session.json", session)):
        path.write_bytes(content)
    runs = outcome(workspace.list_runs, root=root)
    assert isinstance(runs, list) and len(runs) <= 1
    outcome(workspace.load_run, RUN_ID, root=root)
    assert isinstance(outcome(workspace.load_session, root=root), dict)
    outcome(workspace.load_data, DATA_ID, root=root)


def test_every_field_of_a_run_record_swapped_for_junk(fuzz_root):
    """Each part of a saved run.json in turn replaced by each special value: the run list skips
    it or shows it, opening it gives the run or one InputError line."""
    effects_ = {"estimates": {e: 0.1 for e in ("tv", "ctf_de", "ctf_ie", "ctf_se", "ett")},
                "ses": {"tv": 0.01}, "quantities": {}, "n": 100, "n0": 50, "n1": 50, "method": "dr"}
    record = {"id": RUN_ID, "created": 1.7e9, "name": "bn", "data_id": DATA_ID, "kinds": {},
              "graph": {"nodes": ["a", "b"], "edges": [["a", "b"]]}, "roles": {"x": "a", "y": "b", "x0": 0, "x1": 1},
              "result": {"settings": {"generator": "bayesnet", "rows": 10, "fairness": {"de": 1.0}},
                         "real_effects": effects_, "synthetic_effects": effects_, "target": {"ctf_de": 0.0},
                         "converged": True, "metrics": {"fidelity": {"quality": 0.9}}}}
    run = fuzz_root / "runs" / RUN_ID
    run.mkdir(parents=True, exist_ok=True)
    (run / "synthetic.csv").write_bytes(good_csv)
    for path, d in every_swap(record):
        (run / "run.json").write_text(json.dumps(d))
        assert isinstance(outcome(workspace.list_runs, root=fuzz_root), list), path
        outcome(workspace.load_run, RUN_ID, root=fuzz_root)


@settings(max_examples=5, derandomize=True, deadline=None, database=None)
@given(run_records())
def test_an_uncorrupted_run_record_reads_back(record):
    """The workspace fuzz starts from records load_run accepts, so its corruptions reach every field."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "runs" / RUN_ID
        run.mkdir(parents=True)
        (run / "run.json").write_text(json.dumps(record))
        (run / "synthetic.csv").write_bytes(good_csv)
        assert workspace.load_run(RUN_ID, root=tmp)["name"] == record["name"]
        assert [r["run_id"] for r in workspace.list_runs(root=tmp)] == [RUN_ID]


globals().update(FULL_COUNT)  # test_*_at_full_count: each fuzzed reader at the full count, marked slow
