"""Data loading: WRENCH-format folders and the bundled demo data."""

from .wrench import Dataset, Split, demo_path, load_demo, load_wrench

__all__ = ["Dataset", "Split", "load_wrench", "load_demo", "demo_path"]
