"""vangnet_round.exemptions: the last run's vrijstellingen per article and municipality

The vangnet read the vrijstellingen file only to leave exempt youths off its list; the figures
(the thuiszitters overview's "vrijstelling artikel 5 onder a", the yearly report's
vrijstellingen) count them from here. Rounds run before this have none (the documents say so).

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-02 17:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vangnet_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exemptions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vangnet_round", schema=None) as batch_op:
        batch_op.drop_column("exemptions")
