"""Moved to `sorakit.eval.attention` (`sorakit eval attention`); this name keeps old imports and
`python -m sorakit.attention.evaluate` working."""
from ..eval.attention import DAAM_TAU, THRESHOLDS, generated, localization, main, table, tables, teacher_forced

__all__ = ["DAAM_TAU", "THRESHOLDS", "generated", "localization", "main", "table", "tables", "teacher_forced"]

if __name__ == "__main__":
    main()
