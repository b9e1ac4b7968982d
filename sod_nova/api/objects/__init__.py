"""What sod-nova-api reads and writes: host rows, the catalogue, the audit
trail, and servers through Nova's API. No HTTP here (see handlers)."""
