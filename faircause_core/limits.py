"""Size limits, configurable, with defaults that suit a laptop."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_rows: int = 200_000
    max_columns: int = 100
    max_file_mb: float = 200.0
    min_group_size: int = 20
    max_categories: int = 50


DEFAULT_LIMITS = Limits()
