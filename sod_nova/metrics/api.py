"""sod-nova-api's metrics: requests by method and status, and their latency.

A WSGI middleware outside the API's own (it sees the status every client
sees, errors included).
"""

import time

import prometheus_client

#: Seconds: one API request.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
#: Methods counted by name; any other a client sends counts as ``other``
#: (a label per invented method would grow without bound).
METHODS = frozenset(('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE',
                     'OPTIONS'))


class RequestMetrics:
    """Wraps ``application``; counts into ``registry``."""

    def __init__(self, application, registry):
        self.application = application
        self.requests = prometheus_client.Counter(
            'sod_api_requests', 'API requests by method and HTTP status.',
            ['method', 'status'], registry=registry)
        self.seconds = prometheus_client.Histogram(
            'sod_api_request_seconds', 'Time to answer an API request (until '
            'its body is produced).', ['method'],
            buckets=REQUEST_BUCKETS, registry=registry)

    def __call__(self, environ, start_response):
        method = environ.get('REQUEST_METHOD', 'GET')
        method = method if method in METHODS else 'other'
        status = ['500']
        started = time.perf_counter()

        def counting_start_response(line, headers, exc_info=None):
            status[0] = line.split(' ', 1)[0]
            return start_response(line, headers, exc_info)

        try:
            return self.application(environ, counting_start_response)
        finally:
            self.seconds.labels(method).observe(time.perf_counter() - started)
            self.requests.labels(method, status[0]).inc()
