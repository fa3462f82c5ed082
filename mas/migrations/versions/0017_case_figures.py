"""Facts per case for the dashboard's over-time panels, their stamps, and the teams that have them

case_figure (a case's stays in a state, offers and three-month outcomes, derived from its journal
and its Thuiszitterspact clock), case_figure_stamp (what each case's facts were made from) and
figure_team (teams whose cases all have facts, under which settings). Empty here: the first
dashboard of a team makes its facts (mas.services.figures.facts.ensure), from then on kept.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 16:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mas.db  # noqa: F401  (UTCDateTime)

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("figure", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", mas.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_figure_case", "case_figure", ["case_id"], unique=False)
    op.create_index("ix_case_figure_team", "case_figure",
                    ["team_id", "figure", "day", "at", "key", "detail", "value"], unique=False)
    op.create_table(
        "case_figure_stamp",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "figure_team",
        sa.Column("team_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("built_at", mas.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("figure_team")
    op.drop_table("case_figure_stamp")
    op.drop_index("ix_case_figure_team", table_name="case_figure")
    op.drop_index("ix_case_figure_case", table_name="case_figure")
    op.drop_table("case_figure")
