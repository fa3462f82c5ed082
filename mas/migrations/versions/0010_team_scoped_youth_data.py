"""A child's file stays with the team that keeps it; hand-overs; enrolment links; account log

Until now `youth` was one row per BSN shared by every team: a second team that entered a
signal for the same BSN saw the first team's name, birth date, school and guardians, and
what it typed itself was dropped. From here:

- `youth` is the key only (BSN, onderwijsnummer), used to match signals and to keep one
  open case per child across teams; it holds no personal data;
- `youth_record` is what one team entered for one case (name, birth date, school,
  education, guardians); `case.record_id` names the record the case shows;
- `signal.team_id` says which team entered a signal; a signal for a youth whose open case
  another team directs waits for that team's decision (`status` 'pending');
- `case_transfer` records an overdracht to another team; `enrolment` holds single-use
  invitation links (their hash); `account_event` logs every account change.

The data is carried over case by case. The row's personal data was entered by the team
whose case created it (the youth's earliest case): each case of that team gets its own copy
(record id = case id). A case of any other team gets a record with the BSN/onderwijsnummer
only, because what that team typed was never stored (the old code dropped it) and the
shared data was not theirs; its journal says so, and the team fills the record in itself.
Signals belong to the team of their case (no hand-overs existed before this revision).

The downgrade puts the earliest record with a name back on the youth row and keeps its
guardians; signals that were never joined to their case are deleted (the old schema has
no place for them); hand-overs, enrolment links and the account log are dropped.

Revision ID: 0010
Revises: 0014
Create Date: 2026-12-02 10:00:00
"""
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mas.db

revision: str = "0010"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERSONAL = ("given_name", "family_name", "birth_on", "municipality", "school_id", "education_kind",
            "education_level")
SPLIT_EVENT = "gegevens_jongere_gescheiden"
SYSTEM_ROLE = "system"

youth = sa.table(
    "youth", sa.column("id", sa.Integer), sa.column("bsn", sa.String), sa.column("onderwijsnummer", sa.String),
    sa.column("given_name", sa.String), sa.column("family_name", sa.String), sa.column("birth_on", sa.Date),
    sa.column("municipality", sa.String), sa.column("school_id", sa.Integer), sa.column("education_kind", sa.String),
    sa.column("education_level", sa.String), sa.column("created_at", mas.db.UTCDateTime(timezone=True)),
)
record = sa.table(
    "youth_record", sa.column("id", sa.Integer), sa.column("youth_id", sa.Integer), sa.column("team_id", sa.Integer),
    sa.column("given_name", sa.String), sa.column("family_name", sa.String), sa.column("birth_on", sa.Date),
    sa.column("bsn", sa.String), sa.column("onderwijsnummer", sa.String), sa.column("municipality", sa.String),
    sa.column("school_id", sa.Integer), sa.column("education_kind", sa.String), sa.column("education_level", sa.String),
    sa.column("copied_from_id", sa.Integer), sa.column("created_at", mas.db.UTCDateTime(timezone=True)),
)
case = sa.table(
    "case", sa.column("id", sa.Integer), sa.column("team_id", sa.Integer), sa.column("youth_id", sa.Integer),
    sa.column("record_id", sa.Integer), sa.column("opened_at", mas.db.UTCDateTime(timezone=True)),
)
guardian = sa.table(
    "guardian", sa.column("id", sa.Integer), sa.column("youth_id", sa.Integer), sa.column("record_id", sa.Integer),
    sa.column("name", sa.String), sa.column("relation", sa.String), sa.column("phone", sa.String),
    sa.column("email", sa.String), sa.column("has_custody", sa.Boolean),
)
signal = sa.table("signal", sa.column("case_id", sa.Integer), sa.column("team_id", sa.Integer),
                  sa.column("status", sa.String))
event = sa.table(
    "case_event", sa.column("case_id", sa.Integer), sa.column("at", mas.db.UTCDateTime(timezone=True)),
    sa.column("actor_id", sa.Integer), sa.column("actor_role", sa.String), sa.column("kind", sa.String),
    sa.column("reason", sa.String), sa.column("data", sa.JSON),
)


def _create_tables() -> None:
    op.create_table(
        "youth_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("youth_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("given_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("family_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("birth_on", sa.Date(), nullable=True),
        sa.Column("bsn", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("onderwijsnummer", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("municipality", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("education_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("education_level", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("copied_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mas.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["copied_from_id"], ["youth_record.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["youth_id"], ["youth.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("youth_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_youth_record_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_youth_record_youth_id"), ["youth_id"], unique=False)

    op.create_table(
        "account_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", mas.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("account_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_event_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_event_user_id"), ["user_id"], unique=False)

    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("totp_secret", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mas.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mas.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", mas.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_user_id"), ["user_id"], unique=False)


def _split_youth_rows(conn) -> None:
    """One record per case: the youth's data for the team that entered it, the key only for others."""
    youths = {row.id: row for row in conn.execute(sa.select(youth))}
    cases = conn.execute(sa.select(case.c.id, case.c.team_id, case.c.youth_id, case.c.opened_at)
                         .order_by(case.c.id)).all()
    first_team: dict[int, int] = {}
    for c in cases:
        first_team.setdefault(c.youth_id, c.team_id)
    guardians: dict[int, list] = {}
    for g in conn.execute(sa.select(guardian).order_by(guardian.c.id)):
        guardians.setdefault(g.youth_id, []).append(g)
    records, copies, split_off = [], [], []
    for c in cases:
        y = youths[c.youth_id]
        owner = first_team[c.youth_id] == c.team_id
        records.append({
            "id": c.id, "youth_id": y.id, "team_id": c.team_id, "bsn": y.bsn, "onderwijsnummer": y.onderwijsnummer,
            "copied_from_id": None, "created_at": c.opened_at,
            **{name: (getattr(y, name) if owner else None) for name in PERSONAL},
        })
        if owner:
            copies += [{"youth_id": y.id, "record_id": c.id, "name": g.name, "relation": g.relation, "phone": g.phone,
                        "email": g.email, "has_custody": g.has_custody} for g in guardians.get(y.id, ())]
        else:
            split_off.append(c.id)
    if records:
        conn.execute(record.insert(), records)
        conn.execute(sa.update(case).values(record_id=case.c.id))
    conn.execute(sa.delete(guardian))
    if copies:
        conn.execute(guardian.insert(), copies)
    if split_off:
        now = datetime.now(UTC)
        conn.execute(event.insert(), [{
            "case_id": case_id, "at": now, "actor_id": None, "actor_role": SYSTEM_ROLE, "kind": SPLIT_EVENT,
            "reason": "De gegevens van de jongere waren door een ander team ingevoerd en zijn niet meer zichtbaar; "
                      "vul ze zelf aan.", "data": None,
        } for case_id in split_off])
    conn.execute(sa.update(signal).values(
        team_id=sa.select(case.c.team_id).where(case.c.id == signal.c.case_id).scalar_subquery(), status="joined"))
    if conn.dialect.name == "postgresql":  # record ids were given explicitly: move the sequence past them
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('youth_record', 'id'), "
                             "coalesce((SELECT max(id) FROM youth_record), 0) + 1, false)"))


def upgrade() -> None:
    _create_tables()
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("guardian", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status", sqlmodel.sql.sqltypes.AutoString(),
                                      server_default=sa.text("'joined'"), nullable=False))
        batch_op.add_column(sa.Column("decided_at", mas.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True))

    _split_youth_rows(op.get_bind())

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.alter_column("record_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("case_record_id_fkey", "youth_record", ["record_id"], ["id"])
    with op.batch_alter_table("guardian", schema=None) as batch_op:
        batch_op.alter_column("record_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_guardian_youth_id"))
        batch_op.drop_column("youth_id")  # its foreign key goes with it
        batch_op.create_index(batch_op.f("ix_guardian_record_id"), ["record_id"], unique=False)
        batch_op.create_foreign_key("guardian_record_id_fkey", "youth_record", ["record_id"], ["id"])
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.alter_column("team_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_signal_pending", ["case_id"], unique=False,
                              sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.create_foreign_key("signal_team_id_fkey", "team", ["team_id"], ["id"])
        batch_op.create_foreign_key("signal_decided_by_id_fkey", "user", ["decided_by_id"], ["id"])
    with op.batch_alter_table("youth", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_youth_school_id"))
        for name in PERSONAL:  # school_id's foreign key goes with it
            batch_op.drop_column(name)

    op.create_table(
        "case_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_team_id", sa.Integer(), nullable=False),
        sa.Column("to_team_id", sa.Integer(), nullable=False),
        sa.Column("from_record_id", sa.Integer(), nullable=False),
        sa.Column("to_record_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", mas.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_user_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["case_event.id"]),
        sa.ForeignKeyConstraint(["from_record_id"], ["youth_record.id"]),
        sa.ForeignKeyConstraint(["from_team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["to_record_id"], ["youth_record.id"]),
        sa.ForeignKeyConstraint(["to_team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_transfer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_transfer_case_id"), ["case_id"], unique=False)


def _merge_records_back(conn) -> None:
    """The youth row gets the earliest record with a name (the team that entered it first)."""
    chosen: dict[int, object] = {}
    for r in conn.execute(sa.select(record).order_by(record.c.id)):
        if r.youth_id not in chosen or (chosen[r.youth_id].given_name is None and r.given_name is not None):
            chosen[r.youth_id] = r
    for youth_id, r in chosen.items():
        conn.execute(sa.update(youth).where(youth.c.id == youth_id).values(
            given_name=r.given_name or "onbekend", family_name=r.family_name or "onbekend",
            birth_on=r.birth_on or date(1900, 1, 1),
            **{name: getattr(r, name) for name in PERSONAL if name not in ("given_name", "family_name", "birth_on")}))
    conn.execute(sa.update(youth).where(youth.c.given_name.is_(None)).values(
        given_name="onbekend", family_name="onbekend", birth_on=date(1900, 1, 1)))
    keep = [r.id for r in chosen.values()]
    conn.execute(sa.delete(guardian).where(guardian.c.record_id.not_in(keep)))
    conn.execute(sa.update(guardian).values(
        youth_id=sa.select(record.c.youth_id).where(record.c.id == guardian.c.record_id).scalar_subquery()))
    conn.execute(sa.delete(signal).where(signal.c.status != "joined"))


def downgrade() -> None:
    with op.batch_alter_table("case_transfer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_transfer_case_id"))
    op.drop_table("case_transfer")
    with op.batch_alter_table("youth", schema=None) as batch_op:
        batch_op.add_column(sa.Column("given_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("family_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("birth_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("municipality", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("education_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("education_level", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("guardian", schema=None) as batch_op:
        batch_op.add_column(sa.Column("youth_id", sa.Integer(), nullable=True))

    _merge_records_back(op.get_bind())

    with op.batch_alter_table("youth", schema=None) as batch_op:
        for name in ("given_name", "family_name"):
            batch_op.alter_column(name, existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False)
        batch_op.alter_column("birth_on", existing_type=sa.Date(), nullable=False)
        batch_op.create_foreign_key("youth_school_id_fkey", "organisation", ["school_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_youth_school_id"), ["school_id"], unique=False)
    with op.batch_alter_table("guardian", schema=None) as batch_op:
        batch_op.alter_column("youth_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_guardian_record_id"))
        batch_op.drop_column("record_id")
        batch_op.create_foreign_key("guardian_youth_id_fkey", "youth", ["youth_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_guardian_youth_id"), ["youth_id"], unique=False)
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.drop_index("ix_signal_pending", sqlite_where=sa.text("status = 'pending'"),
                            postgresql_where=sa.text("status = 'pending'"))
        for name in ("decision_reason", "decided_by_id", "decided_at", "status", "team_id"):
            batch_op.drop_column(name)
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("record_id")

    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_user_id"))
    op.drop_table("enrolment")
    with op.batch_alter_table("account_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_event_user_id"))
        batch_op.drop_index(batch_op.f("ix_account_event_team_id"))
    op.drop_table("account_event")
    with op.batch_alter_table("youth_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_youth_record_youth_id"))
        batch_op.drop_index(batch_op.f("ix_youth_record_school_id"))
    op.drop_table("youth_record")
