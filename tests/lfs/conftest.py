
import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own vote cache folder (never the cwd)."""
    monkeypatch.setenv("LABELMILL_CACHE_DIR", str(tmp_path / "lm_cache"))
    yield
