"""team.name_key: a team's name as people compare names, unique

admin.create_team refused "leerplicht zwolle" beside "Leerplicht Zwolle" by reading first; two
admins creating both at the same moment got past that read. The unique key decides instead.
Existing teams get their key; an installation that already holds two such teams is told which,
and is not changed.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(name: str) -> str:  # mas.models.team_name_key, as it was when this was written
    return " ".join(name.split()).casefold()


def upgrade() -> None:
    conn = op.get_bind()
    teams = conn.execute(sa.text("SELECT id, name FROM team")).all()
    keys: dict[str, list[str]] = {}
    for _id, name in teams:
        keys.setdefault(_key(name), []).append(name)
    twins = [" / ".join(names) for names in keys.values() if len(names) > 1]
    if twins:
        raise RuntimeError("Teams met dezelfde naam (op hoofdletters en spaties na): " + "; ".join(twins)
                           + ". Geef ze eerst verschillende namen.")
    op.add_column("team", sa.Column("name_key", sa.String(), nullable=True))
    for team_id, name in teams:
        conn.execute(sa.text("UPDATE team SET name_key = :key WHERE id = :id"), {"key": _key(name), "id": team_id})
    op.create_index(op.f("ix_team_name_key"), "team", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_team_name_key"), table_name="team")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("name_key")
