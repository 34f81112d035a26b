"""Progress bars: one per phase, its true total, rate, ETA and postfix; plain lines off a terminal."""

from __future__ import annotations

import io

import pytest

from ecgbench.context import RunContext
from ecgbench.progress import Progress, format_duration


class Clock:
    """A clock that moves only when told to, so rates and ETAs are exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_at_every_tenth_show_count_rate_eta_and_postfix():
    stream, clock = io.StringIO(), Clock()
    bar = Progress(desc="fit", total=100, stream=stream, clock=clock)
    for i in range(100):
        clock.now += 0.5  # 2 it/s
        if i == 49:
            bar.set_postfix(loss=0.123456)
        bar.update()
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10  # 10%, ..., 90%, then the closing line
    assert lines[0] == "fit: 10/100 (10%) | 2 it/s | ETA 0:45"
    assert lines[4] == "fit: 50/100 (50%) | 2 it/s | ETA 0:25 | loss=0.1235"
    assert lines[-1] == "fit: 100/100 (100%) | 2 it/s | took 0:50 | loss=0.1235"


def test_a_resumed_phase_counts_from_where_it_resumed_against_the_whole_total():
    stream, clock = io.StringIO(), Clock()
    with Progress(desc="train", total=800, initial=400, stream=stream, clock=clock) as bar:
        for _ in range(400):
            clock.now += 0.25
            bar.update()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("train: 480/800 (60%) | 4 it/s | ETA 1:20")
    assert lines[-1].startswith("train: 800/800 (100%)")


def test_iterating_counts_each_item_takes_the_total_from_its_length_and_closes():
    stream = io.StringIO()
    assert list(Progress(range(20), desc="measure", stream=stream)) == list(range(20))
    assert stream.getvalue().splitlines()[-1].startswith("measure: 20/20 (100%)")


def test_track_counts_several_loops_into_one_bar():
    stream = io.StringIO()
    with Progress(desc="sample", total=6, stream=stream) as bar:
        for _ in range(2):
            for _ in bar.track(range(3)):
                pass
    lines = stream.getvalue().splitlines()
    assert all("/6 " in line for line in lines) and lines[-1].startswith("sample: 6/6 (100%)")


def test_a_phase_that_stops_early_says_where_it_stopped():
    stream = io.StringIO()
    for i in Progress(range(10), desc="early stop", stream=stream):
        if i == 2:  # items 0 and 1 were finished
            break
    assert stream.getvalue().splitlines()[-1].startswith("early stop: 2/10 (20%)")


def test_disabled_progress_writes_nothing():
    stream = io.StringIO()
    assert list(Progress(range(5), desc="quiet", stream=stream, enabled=False)) == list(range(5))
    assert stream.getvalue() == ""


def test_a_terminal_gets_a_tqdm_bar_with_the_postfix():
    stream = io.StringIO()
    with Progress(desc="fit", total=4, stream=stream, terminal=True) as bar:
        bar.update(4)
        bar.set_postfix(loss=0.5)
    text = stream.getvalue()
    assert "\r" in text and "4/4" in text and "loss=0.5" in text


def test_run_context_progress_is_silent_when_quiet(capsys):
    assert list(RunContext(quiet=True).progress(range(3), desc="x")) == [0, 1, 2]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (59.6, "1:00"), (3725, "1:02:05")])
def test_durations_read_like_tqdm(seconds, text):
    assert format_duration(seconds) == text
