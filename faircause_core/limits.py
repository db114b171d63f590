"""Size limits, configurable, with defaults that suit a machine with 16 GB of memory.

The defaults are what was measured to fit in 16 GB here (docs/benchmarks.md, "Scaling with
rows"): 2,000,000 rows x 100 columns (an 811 MB CSV) read in 35 s at 7.5 GB peak and reload
from the workspace's Parquet copy in 5 s; a Bayes-net `generate` of 2,000,000 rows in the
figures there. An installation with more or less memory sets them in the environment before
starting the CLI or the app: FAIRCAUSE_MAX_ROWS, FAIRCAUSE_MAX_COLUMNS, FAIRCAUSE_MAX_FILE_MB
(the app's uploads are also capped by Streamlit's server.maxUploadSize, equal to the file limit
in .streamlit/config.toml). A bad value keeps the defaults and is said as one line (ENV_ERROR)
by the CLI and the data page, before any file is read.
"""

import math
import os
from dataclasses import dataclass, replace

from faircause_core.errors import InputError


@dataclass(frozen=True)
class Limits:
    max_rows: int = 2_000_000
    max_columns: int = 100
    max_file_mb: float = 1024.0
    min_group_size: int = 20
    max_categories: int = 50


#: The environment variable for each configurable limit, and its type.
ENV = {"max_rows": ("FAIRCAUSE_MAX_ROWS", int), "max_columns": ("FAIRCAUSE_MAX_COLUMNS", int),
       "max_file_mb": ("FAIRCAUSE_MAX_FILE_MB", float)}


def from_environment(environ=None, base: Limits = Limits()) -> Limits:
    """`base` with every limit set in the environment; InputError naming the variable for a
    value that is not a positive number (a whole one for rows and columns)."""
    environ = os.environ if environ is None else environ
    changes = {}
    for field, (name, kind) in ENV.items():
        text = str(environ.get(name) or "").strip().replace("_", "").replace(",", "")
        if not text:
            continue
        try:
            value = kind(text)
        except ValueError:
            raise InputError(f"{name}={environ.get(name)!r} is not a {'whole ' if kind is int else ''}number") from None
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{name}={environ.get(name)!r} must be above 0")
        changes[field] = value
    return replace(base, **changes)


try:
    DEFAULT_LIMITS = from_environment()
    ENV_ERROR = ""
except InputError as _err:
    DEFAULT_LIMITS, ENV_ERROR = Limits(), str(_err)
