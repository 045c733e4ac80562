"""The queue in the console: a day's bookings per slot (seats, taken, priority, closed), the
day's no-shows, walk-ins and waits per service, and closing slots.

The figures are the chat's /statistik (bot.queue.reports), closing is its /tutup
(bot.queue.closures: the booked are told through the outbox with a button to move, and it is
audited). Officers see their unit's services; only supervisors and admins close, a supervisor
of a unit only that unit's services.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from bot.console.applications_views import services_in_scope
from bot.console.pages import Page, staff_page
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.queue import closures, rendering, reports
from bot.queue.service import QueueError, config_of, local_today

CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
NEAR_DAYS = 92  # how far from today a day may be chosen, either way


def _minutes(tr: Translator, value: float | None) -> str:
    if value is None:
        return "-"
    text = f"{value:.1f}"
    return text.replace(".", ",") if tr.locale == "id" else text


def _day(rt: Runtime, text: str | None) -> date:
    today = local_today(rt, rt.now())
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return today
    return day if abs((day - today).days) <= NEAR_DAYS else today


def _slot_end(rt: Runtime, start: str) -> str:
    return rendering.slot_label(rt, start).split("-", 1)[1]


def routes(rt: Runtime) -> list[Route]:
    officer = staff_page(rt)
    supervisor = staff_page(rt, "supervisor")

    def bookable(p: Page) -> list[str]:
        """The bookable services this person sees, in office.yaml's order."""
        config = config_of(rt)
        if config is None:
            return []
        scope = services_in_scope(rt, p.principal)
        return [sid for sid in config.services if scope is None or sid in scope]

    def _page(p: Page, day: date, service: str = "", **extra: Any) -> Response:
        tr = p.tr
        services = bookable(p)
        shown = service or p.query.get("service") or ""
        if shown and shown not in services:
            shown = ""
        chosen = [shown] if shown else services
        today = local_today(rt, rt.now())
        with rt.db.session() as session:
            figures = [row for row in reports.build(session, start=day, end=day, today=today)
                       if row.service_id in chosen]
            slots = reports.day_slots(session, rt, day, chosen)
        name = lambda sid: rendering.service_name(rt, sid, tr.locale)  # noqa: E731
        rows = []
        for row in figures:
            f = row.figures()
            rows.append({
                "name": name(row.service_id), **f,
                "wait_avg": _minutes(tr, f["wait_avg_min"]),
                "wait_p90": _minutes(tr, f["wait_p90_min"]),
                "service_avg": _minutes(tr, f["service_avg_min"]),
                "service_p90": _minutes(tr, f["service_p90_min"]),
            })
        return p.render(
            "queue.html", day=day, today=today, day_label=rendering.day_label(tr, day),
            previous=(day - timedelta(days=1)).isoformat(),
            following=(day + timedelta(days=1)).isoformat(),
            services=[(sid, name(sid)) for sid in services], service=shown,
            configured=config_of(rt) is not None, figures=rows,
            slots=[(s, name(s.service_id), rendering.slot_label(rt, s.start),
                    _slot_end(rt, s.start)) for s in slots],
            can_close=p.principal.is_supervisor and day >= today,
            **extra,
        )

    @officer
    def day_page(p: Page) -> Response:
        closed = p.query.get("closed", "")
        done = None
        if re.fullmatch(r"\d{1,5}:\d{1,6}", closed):
            slots, told = (int(n) for n in closed.split(":"))
            done = p.tr.gettext("Closed {slots} slots. {told} booked citizens are being told, "
                                "with a button to move.").format(slots=slots, told=told)
        return _page(p, _day(rt, p.query.get("day")), done=done)

    @supervisor
    def close(p: Page) -> Response:
        """First a confirmation with how many booked citizens will be told; then the closing."""
        tr = p.tr
        form = p.form
        day = _day(rt, form.get("day"))
        start = form.get("start") or None
        end = form.get("end") or None
        service = form.get("service") or ""
        services = bookable(p)
        if service and service not in services:
            return p.forbidden()
        # A supervisor of a unit closing "every service" closes that unit's services.
        targets: list[str | None] = [service] if service else (
            [None] if services_in_scope(rt, p.principal) is None else list(services))
        problem = None
        if any(t is not None and not CLOCK.match(t) for t in (start, end)):
            problem = tr.gettext("Write the times as 10:00.")
        elif start and end and end <= start:
            problem = tr.gettext("The end must come after the start.")
        elif not targets:
            problem = tr.gettext("This office does not take bookings in the chat.")
        if problem is not None:
            return _page(p, day, error=problem, service=service, http_status=422)
        confirmed = form.get("confirm") == "1"
        slots = told = 0
        try:
            with rt.db.session() as session:
                for target in targets:
                    if confirmed:
                        n, m = closures.close(session, rt, day=day, start=start, end=end,
                                              service_id=target,
                                              actor_id=p.principal.telegram_id, now=rt.now())
                    else:
                        n, m = closures.preview(session, rt, day=day, start=start, end=end,
                                                service_id=target, now=rt.now())
                    slots, told = slots + n, told + m
        except QueueError as exc:
            return _page(p, day, error=tr.gettext(exc.msgid).format(**exc.values),
                         service=service, http_status=422)
        if confirmed:
            return p.redirect(f"/console/queue?day={day.isoformat()}&closed={slots}:{told}"
                              + (f"&service={service}" if service else ""))
        what = rendering.service_name(rt, service, tr.locale) if service else (
            tr.gettext("every service") if services_in_scope(rt, p.principal) is None
            else tr.gettext("every service of unit {unit}").format(unit=p.principal.unit))
        if start and end:
            when = f"{start}-{end}"
        elif start:
            when = tr.gettext("from {time}").format(time=start)
        elif end:
            when = tr.gettext("until {time}").format(time=end)
        else:
            when = tr.gettext("the whole day")
        return p.render("queue_close.html", day=day, day_label=rendering.day_label(tr, day),
                        start=start or "", end=end or "", service=service, what=what,
                        when=when, slots=slots, told=told)

    return [
        Route("/console/queue", day_page, methods=["GET"]),
        Route("/console/queue/close", close, methods=["POST"]),
    ]
