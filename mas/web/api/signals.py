"""POST /signals: a verzuimmelding or another signal, from a team or a partner's system."""

from __future__ import annotations

from mas.services import intake
from mas.services.inputs import GuardianInput, SignalInput, YouthInput
from mas.web import context as web
from mas.web.api import bp
from mas.web.api.openapi import operation
from mas.web.api.schemas import SignalIn, SignalReceiptOut
from mas.workflows import DIRECTORS, Role

# The services' field names, as this request names them.
FIELDS = {name: f"youth.{name}" for name in ("given_name", "family_name", "birth_on", "bsn", "onderwijsnummer",
                                              "municipality", "school_id", "education_kind", "education_level")}
FIELDS.update({name: f"signal.{name}" for name in ("kind", "source", "period_first_on", "period_last_on",
                                                   "hours_missed", "description")})
FIELDS.update({f"guardians.{i}.name": f"youth.guardians.{i}.name" for i in range(4)})


@operation(bp, "POST", "/signals", summary="Een signaal insturen", tag="Signalen", roles=(*DIRECTORS, Role.PARTNER),
           body=SignalIn, response=SignalReceiptOut, status=202, fields=FIELDS)
def submit_signal(conn, body: SignalIn):
    """Het signaal gaat naar het team van de woongemeente van de jongere (de gemeente van de school bepaalt alleen
    de vakantieregio). Loopt er al een zaak, dan komt het signaal daarbij. Het antwoord is een ontvangstbewijs; het
    zaaknummer staat erbij alleen als uw eigen team de zaak voert."""
    y, s = body.youth, body.signal
    youth = YouthInput(
        given_name=y.given_name, family_name=y.family_name, birth_on=y.birth_on, bsn=y.bsn,
        onderwijsnummer=y.onderwijsnummer, municipality=y.municipality, school_id=y.school_id,
        education_kind=y.education_kind, education_level=y.education_level,
        guardians=tuple(GuardianInput(name=g.name, relation=g.relation, phone=g.phone, email=g.email,
                                      has_custody=g.has_custody) for g in y.guardians))
    signal = SignalInput(**s.model_dump())
    receipt = intake.submit_signal(conn, web.ctx(), web.actor(), youth, signal, now=web.now(),
                                   casusregisseur_id=body.casusregisseur_id, first_absent_on=body.first_absent_on)
    return SignalReceiptOut(receipt_id=receipt.receipt_id, received_at=receipt.received_at, reference=receipt.reference)
