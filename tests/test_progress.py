"""Progress: a few plain lines on stderr under `paperlib run` (log mode), a tqdm bar otherwise."""

import pytest
from tqdm.std import tqdm

from paperlib.progress import LOG_LINES, progress, set_log_mode


@pytest.fixture
def log_mode():
    set_log_mode(True)
    yield
    set_log_mode(False)


def lines(capsys) -> list[str]:
    """The lines logged on stderr; nothing may go to stdout (it would land on the page)."""
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.splitlines()


def test_a_loop_logs_a_handful_of_lines_then_the_final_count(log_mode, capsys):
    assert list(progress(range(100), desc="train")) == list(range(100))
    out = lines(capsys)
    assert len(out) == LOG_LINES + 1 and len(set(out)) == len(out)
    assert out[-1] == "train: 100/100"
    counts = [int(line.split(": ")[1].split("/")[0]) for line in out]
    assert counts == sorted(counts) and all(line.startswith("train: ") and "/100" in line for line in out)


def test_lines_show_the_latest_postfix_values(log_mode, capsys):
    bar = progress(range(10), desc="fit")
    for i in bar:
        bar.set_postfix(loss=1 / (i + 1), step=i)
    assert lines(capsys)[-1] == "fit: 10/10 (loss=0.1, step=9)"


def test_context_manager_with_update_ends_on_the_final_count_once(log_mode, capsys):
    with progress(total=10, desc="sweep") as bar:
        for _ in range(10):
            bar.update(1)
    with progress(range(3), desc="both") as bar:  # the loop and the with-block both close it
        for _ in bar:
            pass
    out = lines(capsys)
    assert out.count("sweep: 10/10") == 1 and out.count("both: 3/3") == 1
    assert out == [line for i, line in enumerate(out) if line not in out[:i]]


def test_a_short_loop_logs_every_item_without_repeating_the_last(log_mode, capsys):
    list(progress(range(3), desc="s"))
    assert lines(capsys) == ["s: 1/3", "s: 2/3", "s: 3/3"]


def test_without_a_total_nothing_is_logged(log_mode, capsys):
    assert list(progress(iter("abc"), desc="g")) == ["a", "b", "c"]
    assert lines(capsys) == []


def test_outside_log_mode_a_tqdm_bar_is_drawn_on_stderr(capsys):
    bar = progress(range(5), desc="drawn")
    assert isinstance(bar._bar, tqdm)
    silenced = bar._bar.disable  # CI sets TQDM_DISABLE, which tqdm reads when it is imported
    with bar:
        for _ in bar:
            bar.set_postfix(loss=0.5)
    captured = capsys.readouterr()
    assert captured.out == "" and bar._bar is None
    assert silenced or ("drawn" in captured.err and "5/5" in captured.err)
