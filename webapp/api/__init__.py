"""The merchant JSON API under /v1/: Stripe-style errors, API-key auth, per-key rate limits."""
