"""Pure date arithmetic and wording: the school calendar, the clock rules, the escalation
ladder's moments and the Dutch explanations. No database, no service calls."""
