"""case_event: one unique index (case_id, deadline_id, rung) for the journal and the rungs

It replaces ix_case_event_case_at (case_id, at) and the partial uq_case_event_deadline_rung
(deadline_id, rung). A deadline belongs to one case, so unique (case_id, deadline_id, rung)
is unique (deadline_id, rung): each rung of a deadline generation is raised at most once.
Events without a deadline carry NULLs there and never collide. A case's journal is read by
case_id and sorted (a case has tens of events, not thousands). Every escalation event the
sweep writes now lands on one random index page instead of two.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

HAS_DEADLINE = sa.text("deadline_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index("uq_case_event_case_deadline_rung", ["case_id", "deadline_id", "rung"], unique=True)
        batch_op.drop_index("uq_case_event_deadline_rung", sqlite_where=HAS_DEADLINE, postgresql_where=HAS_DEADLINE)
        batch_op.drop_index("ix_case_event_case_at")


def downgrade() -> None:
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index("ix_case_event_case_at", ["case_id", "at"], unique=False)
        batch_op.create_index("uq_case_event_deadline_rung", ["deadline_id", "rung"], unique=True,
                              sqlite_where=HAS_DEADLINE, postgresql_where=HAS_DEADLINE)
        batch_op.drop_index("uq_case_event_case_deadline_rung")
