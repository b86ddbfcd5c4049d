"""Which paintings the course may show, and where each shown one comes from.

A figure, notebook output or README image may show a painting only if its painter died in 1926 or
earlier (public domain in the US and in life+70 countries). The list of such painters, each with year
of death and a source, is `data/real-sample/painters.csv`; a painter not on it is treated as not
showable. Every figure that shows paintings leaves `<figure>.provenance.csv` beside it (written by
`plots.image_grid(..., paintings=rows)`), which `tests/test_public_domain.py` checks.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

LAST_DEATH_YEAR = 1926
PAINTERS_CSV = Path(__file__).resolve().parents[1] / "data" / "real-sample" / "painters.csv"
COLUMNS = ["path", "painter", "death_year", "source"]


@lru_cache(maxsize=None)
def painters(csv: str | Path = PAINTERS_CSV) -> pd.DataFrame:
    """painter slug -> death_year, source (the vetted list; one row per painter)."""
    table = pd.read_csv(csv, dtype={"painter": str, "source": str})
    return table.set_index("painter")


def showable(rows: pd.DataFrame) -> pd.Series:
    """True for rows (with a `painter` column) whose painter died in LAST_DEATH_YEAR or earlier."""
    known = painters()
    years = rows["painter"].map(known["death_year"])
    return years.notna() & (years <= LAST_DEATH_YEAR)


def record(rows: pd.DataFrame) -> pd.DataFrame:
    """The provenance of the paintings a figure shows: path, painter, death year, source.

    Refuses (one-line ValueError) when a painter is not known to have died by LAST_DEATH_YEAR, so that
    a figure showing such a painting is never written."""
    bad = rows.loc[~showable(rows), "painter"].unique().tolist()
    if bad:
        raise ValueError(f"not shown: {len(bad)} painter(s) not known to have died by {LAST_DEATH_YEAR} "
                         f"({', '.join(map(str, bad[:3]))}); choose rows with provenance.showable()")
    known = painters()
    out = rows[["path", "painter"]].reset_index(drop=True).copy()
    out["death_year"] = out["painter"].map(known["death_year"]).astype(int)
    out["source"] = out["painter"].map(known["source"])
    return out[COLUMNS]


def record_path(figure: str | Path) -> Path:
    """Where a figure's provenance record lives: `x.png` -> `x.provenance.csv`."""
    figure = Path(figure)
    return figure.with_name(figure.stem + ".provenance.csv")
