"""Stripe's objects and the rules that move them: each module builds one kind of object and changes its
state, inside a write transaction opened by its caller."""
