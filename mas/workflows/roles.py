"""Who acts in mas, and whom the escalation ladder reaches: each spelled here, once.

Every other module uses these enumerations; a test checks that no module outside
mas/workflows/ and no template spells a role out.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The role of a user account. Which cases and steps a user of a role may see and change
    is the access policy's business (mas.services.access)."""

    CASUSREGISSEUR = "casusregisseur"  # directs their own cases; reads the team's
    COORDINATOR = "coordinator"  # directs every case of the team; sees who read a case
    PARTNER = "partner"  # a partner organisation's worker: only the steps assigned to it
    ADMIN = "admin"  # accounts, teams, organisations, undelivered mail; never case content
    # A samenwerkingsverband's worker (an account of an organisation of kind swv): produces the
    # thuiszitters overview for the Inspectie over the teams in the SWV's area
    # (config/figures.toml); counts only, never a case.
    SWV_RAPPORTEUR = "swv_rapporteur"


ROLE_LABELS = {
    Role.CASUSREGISSEUR: "Casusregisseur",
    Role.COORDINATOR: "Coördinator",
    Role.PARTNER: "Partner",
    Role.ADMIN: "Beheerder",
    Role.SWV_RAPPORTEUR: "Rapporteur samenwerkingsverband",
}

# The actor of what nobody did by hand: the scheduler's sweep, imports. Never a user's role.
SYSTEM = "system"

# The roles that direct a case: its own casusregisseur, and the team's coordinator.
DIRECTORS = (Role.CASUSREGISSEUR, Role.COORDINATOR)
# The roles of a team's members (an account of these roles belongs to a team).
TEAM_ROLES = DIRECTORS


class Recipient(StrEnum):
    """Whom a rung of the escalation ladder reaches (config/escalation.toml, `to = [...]`), and
    whom a rung goes to when none of those can be reached ([fallback] chain)."""

    CASUSREGISSEUR = "casusregisseur"  # the case's casusregisseur
    COORDINATOR = "coordinator"  # the team's coordinator
    BESTUURLIJK = "bestuurlijk"  # the team's bestuurlijk contact (SWV director, wethouder)
    ORGANISATION_CONTACT = "organisation_contact"  # the contact of the organisation that holds the step
    ORGANISATION_ESCALATION = "organisation_escalation"  # that organisation's escalation contact
    FUNCTIONAL_MAILBOX = "functional_mailbox"  # fallback only: the installation's functional mailbox
    ADMINS = "admins"  # fallback only: every active administrator

    @property
    def is_organisation(self) -> bool:
        """Reached on behalf of a partner organisation (their link is the partner page)."""
        return self in (Recipient.ORGANISATION_CONTACT, Recipient.ORGANISATION_ESCALATION)

    @property
    def is_fallback(self) -> bool:
        """May stand in the [fallback] chain: someone who can always act for the team."""
        return self in (Recipient.COORDINATOR, Recipient.FUNCTIONAL_MAILBOX, Recipient.ADMINS)

    @property
    def reads_cases(self) -> bool:
        """Has an account that opens the case itself (the others get a signed status page)."""
        return self in (Recipient.CASUSREGISSEUR, Recipient.COORDINATOR)

    @property
    def label(self) -> str:
        return RECIPIENT_LABELS[self]


# Who a ladder level may name in `to = [...]`.
LADDER_RECIPIENTS = tuple(r for r in Recipient if r not in (Recipient.FUNCTIONAL_MAILBOX, Recipient.ADMINS))

RECIPIENT_LABELS = {
    Recipient.CASUSREGISSEUR: "casusregisseur",
    Recipient.COORDINATOR: "coördinator van het team",
    Recipient.BESTUURLIJK: "bestuurlijk contact van het team",
    Recipient.ORGANISATION_CONTACT: "contactpersoon van de organisatie",
    Recipient.ORGANISATION_ESCALATION: "escalatiecontact van de organisatie",
    Recipient.FUNCTIONAL_MAILBOX: "functionele mailbox",
    Recipient.ADMINS: "beheerders",
}
