"""Times the staff console's pages with 100,000 applications and 10,000 complaints in
PostgreSQL (target: p95 under 300 ms), over HTTP to the console served by uvicorn; with them
20,000 logged unanswered questions asked 200,000 times, and ten weeks of queue bookings.

Usage: python bench/console.py [--applications N] [--complaints N] [--requests N] [--url ...]
Creates a scratch database next to the given one, fills it with INSERT ... SELECT
generate_series, signs in as an admin, an officer and a supervisor, and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_application, build_runtime  # noqa: E402
from bot.applications.tracking import new_tracking_number  # noqa: E402
from bot.console import auth  # noqa: E402
from bot.console.serving import ConsoleServer  # noqa: E402
from bot.core.config import PROJECT_ROOT, load_settings  # noqa: E402
from bot.core.models import Staff  # noqa: E402

ADMIN, OFFICER, SUPERVISOR = 1, 200, 300


def fill(url: str, services: list[str], applications: int, complaints: int) -> None:
    engine = create_engine(url)
    svc = "ARRAY[" + ",".join(f"'{s}'" for s in services) + "]"
    with engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO applications (id, tracking_number, service_id, applicant_name,
                verification_code, status, received_at, due_at, closed_at, updated_at)
            SELECT g, 'B' || lpad(g::text, 9, '0'),
                ({svc})[1 + g % {len(services)}],
                (ARRAY['Sari','Budi','Dewi','Agus','Rina','Joko','Wati','Eko'])[1 + g % 8]
                    || ' ' || (ARRAY['Wulandari','Santoso','Lestari','Saputra','Hidayat',
                    'Pratama','Kusuma','Nugroho'])[1 + (g / 8) % 8] || ' ' || g,
                '000000',
                (ARRAY['received','in_verification','in_process','ready_for_pickup',
                       'completed','completed','completed','rejected'])[1 + g % 8],
                now() - (g % 400) * interval '1 day',
                now() - (g % 400) * interval '1 day' + interval '5 days',
                CASE WHEN g % 8 IN (4, 5, 6, 7) THEN now() - (g % 400) * interval '1 day'
                    + interval '3 days' END,
                now() - (g % 400) * interval '1 day'
            FROM generate_series(1, :n) AS g
        """), {"n": applications})
        conn.execute(text("""
            INSERT INTO application_events (application_id, status, source, at)
            SELECT id, 'received', 'telegram', received_at FROM applications
        """))
        conn.execute(text("""
            INSERT INTO complaints (id, ticket, complainant_id, complainant_name, category,
                description, privacy, priority, status, unit, reopen_count, received_at,
                verify_due, response_due, resolve_due, updated_at)
            SELECT g, 'ADU-' || lpad(g::text, 6, '0'), 100000 + g, 'Warga ' || g,
                'pelayanan', 'Antrean terlalu lama dan petugas tidak ramah, nomor ' || g,
                (ARRAY['named','anonymous','confidential'])[1 + g % 3], 1 + g % 3,
                (ARRAY['received','verified','assigned','in_progress','resolved','closed'])
                    [1 + g % 6],
                (ARRAY['kependudukan','imigrasi-kepolisian','kesehatan',
                       'usaha-perizinan'])[1 + g % 4],
                0, now() - (g % 200) * interval '1 day',
                now() - (g % 200) * interval '1 day' + interval '3 days',
                now() - (g % 200) * interval '1 day' + interval '5 days',
                now() - (g % 200) * interval '1 day' + interval '14 days',
                now() - (g % 200) * interval '1 day'
            FROM generate_series(1, :n) AS g
        """), {"n": complaints})
        # Survey answers for the index pages: one in five completed applications.
        answers = ", ".join(f"u{n}" for n in range(1, 10))
        values = ", ".join("1 + floor(power(random(), 0.6) * 3.999)::smallint" for _ in range(9))
        conn.execute(text("""
            INSERT INTO survey_invitations (id, transaction_key, origin, application_id,
                user_id, service_id, unit, status, due_at, created_at)
            SELECT id, 'application:' || id, 'application', id, 200000 + id, service_id,
                NULL, 'answered', closed_at, closed_at
            FROM applications WHERE status = 'completed' AND id % 5 = 0
        """))
        conn.execute(text(f"""
            INSERT INTO survey_responses (id, invitation_id, service_id, unit, {answers}, step,
                started_at, completed_at, finished_at)
            SELECT id, id, service_id, NULL, {values}, 'done', due_at, due_at, due_at
            FROM survey_invitations
        """))
        for table in ("applications", "application_events", "complaints", "survey_invitations",
                      "survey_responses"):
            conn.execute(text(f"ANALYZE {table}"))
    engine.dispose()


def fill_questions_and_queue(url: str, services: list[str], bookable: list[str],
                             questions: int, asks: int) -> None:
    """The unanswered questions' log (a fifth office-wide) and who asked them over 90 days;
    two bookings in every half-hour slot of every bookable service, 60 days back and 10 ahead
    (past ones served, one in five a no-show)."""
    engine = create_engine(url)
    svc = "ARRAY[" + ",".join(f"'{s}'" for s in services) + "]"
    booked = "ARRAY[" + ",".join(f"'{s}'" for s in bookable) + "]"
    with engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO unanswered_questions (id, key, text, locale, service_id, count,
                rated_down, first_at, last_at)
            SELECT g, md5(g::text) || md5((g + 1)::text),
                'pertanyaan nomor ' || g || ' tentang layanan kantor', 'id',
                CASE WHEN g % 5 = 0 THEN NULL ELSE ({svc})[1 + g % {len(services)}] END,
                10, g % 3, now() - (g % 90) * interval '1 day',
                now() - (g % 30) * interval '1 day'
            FROM generate_series(1, :n) AS g
        """), {"n": questions})
        conn.execute(text("""
            INSERT INTO question_asks (user_id, chat_id, locale, text, understood, question_id,
                asked_at)
            SELECT 400000 + g, 400000 + g, 'id', 'pertanyaan', false, 1 + (g * 7919) % :q,
                now() - (g % 90) * interval '1 day'
            FROM generate_series(1, :n) AS g
        """), {"n": asks, "q": questions})
        conn.execute(text(f"""
            INSERT INTO queue_bookings (code, user_id, language, service_id, kind, day, start,
                slot_at, priority, seat, status, returned, created_at, checked_in_at,
                called_at, done_at, reminded_evening, reminded_morning, near_told)
            SELECT 'Q' || lpad((row_number() OVER ())::text, 7, '0'),
                500000 + row_number() OVER (), 'id', s, 'booked', d::date,
                to_char(time '08:00' + make_interval(mins => 30 * k), 'HH24\\:MI'),
                d + make_interval(mins => 480 + 30 * k) - interval '7 hours', n = 1,
                CASE WHEN n = 1 THEN 'priority' ELSE 'regular' END,
                CASE WHEN d >= current_date THEN 'booked'
                     WHEN (k + n) % 5 = 0 THEN 'booked' ELSE 'done' END,
                false, d - interval '2 days',
                CASE WHEN d < current_date AND (k + n) % 5 <> 0
                     THEN d + make_interval(mins => 475 + 30 * k) - interval '7 hours' END,
                CASE WHEN d < current_date AND (k + n) % 5 <> 0
                     THEN d + make_interval(mins => 485 + 30 * k + 7 * n) - interval '7 hours'
                END,
                CASE WHEN d < current_date AND (k + n) % 5 <> 0
                     THEN d + make_interval(mins => 492 + 30 * k + 7 * n) - interval '7 hours'
                END,
                true, true, false
            FROM generate_series(current_date - 60, current_date + 10, interval '1 day') AS d,
                unnest({booked}) AS s, generate_series(0, 12) AS k, generate_series(0, 1) AS n
        """))
        conn.execute(text("""
            INSERT INTO queue_slots (service_id, day, start, taken_regular, taken_priority,
                closed)
            SELECT service_id, day, start, count(*) FILTER (WHERE NOT priority),
                count(*) FILTER (WHERE priority), false
            FROM queue_bookings GROUP BY service_id, day, start
        """))
        for table in ("unanswered_questions", "question_asks", "queue_bookings", "queue_slots"):
            conn.execute(text(f"ANALYZE {table}"))
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(client: httpx.Client, label: str, requests: int, call) -> None:  # noqa: ANN001
    call()  # warm: templates compiled, plans cached
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            raise SystemExit(f"{label}: HTTP {response.status_code}")
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"{label:<44} p50 {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--complaints", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=20_000)
    parser.add_argument("--asks", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--url", default=os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    name = f"servicebot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.url.rsplit("/", 1)[0] + f"/{name}"
    port = free_port()
    server = None
    try:
        settings = load_settings(
            database_url=url, telegram_bot_token="123:bench", admin_ids=[ADMIN], port=port,
            knowledge_dir=PROJECT_ROOT / "knowledge", _env_file=None,
        )
        rt = build_runtime(settings)
        services = sorted(rt.knowledge.services)
        started = time.perf_counter()
        fill(url, services, args.applications, args.complaints)
        fill_questions_and_queue(url, services, list(rt.knowledge.office.queue.services),
                                 args.questions, args.asks)
        print(f"generated {args.applications:,} applications, {args.complaints:,} complaints, "
              f"{args.questions:,} unanswered questions asked {args.asks:,} times and ten weeks "
              f"of bookings in {time.perf_counter() - started:.1f} s")
        # Real tracking numbers (with their check character) on a few rows, to open and search.
        numbers = [new_tracking_number() for _ in range(20)]
        with rt.db.session() as s:
            for row_id, tracking in enumerate(numbers, start=1):
                s.exec(text("UPDATE applications SET tracking_number = :t WHERE id = :i")
                       .bindparams(t=tracking, i=row_id))
        with rt.db.session() as s:
            s.add(Staff(telegram_id=OFFICER, role="officer", unit="kependudukan"))
            s.add(Staff(telegram_id=SUPERVISOR, role="supervisor", unit="kependudukan"))
        tokens = {}
        for who in (ADMIN, OFFICER, SUPERVISOR):
            with rt.db.session() as s:
                link = auth.issue_link(s, rt, who)
            with rt.db.session() as s:
                tokens[who] = auth.redeem_link(s, rt, link.rsplit("/", 1)[1])
        build_application(rt)  # the features register their pages
        server = ConsoleServer(rt)
        server.start()
        while not server.server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        clients = {
            who: httpx.Client(base_url=base, cookies={auth.COOKIE: token}, timeout=30)
            for who, token in tokens.items()
        }
        public = httpx.Client(base_url=base, timeout=30)
        officer, supervisor, boss = clients[OFFICER], clients[SUPERVISOR], clients[ADMIN]
        n = args.requests
        number = numbers[0]
        print(f"{n} requests each, one at a time, after one warm-up request")
        measure(boss, "home (admin)", n, lambda: boss.get("/console/"))
        measure(boss, "applications, newest first (admin)", n,
                lambda: boss.get("/console/applications"))
        measure(boss, "applications, page 100 (admin)", n,
                lambda: boss.get("/console/applications?page=100"))
        measure(officer, "applications of the unit, by status", n,
                lambda: officer.get("/console/applications?status=in_process"))
        measure(boss, "search by name", n,
                lambda: boss.get("/console/applications?q=wulandari"))
        measure(boss, "search by number", n,
                lambda: boss.get(f"/console/applications?q={number}"))
        measure(boss, "one application", n, lambda: boss.get(f"/console/applications/{number}"))
        measure(boss, "complaint queue (admin, all units)", n,
                lambda: boss.get("/console/complaints"))
        measure(officer, "complaint queue (officer, one unit)", n,
                lambda: officer.get("/console/complaints"))
        measure(boss, "one complaint", n, lambda: boss.get("/console/complaints/4"))
        measure(supervisor, "satisfaction index, unit, quarter", n,
                lambda: supervisor.get("/console/ikm"))
        measure(boss, "satisfaction index, office, year", n,
                lambda: boss.get("/console/ikm?period=year"))
        measure(public, "public /ikm (year)", n, lambda: public.get("/ikm"))
        measure(officer, "unanswered questions, unit, 30 days", n,
                lambda: officer.get("/console/unanswered"))
        measure(boss, "unanswered questions, office, a year", n,
                lambda: boss.get("/console/unanswered?days=365"))
        measure(supervisor, "one unanswered question (its forms)", n,
                lambda: supervisor.get("/console/unanswered/10"))
        measure(boss, "queue, today, every service (admin)", n,
                lambda: boss.get("/console/queue"))
        measure(officer, "queue, a past day, the unit (officer)", n,
                lambda: officer.get(f"/console/queue?day={date.today() - timedelta(days=7)}"))
        for client in (*clients.values(), public):
            client.close()
    finally:
        if server is not None:
            server.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
