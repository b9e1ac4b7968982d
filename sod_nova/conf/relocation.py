"""[sod_relocation] options: how the migration manager keeps VMs compliant."""

from oslo_config import cfg

from sod_nova.conf import deprecation
from sod_nova.conf import types

relocation_group = cfg.OptGroup(
    'sod_relocation',
    title='Migration manager (relocation mode)',
    help='How sod-migration-manager moves VMs off servers that no longer '
         'satisfy their security request (paper steps 4 and III-E).')

NO_HOST_ACTIONS = ('pause', 'suspend', 'stop', 'none')

relocation_opts = deprecation.from_group('relocation', [
    cfg.StrOpt(
        'no_host_action',
        default='pause',
        choices=[
            ('pause', 'pause the VM in memory (fastest to resume)'),
            ('suspend', 'suspend the VM to disk'),
            ('stop', 'power the VM off'),
            ('none', 'leave it running and only record the violation'),
        ],
        help="""
What to do with a VM whose server no longer satisfies its request when no
compliant server exists to move it to.

The VM is moved and resumed once a compliant server appears again (trigger
``recovery``). ``none`` leaves a non-compliant VM running: use it only where
availability matters more than the request.
"""),
    cfg.ListOpt(
        'remediation',
        default=['live', 'cold'],
        item_type=cfg.types.String(choices=['live', 'cold']),
        help="""
The remediation ladder: the moves tried, in order, for a VM that must leave
its server, before the no-host action.

Only the moves Nova allows for the guest count: a memory-encrypted
(SEV, SEV-SNP, TDX) guest cannot be live-migrated, a vTPM guest only with
``hw:tpm_secret_security=host``; a stopped VM moves cold. A VM's own
``sod:remediation`` (flavor, image or metadata) narrows the ladder, e.g.
``live`` for a customer who prefers a pause to a reboot (a cold migration
stops and starts the guest).

Possible values:

* ``live,cold`` (default), ``live``, ``cold``, ``cold,live``

Related options:

* ``no_host_action``: the last rung
"""),
    cfg.IntOpt(
        'max_concurrent',
        default=4,
        min=1,
        help="""
Migrations the manager keeps in flight at once, over the whole cloud.

Related options:

* ``max_per_source_host``
* Nova's ``[DEFAULT] max_concurrent_live_migrations`` (per compute host)
"""),
    cfg.IntOpt(
        'max_per_source_host',
        default=2,
        min=1,
        help="""
Migrations the manager keeps in flight out of one source host at once.

A compromised server is evacuated in several waves when it holds more VMs
than this; the most demanding requests go first.
"""),
    cfg.IntOpt(
        'retries',
        default=3,
        min=0,
        max=100,
        help="""
How many times a migration that Nova failed is tried again, each time
naming another compliant server that has not failed this VM yet (Nova's
scheduler, with the SoD filter, still validates it).
"""),
    types.FiniteFloatOpt(
        'retry_backoff',
        default=2.0,
        min=0.0,
        max=86400.0,
        help="""
Seconds before the first retry of a failed migration; doubled for each
further retry.
"""),
    types.FiniteFloatOpt(
        'migration_timeout',
        default=600.0,
        min=1.0,
        max=86400.0,
        help="""
Seconds a live migration may stay in flight before the manager asks Nova to
abort it (Nova rolls it back; the manager then retries it on another host).

Related options:

* Nova's ``[libvirt] live_migration_completion_timeout``
"""),
    types.FiniteFloatOpt(
        'poll_interval',
        default=1.0,
        min=0.01,
        max=60.0,
        mutable=True,
        help="""
Seconds between two looks at Nova's migration records while migrations are
in flight. Mutable: SIGHUP applies it from the manager's next pass.
"""),
    cfg.IntOpt(
        'reconcile_interval',
        default=60,
        min=1,
        mutable=True,
        help="""
Seconds between two full passes over every VM with a request. Mutable:
SIGHUP applies it once the full pass already scheduled has run.

Events (trust changes, ``instance.update`` notifications) start work at
once; the reconcile pass catches what a lost notification missed and runs
moving-target timers.
"""),
    types.FiniteFloatOpt(
        'moving_target_jitter',
        default=0.2,
        min=0.0,
        max=0.9,
        help="""
Fraction by which a VM's ``sod:moving_target`` period is randomised, so an
observer cannot predict the next move: each period is drawn uniformly from
``period * (1 - jitter)`` to ``period * (1 + jitter)``.
"""),
    cfg.BoolOpt(
        'listen_notifications',
        default=True,
        help="""
Whether to listen for Nova's versioned ``instance.update`` notifications and
sod-nova's ``sod.host.trust_changed`` notifications.

Nova must emit them: ``[notifications] notify_on_state_change`` and
``notification_format = versioned`` (or ``both``), with
``[oslo_messaging_notifications] driver = messagingv2``.
"""),
    cfg.StrOpt(
        'notification_pool',
        default='sod-nova-relocation',
        help="""
oslo.messaging listener pool name, so that the manager gets its own copy of
each notification next to other consumers (Ceilometer, Searchlight).
"""),
    cfg.StrOpt(
        'nova_notification_topic',
        default='versioned_notifications',
        help="""
Topic of Nova's versioned notifications (Nova's
``[notifications] versioned_notifications_topics``).

Related options:

* ``nova_exchange``
* ``[sod_trust] notification_topic`` (where trust changes come from)
"""),
    cfg.StrOpt(
        'nova_exchange',
        default='nova',
        help="Exchange Nova publishes its notifications on (Nova's "
             "``control_exchange``)."),
    cfg.BoolOpt(
        'leader_election',
        default=True,
        help="""
Whether migration managers elect a leader through a lease in sod-nova's
database, so that several can run (on different controllers) and exactly one
acts: the others wait as standbys, without listening for notifications or
calling Nova, and one of them takes over when the leader stops renewing.

Off: this manager always acts; never run two then.

Related options:

* ``leader_lease``
"""),
    types.FiniteFloatOpt(
        'leader_lease',
        default=10.0,
        min=1.0,
        max=3600.0,
        help="""
Seconds a leader's lease lasts without renewal. The leader renews it every
third of this; a standby looks every third of this too, so it takes over at
most ``4/3 * leader_lease`` seconds after the leader died. A leader that
could not renew for two thirds of it stops acting (the last third covers
clock skew between controllers) and exits, for its supervisor to restart
it as a standby.
"""),
    cfg.BoolOpt(
        'read_image_properties',
        default=False,
        help="""
Whether to read ``sod:`` image properties through the Image API (Glance)
when recomputing a VM's effective request.

Off by default: Nova's scheduler already applies the image's request saved
at boot to every migration; turning this on also makes the manager treat a
server that fails only the image's request as non-compliant. An image that
cannot be read then counts as asking for every cell (fail closed).

Turn it on where guests are made confidential or given a vTPM by their image
(``hw_mem_encryption``, ``hw_mem_encryption_model``, ``hw_tpm_version``)
rather than their flavor: the manager reads a guest's launch features from
the same sources, and without the image it judges such a guest as an
ordinary one (which no confidential-computing row protects) and cannot know
that Nova moves it only cold.
"""),
    cfg.IntOpt(
        'moving_target_min',
        default=300,
        min=1,
        max=86400,
        help="""
Shortest moving-target period, in seconds, this cloud accepts
(``sod:moving_target``, paper §III-E).

Each moving-target move takes a migration slot and a compute host's
resources; a short period lets one tenant keep Nova migrating. A shorter
period is refused by the flavor extra-spec validator (set this option in
nova-api's configuration too), by sod-nova-api (``PUT
/servers/{id}/security``, ``POST /requests/check``), and a VM that asks for
one anyway (instance metadata written through Nova) is moved at this
period, never faster, with a WARNING naming the VM. The jitter never draws
a period below it either.

Related options:

* ``moving_target_jitter``
* ``project_moves_per_hour``
"""),
    cfg.IntOpt(
        'project_moves_per_hour',
        default=100,
        min=1,
        help="""
Moves of one project's VMs (Nova's ``project_id``) for a moving-target
period or a policy change that the manager starts in any hour.

Further such moves of that project wait, pending, until the hour's count
allows them. Evacuations (a VM's host lost trust or stopped reporting) and
recoveries of parked VMs are never bounded by it, and are always started
ahead of moving-target and policy-change moves, which never take the last
free one of ``max_concurrent``'s slots.

Related options:

* ``max_concurrent``
* ``moving_target_min``
"""),
])


def register_opts(conf):
    conf.register_group(relocation_group)
    conf.register_opts(relocation_opts, group=relocation_group)


def list_opts():
    return {relocation_group: relocation_opts}
