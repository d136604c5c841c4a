"""The hosted checkout pages buyers see."""
