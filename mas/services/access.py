"""Who may do what to which case: the one access policy, used by every front end.

Deny by default: each function answers True only for the cases it names.
"""

from __future__ import annotations

from mas.services.actors import Actor
from mas.services.errors import Forbidden, NotFound
from mas.workflows import Role, Transition
from mas.workflows.roles import DIRECTORS, TEAM_ROLES


def directs(actor: Actor, case) -> bool:
    """The case's own casusregisseur, or the coordinator of the case's team."""
    if actor.role == Role.CASUSREGISSEUR:
        return actor.id is not None and actor.id == case.casusregisseur_id
    if actor.role == Role.COORDINATOR:
        return actor.team_id is not None and actor.team_id == case.team_id
    return False


def in_team(actor: Actor, case) -> bool:
    """Team members may read the team's cases (a casusregisseur covers for a colleague)."""
    return actor.role in TEAM_ROLES and actor.team_id == case.team_id


def may_fire(actor: Actor, case, transition: Transition) -> bool:
    return actor.role in transition.roles and directs(actor, case)


def require_directs(actor: Actor, case) -> None:
    if directs(actor, case):
        return
    if not in_team(actor, case):
        # Not even confirm that the case exists.
        raise NotFound("Zaak niet gevonden.")
    raise Forbidden("Alleen de casusregisseur van deze zaak of de coördinator van het team mag dit doen.")


def require_system(actor: Actor) -> None:
    if not actor.is_system:
        raise Forbidden("Alleen het systeem mag dit doen.")


def require_importer(actor: Actor) -> None:
    """Imports and exports of meldingen, and the vangnet: a leerplicht team's own work."""
    if not actor.is_system and actor.role not in DIRECTORS:
        raise Forbidden("Alleen medewerkers van een leerplichtteam importeren meldingen.")
