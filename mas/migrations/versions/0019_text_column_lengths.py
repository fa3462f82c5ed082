"""Text columns a form fills get the form's length

The forms show a maxlength and the services refuse longer text; the columns now carry the same
length (mas.models: PERSON_NAME, NAME, EMAIL, PLACE, CODE, SHORT, TEXT, REPORT), so the limit is
one and holds for every writer. An installation holding a longer text is told where, and is not
changed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 17:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERSON_NAME, NAME, EMAIL, PLACE, CODE, SHORT, TEXT, REPORT = 100, 200, 254, 100, 20, 50, 5000, 20_000
# table -> {column: (length, nullable)}
LENGTHS = {
    "team": {"name": (NAME, False), "bestuurlijk_contact_name": (NAME, True), "bestuurlijk_contact_email": (EMAIL, True)},
    "organisation": {"name": (NAME, False), "brin": (CODE, True), "municipality": (PLACE, True),
                     "contact_name": (NAME, True), "contact_email": (EMAIL, True), "escalation_name": (NAME, True),
                     "escalation_email": (EMAIL, True)},
    "user": {"email": (EMAIL, False), "name": (NAME, False)},
    "api_token": {"name": (NAME, False)},
    "extension_request": {"reason": (TEXT, False), "decision_note": (TEXT, True)},
    "youth_record": {"given_name": (PERSON_NAME, True), "family_name": (PERSON_NAME, True), "bsn": (CODE, True),
                     "onderwijsnummer": (CODE, True), "municipality": (PLACE, True), "education_kind": (SHORT, True),
                     "education_level": (SHORT, True)},
    "guardian": {"name": (NAME, False), "relation": (SHORT, False), "phone": (SHORT, True), "email": (EMAIL, True)},
    "case": {"gesprek_report": (REPORT, True)},
    "signal": {"reporter_name": (NAME, True), "reporter_function": (NAME, True), "reporter_phone": (SHORT, True),
               "reporter_email": (EMAIL, True), "description": (TEXT, True), "decision_reason": (TEXT, True)},
    "vangnet_entry": {"reason": (TEXT, True)},
    "case_transfer": {"reason": (TEXT, False)},
    "step": {"title": (NAME, False), "description": (TEXT, True), "completion_note": (TEXT, True)},
    "suspension": {"reason": (TEXT, False)},
}


def _quoted(name: str) -> str:
    return op.get_bind().dialect.identifier_preparer.quote(name)


def upgrade() -> None:
    conn = op.get_bind()
    too_long = []
    for table, columns in LENGTHS.items():
        for column, (length, _nullable) in columns.items():
            n = conn.execute(sa.text(f"SELECT count(*) FROM {_quoted(table)} "
                                     f"WHERE length({_quoted(column)}) > {length}")).scalar_one()
            if n:
                too_long.append(f"{table}.{column}: {n} langer dan {length} tekens")
    if too_long:
        raise RuntimeError("Teksten langer dan hun veld toestaat; kort ze eerst in: " + "; ".join(too_long))
    for table, columns in LENGTHS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, (length, nullable) in columns.items():
                batch_op.alter_column(column, existing_type=sa.String(), type_=sa.String(length=length),
                                      existing_nullable=nullable)


def downgrade() -> None:
    for table, columns in LENGTHS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, (length, nullable) in columns.items():
                batch_op.alter_column(column, existing_type=sa.String(length=length), type_=sa.String(),
                                      existing_nullable=nullable)
