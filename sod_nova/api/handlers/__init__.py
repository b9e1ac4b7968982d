"""HTTP handlers of sod-nova-api: they translate, the objects do the work."""
