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

# The seven DUO closing reasons, then the two municipal ones.
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
