"""Progress of a long phase (training, sampling, measuring): one bar per phase.

A phase gets one bar with its true total (resumed work counts from where it resumed), its
rate and ETA, and a postfix for what a person watches (the training loss). On a terminal
the bar is tqdm's; anywhere else (CI logs, files, pipes) it is a plain line at every tenth
of the total and one when the phase ends, so a log holds a dozen readable lines per phase,
not thousands of carriage returns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

#: Plain-line mode writes a line each time the count crosses another tenth of the total.
LINE_STEPS = 10


def format_duration(seconds: float) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above; what tqdm shows, so both modes read alike."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _format_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class Progress:
    """A progress bar for one phase, iterable over ``iterable`` or updated by hand.

    ``for item in Progress(items, desc="fit")`` counts one per item and closes at the end;
    ``with Progress(desc="sample", total=n) as bar: bar.update(k)`` counts by hand, and
    ``bar.track(items)`` counts a sub-loop into the same bar (several batches, one bar).
    ``set_postfix(loss=0.12)`` shows values after the counts.
    """

    def __init__(
        self,
        iterable: Iterable[T] | None = None,
        *,
        desc: str,
        total: int | None = None,
        initial: int = 0,
        stream: TextIO | None = None,
        enabled: bool = True,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = initial + len(iterable)  # type: ignore[arg-type]
        self.iterable, self.desc, self.total, self.initial = iterable, desc, total, initial
        self.n = initial
        self.postfix: dict[str, Any] = {}
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._started = clock()
        self._closed = False
        self._bar = None
        self._lines = False
        if enabled:
            if terminal is None:
                terminal = bool(getattr(self._stream, "isatty", lambda: False)())
            if terminal:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=total, initial=initial, desc=desc, file=self._stream, dynamic_ncols=True, leave=True)
            else:
                self._lines = True

    # -- counting ---------------------------------------------------------------------------
    def update(self, n: int = 1) -> None:
        before, self.n = self.n, self.n + n
        if self._bar is not None:
            self._bar.update(n)
        elif self._lines and self.total:
            step = self.total / LINE_STEPS
            if int(self.n / step) > int(before / step) and self.n < self.total:
                self._write_line()

    def set_postfix(self, **values: Any) -> None:
        """Values shown after the counts (e.g. ``loss=0.1234``), replacing earlier ones of the same name."""
        self.postfix.update(values)
        if self._bar is not None:
            self._bar.set_postfix_str(self._postfix_text(), refresh=False)

    def track(self, iterable: Iterable[T]) -> Iterator[T]:
        """Yield from ``iterable``, counting one per item into this bar (which stays open)."""
        for item in iterable:
            yield item
            self.update(1)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self._lines:
            self._write_line(final=True)

    def __iter__(self) -> Iterator[T]:
        if self.iterable is None:
            raise TypeError(f"progress {self.desc!r} has no iterable; use update() or track()")
        try:
            yield from self.track(self.iterable)
        finally:
            self.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plain lines ------------------------------------------------------------------------
    def _postfix_text(self) -> str:
        return ", ".join(f"{k}={_format_value(v)}" for k, v in self.postfix.items())

    def _write_line(self, final: bool = False) -> None:
        elapsed = self._clock() - self._started
        done = self.n - self.initial
        rate = done / elapsed if elapsed > 0 else None
        parts = [f"{self.desc}: {self.n}/{self.total}" if self.total else f"{self.desc}: {self.n}"]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        if rate:
            parts.append(f"{rate:.3g} it/s")
        if final:
            parts.append(f"took {format_duration(elapsed)}")
        elif rate and self.total:
            parts.append(f"ETA {format_duration((self.total - self.n) / rate)}")
        if self.postfix:
            parts.append(self._postfix_text())
        print(" | ".join(parts), file=self._stream, flush=True)
