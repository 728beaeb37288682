"""`_parallel`: ordered results on worker processes, lazy inputs, progress reports."""

import pytest

from labelmill._parallel import ordered_map, resolve_n_jobs


def _square_after(i, delay):
    import time

    time.sleep(delay)
    return i * i


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_results_keep_the_input_order_and_report_each_item(n_jobs):
    consumed = []

    def args():
        for i in range(6):
            consumed.append(i)
            # later items finish first on two workers: order must still be kept
            yield i, 0.05 * (6 - i) if n_jobs > 1 else 0.0

    reports = []
    out = ordered_map(_square_after, args(), n_jobs=n_jobs, progress=lambda *r: reports.append(r),
                      desc="squares", total=6)
    assert out == [0, 1, 4, 9, 16, 25]
    assert consumed == list(range(6))
    assert reports == [("squares", d, 6) for d in range(7)]


def test_a_tqdm_bar_and_no_progress_give_the_same_results():
    assert ordered_map(_square_after, [(3, 0.0)], progress=True, total=1) == [9]
    assert ordered_map(_square_after, [], n_jobs=2) == []


def test_n_jobs_resolution():
    cores = resolve_n_jobs(None)
    assert cores >= 1
    assert resolve_n_jobs(-1) == cores
    assert resolve_n_jobs(-cores - 5) == 1
    assert resolve_n_jobs(3) == 3
    with pytest.raises(ValueError, match="n_jobs must be a positive number"):
        resolve_n_jobs(0)


def _fail_on_two(i):
    if i == 2:
        raise ValueError(f"item {i} is bad")
    return i


def test_a_worker_error_reaches_the_caller():
    with pytest.raises(ValueError, match="item 2 is bad"):
        ordered_map(_fail_on_two, [(1,), (2,), (3,)], n_jobs=2)
