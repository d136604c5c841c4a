"""The PSP's webhook endpoint."""
