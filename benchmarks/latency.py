"""One question at a time, as a chat or a help desk asks: the seconds ``Router.route``
takes on each text. Imported by the benchmarks' measuring subprocesses (encoders.py,
clinc150.py), so that both time single questions the same way."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any


def route_latencies(router: Any, texts: Iterable[str]) -> list[float]:
    """Seconds of ``router.route(text)`` for each text, in order (give distinct texts, or
    the decision cache answers the repeats)."""
    latencies = []
    for text in texts:
        started = time.perf_counter()
        router.route(text)
        latencies.append(time.perf_counter() - started)
    return latencies
