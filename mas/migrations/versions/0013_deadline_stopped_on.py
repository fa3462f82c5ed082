"""deadline.stopped_on: the day a clock's goal was met (the offer started)

A stopped Thuiszitterspact generation now keeps the day the offer started, so a restart
after a relapse can say when the earlier period at home ran, and the figures can count days
from the first day at home to the offer's start. Existing stopped rows get the offer start
their case recorded, where there is one.

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-02 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stopped_on", sa.Date(), nullable=True))
    deadline = sa.table("deadline", sa.column("case_id", sa.Integer), sa.column("status", sa.String),
                        sa.column("stopped_on", sa.Date))
    case = sa.table("case", sa.column("id", sa.Integer), sa.column("offer_started_on", sa.Date))
    offer = (sa.select(case.c.offer_started_on).where(case.c.id == deadline.c.case_id).scalar_subquery())
    op.get_bind().execute(sa.update(deadline).where(deadline.c.status == "stopped").values(stopped_on=offer))


def downgrade() -> None:
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_column("stopped_on")
