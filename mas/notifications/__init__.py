"""E-mail: the transactional outbox (queue), rendering (Jinja2) and sending (SMTP)."""
