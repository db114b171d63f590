"""Reading a wide table (issue 22 item 1): time and peak memory to a typed Table, by path.

The table is bench_scale.py's seeded n x 100 CSV (60 measurements with 1 decimal, 30 integer
codes, 10 text categories). Each (size, way) runs in a fresh process, so its peak resident
memory (ru_maxrss) is that way's alone, the interpreter and imports included:

- base: load_table as it was before pyarrow read CSVs (the code of commit --base, unpacked
  with git archive into bench/out/read_base/; pandas' parser and the old typing);
- pandas: load_table now with the pyarrow path switched off (data.ARROW_MIN_BYTES out of reach);
- arrow: load_table now (pyarrow splits the file: over 1 MB and no quotes);
- first_load: workspace.save_data + load_data in a fresh workspace: the parse plus writing the
  typed Parquet copy;
- reload: workspace.load_data again (another process): the source's hash checked, the Parquet
  copy read, no parsing.

    .venv/bin/python bench/bench_read.py [--sizes 100000,1000000] [--ways base,pandas,arrow,first_load,reload]
        [--base bce7ffc] [--out bench/out/read.json]

Prints one line per (size, way) with the 1-minute load average when it started (the machine is
shared) and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
BASE_DIR = OUT / "read_base"

from bench.bench_scale import args_or_one, in_fresh_process, wide_csv_for  # noqa: E402  (after the path)


def one(way: str, n: int) -> dict:
    """One way at one size, in this (fresh) process."""
    path = wide_csv_for(n)
    if way == "base":
        sys.path.insert(0, str(BASE_DIR))
        for name in [m for m in sys.modules if m == "faircause_core" or m.startswith("faircause_core.")]:
            del sys.modules[name]
    from faircause_core.io import data
    from faircause_core.limits import Limits
    from faircause_core.workflow import workspace

    assert way != "base" or str(BASE_DIR) in data.__file__, data.__file__
    limits = Limits(max_rows=2_000_000, max_file_mb=2_000.0)
    out = {"mb": round(path.stat().st_size / 2**20, 1)}
    t = time.perf_counter()
    if way in ("base", "pandas", "arrow"):
        if way == "pandas":
            data.ARROW_MIN_BYTES = 1 << 62
        table = data.load_table(path, limits=limits)
    else:
        ws = OUT / f"read_ws_{n}"
        data.DEFAULT_LIMITS = limits  # what FAIRCAUSE_MAX_ROWS / _FILE_MB would set
        if way == "first_load":
            shutil.rmtree(ws, ignore_errors=True)
            data_id = workspace.save_data(path.read_bytes(), path.name, root=ws)
        else:
            data_id = next(p.name for p in (ws / "data").iterdir())
            assert (ws / "data" / data_id / "table.parquet").is_file()
            data.load_table = None  # a reload that parsed would fail here
        t = time.perf_counter() if way == "reload" else t
        table = workspace.load_data(data_id, root=ws)
        out["parquet_mb"] = round((ws / "data" / data_id / "table.parquet").stat().st_size / 2**20, 1)
    out["read_s"] = round(time.perf_counter() - t, 2)
    out["shape"] = list(table.df.shape)
    out["frame_mb"] = round(float(table.df.memory_usage(deep=True).sum() / 2**20))
    out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--ways", default="base,pandas,arrow,first_load,reload")
    ap.add_argument("--base", default="bce7ffc", help="the commit before pyarrow read CSVs")
    ap.add_argument("--out", default=str(OUT / "read.json"))
    args = args_or_one(ap, one, "WAY")
    ways = args.ways.split(",")
    if "base" in ways:
        shutil.rmtree(BASE_DIR, ignore_errors=True)
        BASE_DIR.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base, "faircause_core"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(BASE_DIR)], input=archive, check=True)

    rows = []
    env = dict(os.environ, PYTHONHASHSEED="0")
    for n in (int(s) for s in args.sizes.split(",")):
        wide_csv_for(n)
        for way in ways:
            row = in_fresh_process(__file__, "way", way, n, env)
            if way == "base":
                row["base"] = args.base
            rows.append(row)
            print(json.dumps(row), flush=True)
            Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
