"""The migration manager's metrics, read from its task rows at scrape time:
open tasks by state, finished migrations by trigger, kind and outcome, and
the latency from the event a task answers to its migrate call.

Read from the database, they are the same whichever manager (of a leader
group) is scraped, and survive its restart.
"""

from oslo_log import log as logging
import prometheus_client
from prometheus_client import core

from sod_nova.db import api as db_api
from sod_nova.db import stats
from sod_nova.db import task_states

LOG = logging.getLogger(__name__)

#: Seconds: from the event (a trust change, a request change) to the
#: manager's migrate call (issue 14's goal is 0.115 s at p99).
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.115, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0, 60.0, 300.0)


class ManagerCollector(prometheus_client.registry.Collector):
    """Register it in the manager's registry."""

    def collect(self):
        try:
            context = db_api.Context()
            tasks = stats.tasks_by_state(context)
            migrations = stats.migrations_by_outcome(context)
            buckets, count, total = stats.call_latency_buckets(
                context, CALL_BUCKETS)
        except Exception as exc:
            LOG.warning('metrics: relocation tasks not read: %s', exc)
            return
        family = core.GaugeMetricFamily(
            'sod_relocation_tasks', 'Open relocation tasks by state.',
            labels=['state'])
        for state in task_states.OPEN_STATES:
            family.add_metric([state], tasks.get(state, 0))
        yield family
        family = core.CounterMetricFamily(
            'sod_relocation_migrations', 'Finished tasks that asked Nova to '
            'migrate, by trigger, kind (live, cold) and outcome (done, '
            'failed).', labels=['trigger', 'kind', 'outcome'])
        for (trigger, kind, outcome), value in sorted(migrations.items()):
            family.add_metric([trigger, kind, outcome], value)
        yield family
        family = core.HistogramMetricFamily(
            'sod_relocation_call_latency_seconds', 'From the event a task '
            'answers (its detection) to the manager\'s migrate call to Nova.')
        family.add_metric(
            [], [(repr(bound), value) for bound, value in
                 zip(CALL_BUCKETS, buckets, strict=True)] + [('+Inf', count)],
            total)
        yield family
