"""CPU-heavy work (the IKM chart, report and export files) run off the event loop.

One event loop answers every chat of a process: 200 ms of matplotlib or a year of responses
turned into CSV on it would hold up every other citizen's reply for as long. ``off_the_loop``
runs such work in a small pool of its own threads, apart from the default executor (where
the Bot API transport records accepted calls, bot/webhook/transport.py), so a few reports at once
neither starve those nor each other. The work must only read the database: on SQLite a write
from another thread ends a read-then-write session of the event loop (stale WAL snapshot), so
the caller writes (an audit row) back on the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot.core.db import reads_only

P = ParamSpec("P")
T = TypeVar("T")

# Two at once: on a 2-core office server a third report would only queue behind them.
_REPORTS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="report")


def _reading(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    with reads_only():  # its SQLite transactions stay deferred (bot/core/db.py)
        return fn(*args, **kwargs)


async def off_the_loop(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in a report thread; the caller's event loop runs on meanwhile."""
    context = contextvars.copy_context()  # the update's context (its locale, its journal)
    call = functools.partial(context.run, _reading, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_REPORTS, call)
