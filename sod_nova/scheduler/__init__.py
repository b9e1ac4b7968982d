"""The Policy Validation Module in deployment mode: a Nova scheduler filter.

``sod_nova.scheduler.filters.SecurityOnDemandFilter`` is enabled in nova.conf
(``[filter_scheduler] available_filters`` and ``enabled_filters``); it places
a VM only on hosts whose verified capabilities satisfy its security request.
"""
