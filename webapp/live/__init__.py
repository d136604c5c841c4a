"""Live status for buyers over WebSockets."""
