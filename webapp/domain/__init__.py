"""The business rules, in plain Python: no Flask, SQLAlchemy, Stripe or RQ imports here."""
