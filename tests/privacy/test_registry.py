"""Personal data (UU 27/2022): export, erasure and retention of every kind, masks and the audit
export."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlmodel import select

from bot.applications.models import Application, ApplicationFollower, LookupFailure
from bot.complaints.models import Complaint, ComplaintMessage
from bot.core.models import AuditEntry, ConversationState, Staff, User
from bot.outbox.models import OutboxMessage
from bot.outbox.store import enqueue
from bot.people.conversations import set_state
from bot.people.roles import audit
from bot.people.users import user_language
from bot.privacy.masking import mask_nik, mask_phone
from bot.privacy.registry import (
    apply_retention,
    audit_csv,
    erase_personal_data,
    export_personal_data,
)
from bot.surveys.models import SurveyInvitation, SurveyResponse
from bot.webhook.store import (
    take_update,
    write_answer,
)
from tests.support.moments import NOON

# --- personal data ------------------------------------------------------------------------


def _citizen_with_data(db, telegram_id: int = 42) -> None:  # noqa: ANN001
    assert user_language(db, telegram_id=telegram_id, language_code="en") == "en"
    with db.session() as s:
        set_state(s, chat_id=telegram_id, user_id=telegram_id, flow="demo", step="name",
                  data={"name": "Sari"})
        enqueue(s, chat_id=telegram_id, text="Your KTP is ready")
        enqueue(s, chat_id=43, text="someone else's")
        audit(s, actor_id=7, action="application.updated", subject="AB12")
    # The last message of a recent update, kept for a redelivery (bot/webhook/journal.py); one to a
    # supergroup, whose id does not fit 32 bits.
    for update_id, chat_id in ((telegram_id * 1000, telegram_id), (telegram_id * 1000 + 1, 43),
                               (telegram_id * 1000 + 2, -1001234567890)):
        take_update(db, update_id, {"update_id": update_id})
        write_answer(db, update_id, {}, {"method": "sendMessage", "chat_id": chat_id,
                                         "text": f"Halo {chat_id}"})


def test_export_holds_everything_about_the_person_and_nothing_else(db):
    _citizen_with_data(db)
    with db.session() as s:
        doc = export_personal_data(s, 42, now=NOON)
    assert doc["telegram_id"] == 42
    assert doc["exported_at"] == NOON.isoformat()
    assert doc["profile"]["profile"]["language"] == "en"
    assert doc["profile"]["staff_role"] is None
    assert doc["conversations"]["items"][0]["data"] == {"name": "Sari"}
    assert [m["text"] for m in doc["messages"]["items"]] == ["Your KTP is ready"]
    assert doc["staff_actions"]["items"] == []
    assert doc["recent_answers"]["items"] == [{"text": "Halo 42"}]


def test_erasure_removes_the_person_keeps_others_and_staff_records(db):
    _citizen_with_data(db)
    _citizen_with_data(db, telegram_id=7)
    with db.session() as s:
        s.add(Staff(telegram_id=7, role="officer"))
        audit(s, actor_id=42, action="complaint.filed", subject="ADU00001")
    with db.session() as s:
        citizen_report = erase_personal_data(s, 42)
        officer_report = erase_personal_data(s, 7)
    assert citizen_report[0] == "Your profile (language, first contact) was deleted."
    assert any("staff role is kept" in line for line in officer_report)
    assert any("actions you took as office staff is kept" in line for line in officer_report)
    with db.session() as s:
        assert s.get(User, 42) is None
        assert s.get(Staff, 7) is not None
        assert s.exec(select(ConversationState)).all() == []
        assert [m.chat_id for m in s.exec(select(OutboxMessage)).all()] == [43, 43]
        entries = s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
        # The officer's actions stay theirs; the citizen's own step stays, without them.
        assert [(a.actor_id, a.action) for a in entries] == [
            (7, "application.updated"), (7, "application.updated"), (None, "complaint.filed")
        ]
        assert export_personal_data(s, 42)["profile"]["profile"] is None
        assert export_personal_data(s, 42)["recent_answers"]["items"] == []
        assert export_personal_data(s, 43)["recent_answers"]["items"] == [
            {"text": "Halo 43"}, {"text": "Halo 43"}
        ]
        big = 7_123_456_789  # new Telegram users' ids pass 2**31
        assert export_personal_data(s, big)["recent_answers"]["items"] == []


def test_masks_for_officers():
    assert mask_nik("3171 0123 4567 8901") == "3171********8901"
    assert mask_nik("12345") == "*****"
    assert mask_phone("0812-3456-7890") == "0812*****890"
    assert mask_phone("+6281234567890") == "+628*******890"


def test_retention_with_zero_days_keeps_everything(db):
    with db.session() as s:
        assert apply_retention(s, {"applications": 0, "complaints": 0, "surveys": 0}) == {}


def test_audit_csv_lists_every_action_since(db):
    with db.session() as s:
        s.add(AuditEntry(actor_id=1, action="old", at=NOON - timedelta(days=40)))
        audit(s, actor_id=2, action="officer.added", subject="user:5", role="officer")
    with db.session() as s:
        rows = list(csv.reader(io.StringIO(audit_csv(s, since=NOON - timedelta(days=30)))))
        every = list(csv.reader(io.StringIO(audit_csv(s))))
    assert rows[0] == ["id", "at", "actor_id", "api_token", "action", "subject", "detail"]
    assert [r[2:] for r in rows[1:]] == [
        ["2", "", "officer.added", "user:5", '{"role": "officer"}']
    ]
    assert [r[4] for r in every[1:]] == ["old", "officer.added"]



def _application(s, number: str, *, closed_at=None) -> Application:  # noqa: ANN001
    row = Application(
        tracking_number=number, service_id="ktp-el", applicant_name="Sari Dewi",
        phone="081234567890", verification_code="123456", due_at=NOON, closed_at=closed_at,
        status="completed" if closed_at else "received",
    )
    s.add(row)
    s.flush()
    return row


def test_applications_followed_are_exported_and_unfollowed_on_erasure(db):
    user_language(db, telegram_id=42, language_code="id")
    with db.session() as s:
        mine = _application(s, "AB12CD34")
        s.add(ApplicationFollower(application_id=mine.id, user_id=42))
        s.add(ApplicationFollower(application_id=mine.id, user_id=43))
        s.add(LookupFailure(user_id=42))
    with db.session() as s:
        doc = export_personal_data(s, 42)
        assert [f["tracking_number"] for f in doc["applications"]["following"]] == ["AB12CD34"]
        assert "Sari Dewi" not in json.dumps(doc)
        assert len(doc["applications"]["wrong_code_attempts"]) == 1
        report = erase_personal_data(s, 42)
    assert any(line.startswith("You no longer follow any application") for line in report)
    with db.session() as s:
        assert [f.user_id for f in s.exec(select(ApplicationFollower)).all()] == [43]
        assert s.exec(select(LookupFailure)).all() == []
        assert s.exec(select(Application)).one().applicant_name == "Sari Dewi"


def test_retention_anonymises_applications_closed_long_ago(db):
    with db.session() as s:
        old = _application(s, "OLD00001", closed_at=NOON - timedelta(days=800))
        _application(s, "NEW00001", closed_at=NOON - timedelta(days=10))
        _application(s, "OPEN0001")
        s.add(ApplicationFollower(application_id=old.id, user_id=42))
    with db.session() as s:
        done = apply_retention(s, {"applications": 730, "complaints": 0, "surveys": 0}, now=NOON)
    assert done == {"applications": 1}
    with db.session() as s:
        rows = {a.tracking_number: (a.applicant_name, a.phone)
                for a in s.exec(select(Application)).all()}
        assert rows == {
            "OLD00001": ("-", None),
            "NEW00001": ("Sari Dewi", "081234567890"),
            "OPEN0001": ("Sari Dewi", "081234567890"),
        }
        assert s.exec(select(ApplicationFollower)).all() == []
        # Run again: nothing left to do.
        assert apply_retention(s, {"applications": 730}, now=NOON) == {"applications": 0}


def _invitation(s, key: str, user_id: int, *, answered: bool | None, created=NOON):  # noqa: ANN001
    invitation = SurveyInvitation(
        transaction_key=key, user_id=user_id, service_id="ktp-el", due_at=created,
        created_at=created, status="answered" if answered else "sent",
    )
    s.add(invitation)
    s.flush()
    if answered is not None:
        s.add(SurveyResponse(
            invitation_id=invitation.id, service_id="ktp-el", u1=4, u2=3, suggestion="Cepat",
            completed_at=created if answered else None,
        ))
    return invitation


def test_survey_answers_stay_in_the_index_unlinked_after_erasure(db):
    with db.session() as s:
        _invitation(s, "application:1", 42, answered=True)
        _invitation(s, "application:2", 42, answered=False)  # half-way
        _invitation(s, "application:3", 42, answered=None)  # not started
        _invitation(s, "application:4", 43, answered=True)
    with db.session() as s:
        doc = export_personal_data(s, 42)["surveys"]["items"]
        assert [item.get("answers") for item in doc] == [{"U1": 4, "U2": 3}] * 2 + [None]
        report = erase_personal_data(s, 42)
    assert any(line.startswith("Your survey answers stay in the satisfaction index")
               for line in report)
    with db.session() as s:
        invitations = s.exec(select(SurveyInvitation).order_by(SurveyInvitation.id)).all()
        assert [(i.transaction_key, i.user_id) for i in invitations] == [
            ("application:1", 0), ("application:4", 43)
        ]
        responses = s.exec(select(SurveyResponse)).all()
        assert sorted(r.invitation_id for r in responses) == [i.id for i in invitations]
        assert export_personal_data(s, 42)["surveys"]["items"] == []


def test_retention_unlinks_old_survey_answers(db):
    with db.session() as s:
        _invitation(s, "application:1", 42, answered=True, created=NOON - timedelta(days=400))
        _invitation(s, "application:2", 42, answered=True, created=NOON - timedelta(days=10))
    with db.session() as s:
        assert apply_retention(s, {"surveys": 365}, now=NOON) == {"surveys": 1}
        assert apply_retention(s, {"surveys": 365}, now=NOON) == {"surveys": 0}
        users = [i.user_id for i in s.exec(select(SurveyInvitation).order_by(SurveyInvitation.id))]
        assert users == [0, 42]
        assert len(s.exec(select(SurveyResponse)).all()) == 2


def _complaint(s, ticket: str, user_id: int, *, closed_at=None) -> Complaint:  # noqa: ANN001
    complaint = Complaint(
        ticket=ticket, complainant_id=user_id, complainant_name="Budi", category="pelayanan",
        description="Antrean tidak jelas", privacy="named", verify_due=NOON, response_due=NOON,
        resolve_due=NOON, closed_at=closed_at, status="closed" if closed_at else "received",
    )
    s.add(complaint)
    s.flush()
    s.add(ComplaintMessage(complaint_id=complaint.id, author_id=user_id,
                           author_kind="complainant", body="Tambahan"))
    s.add(ComplaintMessage(complaint_id=complaint.id, author_id=7, author_kind="officer",
                           body="Terima kasih"))
    return complaint


def test_complaints_keep_their_content_without_the_complainant(db):
    with db.session() as s:
        _complaint(s, "ADU00001", 42)
        _complaint(s, "ADU00002", 43)
    with db.session() as s:
        [item] = export_personal_data(s, 42)["complaints"]["items"]
        assert (item["ticket"], item["name_given"]) == ("ADU00001", "Budi")
        assert [m["text"] for m in item["thread"]] == ["Tambahan", "Terima kasih"]
        report = erase_personal_data(s, 42)
    assert any(line.startswith("Your complaints stay with the office") for line in report)
    with db.session() as s:
        rows = {c.ticket: (c.complainant_id, c.complainant_name, c.description)
                for c in s.exec(select(Complaint)).all()}
        assert rows == {
            "ADU00001": (0, None, "Antrean tidak jelas"),
            "ADU00002": (43, "Budi", "Antrean tidak jelas"),
        }
        authors = sorted(m.author_id for m in s.exec(select(ComplaintMessage)).all())
        assert authors == [0, 7, 7, 43]
        assert export_personal_data(s, 42)["complaints"]["items"] == []


def test_retention_unlinks_complaints_closed_long_ago(db):
    with db.session() as s:
        _complaint(s, "OLD00001", 42, closed_at=NOON - timedelta(days=2000))
        _complaint(s, "NEW00001", 42, closed_at=NOON - timedelta(days=10))
        _complaint(s, "OPEN0001", 42)
    with db.session() as s:
        assert apply_retention(s, {"complaints": 1825}, now=NOON) == {"complaints": 1}
        owners = {c.ticket: c.complainant_id for c in s.exec(select(Complaint)).all()}
        assert owners == {"OLD00001": 0, "NEW00001": 42, "OPEN0001": 42}
