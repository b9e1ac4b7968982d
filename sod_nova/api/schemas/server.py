"""Body of ``PUT /servers/{id}/security``: the whole customer request.

An empty object clears the server's request (every ``sod:`` key of its
metadata); the flavor's and image's requests are the operator's and stay.
"""

from sod_nova.api.schemas import request

UPDATE = request.SECURITY
