"""index of open cases per team and casusregisseur (the werkvoorraad)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:55:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index("ix_case_open_team_regisseur", ["team_id", "casusregisseur_id"], unique=False,
                              sqlite_where=sa.text("state != 'afgesloten'"),
                              postgresql_where=sa.text("state != 'afgesloten'"))


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_open_team_regisseur", sqlite_where=sa.text("state != 'afgesloten'"),
                            postgresql_where=sa.text("state != 'afgesloten'"))
