"""The field's lists: routes, closing reasons, kinds of absence, sources, organisations.

Keys are stored; labels are what the UI and the exports show.
"""

from __future__ import annotations

# The four routes of the MAS after the gesprek.
ROUTES = {
    "vrijwillig": "Vrijwillige hulp (school, wijkteam, jeugdhulp)",
    "halt": "Halt",
    "civiel": "Civiel: Raad voor de Kinderbescherming",
    "strafrechtelijk": "Strafrechtelijk: proces-verbaal aan het OM",
}

# The routes the figures count: Halt referrals and processen-verbaal.
HALT_ROUTE = "halt"
PV_ROUTE = "strafrechtelijk"

# Contact with an ervaringsdeskundige (peer expert), asked on closing.
PEER_CONTACT = {"ja": "Ja", "nee": "Nee"}

# The seven DUO closing reasons, then the two municipal ones (DUO_CLOSING_REASONS: which are DUO's).
CLOSING_REASONS = {
    "terug_naar_school": "Terug naar school",
    "andere_opleiding": "Andere opleiding",
    "werk": "Werk",
    "overige": "Overige",
    "overleden": "Overleden",
    "langdurig_ziek": "Langdurig ziek",
    "legitiem_afwezig": "Legitiem afwezig",
    "vrijstelling": "Vrijstelling",
    "verhuisd": "Verhuisd",
}
DUO_CLOSING_REASONS = tuple(CLOSING_REASONS)[:7]

# Kinds of education, as the figures per school group them.
EDUCATION_KINDS = {
    "po": "Primair onderwijs", "vo": "Voortgezet onderwijs", "vso": "Voortgezet speciaal onderwijs",
    "pro": "Praktijkonderwijs", "mbo1": "mbo niveau 1", "mbo2": "mbo niveau 2", "mbo3": "mbo niveau 3",
    "mbo4": "mbo niveau 4",
}

# Kinds of absence (verzuimsoort) a melding can report.
SIGNAL_KINDS = {
    "absoluut": "Absoluut verzuim",
    "relatief": "Relatief verzuim",
    "lrv": "Langdurig relatief verzuim",
    "signaal": "Signaalverzuim / zorgwekkend verzuim",
    "luxe": "Luxe verzuim",
    "te_laat": "Te laat komen",
}

# Where a signal came from.
SIGNAL_SOURCES = {
    "school": "School (DUO)",
    "duo": "DUO-register",
    "ouder": "Ouder of jongere",
    "wijkteam": "Wijkteam / jeugdhulp",
    "ggd": "GGD jeugdarts",
    "swv": "Samenwerkingsverband",
    "politie": "Politie",
    "overig": "Overig",
}

# Kinds of partner organisation.
ORGANISATION_KINDS = {
    "school": "School", "swv": "Samenwerkingsverband", "ggd": "GGD", "wijkteam": "Wijkteam / jeugdhulp",
    "zorgaanbieder": "Zorgaanbieder", "halt": "Halt", "rvdk": "Raad voor de Kinderbescherming", "om": "OM",
    "ervaringsdeskundige": "Ervaringsdeskundige", "overig": "Overig",
}

# The status the municipality reports back to DUO per melding (its own words).
DUO_STATUS_OPEN = "in behandeling"
DUO_STATUS_CLOSED = "afgesloten"
DUO_STATUS_NOTED = "ter kennisneming"
