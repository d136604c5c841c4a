"""A small demo shop that pays the demo sellers through the public API, like a real storefront would."""
