"""The trust monitor (TMs): verifies evidence, writes host trust rows."""
