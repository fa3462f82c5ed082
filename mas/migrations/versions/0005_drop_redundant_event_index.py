"""drop case_event(case_id): ix_case_event_case_at (case_id, at) already serves it

Every escalation event paid for a second random index page; the sweep writes a thousand.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:20:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0005"
down_revision: Union[str, None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_case_id")


def downgrade() -> None:
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index("ix_case_event_case_id", ["case_id"], unique=False)
