"""Fixtures shared across test folders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

#: the duck-identification AMT task in its original long format (answer.csv, truth.csv)
DUCK_ORIG = Path(__file__).resolve().parent / "data" / "crowd_duck_orig"


@pytest.fixture(scope="session")
def answers() -> pd.DataFrame:
    """The duck task's crowd answers: columns question, worker, answer (4,212 rows)."""
    return pd.read_csv(DUCK_ORIG / "answer.csv")


@pytest.fixture(scope="session")
def truth() -> pd.Series:
    """The duck task's truth by question (108 questions, classes 0/1)."""
    return pd.read_csv(DUCK_ORIG / "truth.csv").set_index("question")["truth"]
