#!/bin/bash
#
# devstack/plugin.sh - DevStack plugin for sod-nova (Security on Demand)
#
# Sourced by DevStack as ``plugin.sh <mode> [<phase>]``:
#   stack install      install the package (setup_develop), and the Dashboard
#                      plugin sod-horizon where Horizon runs
#   stack post-config  write sod_nova.conf; add the scheduler filter, the SoD
#                      database and versioned notifications to nova.conf;
#                      create and sync the SoD database (controller); enroll
#                      this host's attestation key (computes)
#                      where Horizon runs: enable sod-horizon's panels and
#                      point them at sod_nova.conf
#   stack extra        start the services, create one flavor per package;
#                      with sod-api: register it in Keystone's catalog
#                      (service type security-on-demand) and start it
#   unstack            stop the services
#   clean              remove the configuration, keys, database and flavors
#
# Settings and the services each node runs: devstack/settings.
# The plugin must stay clean under DevStack's ``set -o errexit`` and under
# ``NOUNSET=True`` (``set -o nounset``); tests/functional/
# test_devstack_plugin.py runs it that way.

# Save trace setting
_XTRACE_SOD_NOVA=$(set +o | grep xtrace)
set -o xtrace

SOD_NOVA_SERVICES="sod-agent sod-monitor sod-manager sod-api"


# Helpers
# -------

# The controller: where the SoD database, the flavors and the monitor and
# manager live.
function is_sod_nova_controller {
    is_service_enabled sod-monitor sod-manager
}

# A python that can import sod_nova.
function _sod_nova_python {
    if [[ -n "${SOD_NOVA_PYTHON:-}" ]]; then
        echo "$SOD_NOVA_PYTHON"
    elif [[ -x "$SOD_NOVA_BIN_DIR/python3" ]]; then
        echo "$SOD_NOVA_BIN_DIR/python3"
    else
        echo "${PYTHON:-python3}"
    fi
}

function _sod_nova_cli {
    "$SOD_NOVA_BIN_DIR/sod-nova" --config-file "$SOD_NOVA_CONF" "$@"
}

# Nova's name for this compute host (what the agent reports for)
function _sod_nova_agent_host {
    local host=${SOD_NOVA_AGENT_HOST:-}
    if [[ -z "$host" && -f "${NOVA_CONF:-}" ]]; then
        host=$(iniget "$NOVA_CONF" DEFAULT host)
    fi
    echo "${host:-$(hostname)}"
}

# Names of the security packages, one a line, in catalogue order: from the
# installed package's packages.yaml (or SOD_NOVA_PACKAGES_FILE), through
# sod-nova's own loader so that a malformed file fails here (fail closed).
function sod_nova_package_names {
    local python
    python=$(_sod_nova_python)
    "$python" - "${SOD_NOVA_PACKAGES_FILE:-}" <<'EOF'
import sys

from sod_nova.catalog import loader

for name in loader.load_packages(sys.argv[1] or None):
    print(name)
EOF
}

# Add the sod filter to Nova's scheduler in one nova.conf: the class path to
# available_filters (multi-valued, keeping nova's all_filters and anything
# already there) and the name to enabled_filters (kept, never duplicated).
function _sod_nova_configure_filters {
    local conf=$1
    local available=""
    local value
    for value in $(iniget_multiline "$conf" filter_scheduler available_filters) \
            nova.scheduler.filters.all_filters "$SOD_NOVA_FILTER_CLASS"; do
        if [[ " $available " != *" $value "* ]]; then
            available+="${available:+ }$value"
        fi
    done
    iniset_multiline "$conf" filter_scheduler available_filters $available

    local enabled
    enabled=$(iniget "$conf" filter_scheduler enabled_filters)
    enabled=${enabled:-$SOD_NOVA_NOVA_DEFAULT_FILTERS}
    enabled=${enabled// /}
    if [[ ",$enabled," != *",$SOD_NOVA_FILTER_NAME,"* ]]; then
        enabled="${enabled%,}${enabled:+,}$SOD_NOVA_FILTER_NAME"
    fi
    iniset "$conf" filter_scheduler enabled_filters "$enabled"
}

# Versioned instance.update notifications on every state change: how policy
# changes (instance metadata) and migrations reach the relocation engine.
function _sod_nova_configure_notifications {
    local conf=$1
    local format
    iniset "$conf" notifications notify_on_state_change vm_and_task_state
    format=$(iniget "$conf" notifications notification_format)
    if [[ "$format" != "versioned" ]]; then
        # keep unversioned ones flowing for whoever else listens
        iniset "$conf" notifications notification_format both
    fi
    iniset "$conf" oslo_messaging_notifications driver messagingv2
}

# The options every sod-nova process, and nova-scheduler's filter and
# nova-api's sod: extra-spec validators, read: database and catalogue
function _sod_nova_configure_shared {
    local conf=$1
    if [[ -n "${DATABASE_TYPE:-}" ]]; then
        iniset "$conf" sod_database connection "$(database_connection_url "$SOD_NOVA_DB_NAME")"
    fi
    if [[ -n "$SOD_NOVA_PACKAGES_FILE" ]]; then
        iniset "$conf" sod_catalog packages_file "$SOD_NOVA_PACKAGES_FILE"
    fi
    if [[ -n "$SOD_NOVA_ARCHITECTURES_FILE" ]]; then
        iniset "$conf" sod_catalog architectures_file "$SOD_NOVA_ARCHITECTURES_FILE"
    fi
}


# Phases
# ------

# stack install
function install_sod_nova {
    setup_develop "$SOD_NOVA_DIR"
}

# stack install: the Dashboard plugin, where Horizon runs
function install_sod_horizon {
    if ! is_service_enabled horizon; then
        return 0
    fi
    setup_develop "$SOD_NOVA_HORIZON_DIR"
}

# The plugin's enabled files, by name (what Horizon's local/enabled gets).
function _sod_horizon_enabled_files {
    local f
    for f in "$SOD_NOVA_HORIZON_DIR"/sod_horizon/enabled/_[0-9]*.py; do
        basename "$f"
    done
}

# stack post-config: before DevStack's init_horizon collects static files,
# enable the panels and the Launch Instance step. The plugin finds
# sod-nova-api in the user's catalog (registered by this plugin), so Horizon
# gets no sod-nova setting; one an older version wrote is removed.
function configure_sod_horizon {
    if ! is_service_enabled horizon; then
        return 0
    fi
    local enabled=$HORIZON_DIR/openstack_dashboard/local/enabled
    local settings=$HORIZON_DIR/openstack_dashboard/local/local_settings.py
    local name
    install -d "$enabled"
    for name in $(_sod_horizon_enabled_files); do
        cp "$SOD_NOVA_HORIZON_DIR/sod_horizon/enabled/$name" "$enabled/$name"
    done
    _sod_horizon_forget_settings "$settings"
}

# The setting older versions of the plugin needed (sod-nova's config files).
function _sod_horizon_forget_settings {
    if [[ -f "$1" ]]; then
        sed -i '/^SOD_NOVA_CONFIG_FILES = .*# sod-nova$/d' "$1"
    fi
}

# clean: take the plugin out of Horizon again
function cleanup_sod_horizon {
    local enabled=$HORIZON_DIR/openstack_dashboard/local/enabled
    local name
    for name in $(_sod_horizon_enabled_files); do
        rm -f "$enabled/$name"
    done
    _sod_horizon_forget_settings "$HORIZON_DIR/openstack_dashboard/local/local_settings.py"
}

# The monitor group's nonce key (the monitor) and the public half of the
# challenge key derived from it (the agent: it takes only challenges signed
# with it, as ``sod-nova trust challenge-key`` prints it). A compute node
# without the monitor needs SOD_NOVA_CHALLENGE_KEY from the controller.
function _sod_nova_configure_challenges {
    local nonce_key=$SOD_NOVA_DATA_DIR/nonce.key
    local challenge_key=$SOD_NOVA_DATA_DIR/challenge.pub
    local python
    python=$(_sod_nova_python)
    if is_service_enabled sod-monitor; then
        if [[ ! -s "$nonce_key" ]]; then
            "$python" -c 'import sys; from sod_nova.trust import nonces; nonces.write_key(sys.argv[1])' "$nonce_key"
        fi
        iniset "$SOD_NOVA_CONF" sod_trust nonce_key_file "$nonce_key"
    fi
    if ! is_service_enabled sod-agent; then
        return 0
    fi
    if [[ -n "$SOD_NOVA_CHALLENGE_KEY" ]]; then
        echo "$SOD_NOVA_CHALLENGE_KEY" > "$challenge_key"
    elif is_service_enabled sod-monitor; then
        "$python" - "$nonce_key" > "$challenge_key" <<'EOF'
import sys

from sod_nova.trust import challenges
from sod_nova.trust import nonces

print(challenges.public_key_text(nonces.load_key(sys.argv[1])))
EOF
    else
        warn $LINENO "sod-agent: set SOD_NOVA_CHALLENGE_KEY to what" \
            "'sod-nova trust challenge-key' prints on the controller;" \
            "without it the agent does not start"
        return 0
    fi
    iniset "$SOD_NOVA_CONF" sod_trust challenge_public_key_file "$challenge_key"
}

# The audit chain's key (the manager writes with it; sod-nova-api and
# "sod-nova audit verify" check with it), kept with the services' keys, never
# in the database. Both run on the controller.
function _sod_nova_configure_audit_key {
    if ! is_service_enabled sod-manager sod-api; then
        return 0
    fi
    local audit_key=$SOD_NOVA_DATA_DIR/audit.key
    if [[ ! -s "$audit_key" ]]; then
        "$(_sod_nova_python)" -c 'import sys; from sod_nova.db import audit; audit.write_key(sys.argv[1])' "$audit_key"
    fi
    iniset "$SOD_NOVA_CONF" sod_audit key_file "$audit_key"
}

# stack post-config: sod_nova.conf
function configure_sod_nova {
    sudo install -d -o "$STACK_USER" -m 755 "$SOD_NOVA_CONF_DIR"
    install -d -m 700 "$SOD_NOVA_DATA_DIR"
    rm -f "$SOD_NOVA_CONF"
    touch "$SOD_NOVA_CONF"

    iniset "$SOD_NOVA_CONF" DEFAULT debug "${ENABLE_DEBUG_LOG_LEVEL:-True}"
    # RPC between agents, monitor and manager: Nova's RabbitMQ, top vhost
    iniset_rpc_backend sod_nova "$SOD_NOVA_CONF"
    # Nova's notifications go to the top-level transport too (not a cell's)
    local notification_url
    if declare -F get_notification_url >/dev/null; then
        notification_url=$(get_notification_url)
    else
        notification_url=$(get_transport_url)
    fi
    iniset "$SOD_NOVA_CONF" oslo_messaging_notifications transport_url "$notification_url"

    _sod_nova_configure_shared "$SOD_NOVA_CONF"

    _sod_nova_configure_challenges
    _sod_nova_configure_audit_key

    if is_service_enabled sod-agent; then
        iniset "$SOD_NOVA_CONF" sod_trust host "$(_sod_nova_agent_host)"
        iniset "$SOD_NOVA_CONF" sod_trust backend "$SOD_NOVA_TRUST_BACKEND"
        iniset "$SOD_NOVA_CONF" sod_trust architecture "$SOD_NOVA_TRUST_ARCHITECTURE"
        iniset "$SOD_NOVA_CONF" sod_trust private_key_file "$SOD_NOVA_DATA_DIR/agent_key.pem"
    fi

    # The migration manager drives live migrations through Nova's API with
    # DevStack's admin, and sod-nova-api reads the hosts of servers with it;
    # only the controller gets the password. DevStack registers public
    # endpoints only.
    if is_service_enabled sod-manager sod-api; then
        local auth_url=${KEYSTONE_SERVICE_URI:-${SERVICE_PROTOCOL:-http}://${SERVICE_HOST:-127.0.0.1}/identity}
        iniset "$SOD_NOVA_CONF" nova auth_type password
        iniset "$SOD_NOVA_CONF" nova auth_url "$auth_url"
        iniset "$SOD_NOVA_CONF" nova username admin
        iniset "$SOD_NOVA_CONF" nova password "$ADMIN_PASSWORD"
        iniset "$SOD_NOVA_CONF" nova project_name admin
        iniset "$SOD_NOVA_CONF" nova user_domain_name Default
        iniset "$SOD_NOVA_CONF" nova project_domain_name Default
        iniset "$SOD_NOVA_CONF" nova region_name "${REGION_NAME:-RegionOne}"
        iniset "$SOD_NOVA_CONF" nova interface public
    fi

    # sod-nova-api: tokens validated by keystonemiddleware; callers' tokens
    # go on to Nova. The OSC plugin comes with the package (setup_develop).
    if is_service_enabled sod-api; then
        iniset "$SOD_NOVA_CONF" sod_api auth_strategy keystone
        if declare -F configure_keystone_authtoken_middleware >/dev/null; then
            configure_keystone_authtoken_middleware "$SOD_NOVA_CONF" sod-nova
        fi
    fi

    if declare -F setup_logging >/dev/null; then
        setup_logging "$SOD_NOVA_CONF"
    fi
}

# stack extra: sod-nova-api's service user and its catalog entry (with
# DevStack's lib/keystone helpers)
function create_sod_nova_api_accounts {
    if ! is_service_enabled sod-api; then
        return 0
    fi
    create_service_user "sod-nova" "admin"
    local service
    service=$(get_or_create_service "sod-nova" "$SOD_NOVA_API_SERVICE_TYPE" \
        "Security on Demand for Nova")
    get_or_create_endpoint "$service" "${REGION_NAME:-RegionOne}" "$SOD_NOVA_API_URL"
}

# stack extra: sod-nova-api under uwsgi as DevStack runs its other APIs, or
# pbr's development server where DevStack's uwsgi helpers are missing
function start_sod_nova_api {
    if ! is_service_enabled sod-api; then
        return 0
    fi
    if declare -F write_uwsgi_config >/dev/null; then
        write_uwsgi_config "$SOD_NOVA_UWSGI_CONF" "$SOD_NOVA_BIN_DIR/sod-nova-api" \
            "/$SOD_NOVA_API_SERVICE_TYPE" "" "sod-api"
        run_process sod-api "$(which uwsgi) --procname-prefix sod-api --ini $SOD_NOVA_UWSGI_CONF"
    else
        run_process sod-api "$SOD_NOVA_BIN_DIR/sod-nova-api --port $SOD_NOVA_API_PORT -- --config-file $SOD_NOVA_CONF"
    fi
}

# stack post-config: nova.conf (and the cell conductors' and compute's
# copies when they already exist)
function configure_nova_for_sod_nova {
    if ! is_service_enabled nova; then
        return 0
    fi
    local nova_conf_dir=${NOVA_CONF_DIR:-$(dirname "$NOVA_CONF")}
    local conf
    for conf in "$NOVA_CONF" "${NOVA_CPU_CONF:-$nova_conf_dir/nova-cpu.conf}" \
            "$nova_conf_dir"/nova_cell*.conf; do
        if [[ "$conf" == "$NOVA_CONF" || -f "$conf" ]]; then
            _sod_nova_configure_filters "$conf"
            _sod_nova_configure_notifications "$conf"
        fi
    done
    # the filter (nova-scheduler) and the validators (nova-api) read the SoD
    # database and catalogue from Nova's own configuration
    if is_service_enabled n-sch n-api; then
        _sod_nova_configure_shared "$NOVA_CONF"
    fi
}

# stack post-config: the SoD database, on the controller
function init_sod_nova {
    if ! is_sod_nova_controller; then
        return 0
    fi
    if [[ -z "${DATABASE_TYPE:-}" ]]; then
        die $LINENO "sod-nova: no database backend enabled on the controller"
    fi
    recreate_database "$SOD_NOVA_DB_NAME"
    _sod_nova_cli db sync
}

# stack post-config: enroll this compute host's attestation key, so that its
# evidence counts (nothing is trusted on first use). The key is the one the
# agent will load, created now if missing.
function enroll_sod_nova_agent {
    if ! is_service_enabled sod-agent; then
        return 0
    fi
    local key_file=$SOD_NOVA_DATA_DIR/agent_key.pem
    local python public host
    python=$(_sod_nova_python)
    public=$("$python" - "$key_file" <<'EOF'
import sys

from sod_nova.trust import keys

print(keys.public_key_text(keys.load_or_create_private_key(sys.argv[1])))
EOF
)
    host=$(_sod_nova_agent_host)
    SOD_NOVA_AUTO_ENROLL=$(trueorfalse True SOD_NOVA_AUTO_ENROLL)
    if [[ "$SOD_NOVA_AUTO_ENROLL" != "True" || -z "${DATABASE_TYPE:-}" ]]; then
        echo "sod-nova: enroll $host by hand:" \
            "echo $public | sod-nova trust enroll $host" \
            "--architecture $SOD_NOVA_TRUST_ARCHITECTURE --public-key -"
        return 0
    fi
    echo "$public" | _sod_nova_cli trust enroll "$host" \
        --architecture "$SOD_NOVA_TRUST_ARCHITECTURE" --public-key -
}

# stack extra
function start_sod_nova {
    local args="--config-file $SOD_NOVA_CONF"
    run_process sod-monitor "$SOD_NOVA_BIN_DIR/sod-trust-monitor $args"
    run_process sod-manager "$SOD_NOVA_BIN_DIR/sod-migration-manager $args"
    run_process sod-agent "$SOD_NOVA_BIN_DIR/sod-trust-agent $args"
    start_sod_nova_api
}

# stack extra: one flavor per security package, on the controller
function create_sod_nova_flavors {
    if ! is_sod_nova_controller; then
        return 0
    fi
    SOD_NOVA_CREATE_FLAVORS=$(trueorfalse True SOD_NOVA_CREATE_FLAVORS)
    if [[ "$SOD_NOVA_CREATE_FLAVORS" != "True" ]]; then
        return 0
    fi
    local names name flavor
    names=$(sod_nova_package_names)
    if [[ -z "$names" ]]; then
        die $LINENO "sod-nova: no security packages to create flavors for"
    fi
    for name in $names; do
        flavor="$SOD_NOVA_FLAVOR_PREFIX$name"
        if ! openstack --os-cloud devstack-admin flavor show "$flavor" >/dev/null 2>&1; then
            openstack --os-cloud devstack-admin --os-region-name "${REGION_NAME:-RegionOne}" \
                flavor create --ram "$SOD_NOVA_FLAVOR_RAM" --disk "$SOD_NOVA_FLAVOR_DISK" \
                --vcpus "$SOD_NOVA_FLAVOR_VCPUS" --property "sod:package=$name" "$flavor"
        fi
    done
}

# unstack
function stop_sod_nova {
    local service
    for service in $SOD_NOVA_SERVICES; do
        stop_process "$service"
    done
}

# clean: everything is best effort, the cloud may already be down
function cleanup_sod_nova {
    if is_sod_nova_controller; then
        local names name
        if names=$(sod_nova_package_names 2>/dev/null); then
            for name in $names; do
                openstack --os-cloud devstack-admin flavor delete \
                    "$SOD_NOVA_FLAVOR_PREFIX$name" >/dev/null 2>&1 || true
            done
        fi
        case "${DATABASE_TYPE:-}" in
            mysql)
                mysql -u"${DATABASE_USER:-root}" -p"${DATABASE_PASSWORD:-}" \
                    -h"${DATABASE_HOST:-127.0.0.1}" \
                    -e "DROP DATABASE IF EXISTS $SOD_NOVA_DB_NAME;" || true
                ;;
            postgresql)
                PGPASSWORD="${DATABASE_PASSWORD:-}" dropdb -h"${DATABASE_HOST:-127.0.0.1}" \
                    -U"${DATABASE_USER:-root}" --if-exists "$SOD_NOVA_DB_NAME" || true
                ;;
        esac
    fi
    sudo rm -rf "$SOD_NOVA_CONF_DIR"
    rm -rf "$SOD_NOVA_DATA_DIR"
}


# Dispatcher
# ----------

if is_service_enabled $SOD_NOVA_SERVICES; then
    if [[ "$1" == "stack" && "${2:-}" == "install" ]]; then
        echo_summary "Installing sod-nova"
        install_sod_nova
        install_sod_horizon

    elif [[ "$1" == "stack" && "${2:-}" == "post-config" ]]; then
        echo_summary "Configuring sod-nova"
        configure_sod_nova
        configure_nova_for_sod_nova
        init_sod_nova
        enroll_sod_nova_agent
        configure_sod_horizon

    elif [[ "$1" == "stack" && "${2:-}" == "extra" ]]; then
        echo_summary "Starting sod-nova"
        create_sod_nova_api_accounts
        start_sod_nova
        create_sod_nova_flavors
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_sod_nova
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_sod_nova
        cleanup_sod_horizon
    fi
fi

# Restore xtrace
$_XTRACE_SOD_NOVA
