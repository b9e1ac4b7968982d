"""Plug-ins for Nova's REST API (flavor extra-spec validation)."""
