"""An offline stand-in for Stripe: the part of its REST API the gateway uses, a hosted payment page,
signed webhooks, money movement between balances, fault injection and settlement files.

It is a separate server: it imports nothing from the gateway (`webapp`, `workers`, `config`).
"""
