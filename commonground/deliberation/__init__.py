"""Deliberation: statement voting and the opinion-group ("common ground") engine."""
