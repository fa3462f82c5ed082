"""Figures and reports: recorded facts on the case, school figures, indexes for the dashboard

case.route_on (the day the route was chosen: a Halt referral's date), case.pv_on (the
proces-verbaal's date on the route strafrechtelijk), and the peer-expert indicators of the
closing form (peer_contact, satisfaction_youth, satisfaction_professionals); the table
school_figure (participants and vsv'ers per school, kind of education and school year, as a
team imports them); indexes for reading one team's cases and signals by date. Existing cases
with a route get the day of the event that set it, where the journal has one.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 12:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mas.db  # noqa: F401  (UTCDateTime)

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("route_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("pv_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("peer_contact", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("satisfaction_youth", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("satisfaction_professionals", sa.Integer(), nullable=True))
        batch_op.create_index("ix_case_team_opened", ["team_id", "opened_at"], unique=False)
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.create_index("ix_signal_team_received", ["team_id", "received_at"], unique=False)
    op.create_table(
        "school_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("brin", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("school_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("municipality", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("education_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("leavers", sa.Integer(), nullable=False),
        sa.Column("imported_at", mas.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_school_figure", "school_figure", ["team_id", "school_year", "brin", "education_kind"],
                    unique=True)
    # The route's day for cases that have one: the latest journal event that set it.
    case = sa.table("case", sa.column("id", sa.Integer), sa.column("route", sa.String),
                    sa.column("route_on", sa.Date), sa.column("updated_at", mas.db.UTCDateTime))
    event = sa.table("case_event", sa.column("case_id", sa.Integer), sa.column("kind", sa.String),
                     sa.column("at", mas.db.UTCDateTime), sa.column("from_state", sa.String))
    # Until now the route was chosen leaving the gesprek (naar_zorgtafel) or changed by hand.
    sets_route = sa.or_(event.c.kind == "route_gewijzigd",
                        sa.and_(event.c.kind == "overgang", event.c.from_state == "gesprek"))
    latest = sa.select(sa.func.max(event.c.at)).where(event.c.case_id == case.c.id, sets_route).scalar_subquery()
    bind = op.get_bind()
    day = sa.func.date(latest) if bind.dialect.name == "sqlite" else sa.cast(latest, sa.Date)
    bind.execute(sa.update(case).where(case.c.route.is_not(None)).values(route_on=day))


def downgrade() -> None:
    op.drop_index("uq_school_figure", table_name="school_figure")
    op.drop_table("school_figure")
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.drop_index("ix_signal_team_received")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_team_opened")
        batch_op.drop_column("satisfaction_professionals")
        batch_op.drop_column("satisfaction_youth")
        batch_op.drop_column("peer_contact")
        batch_op.drop_column("pv_on")
        batch_op.drop_column("route_on")
