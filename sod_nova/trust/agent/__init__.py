"""The trust agent (TMc): one per compute host, reports signed evidence."""
