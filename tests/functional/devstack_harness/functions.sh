#!/bin/bash
#
# A stand-in for the DevStack helper functions devstack/plugin.sh and
# devstack/settings use, so that the real plugin runs under bash in CI.
#
# Faithful where the plugin's correctness depends on it:
#   * INI editing really edits files, with DevStack's semantics (ini.awk);
#   * service lists behave like DevStack's (comma-separated ENABLED_SERVICES,
#     DISABLED_SERVICES wins over enable_service, "nova" means any n-*);
#   * run_process/stop_process act only on enabled services;
#   * the plugin is *sourced* from inside a function with "$mode $phase"
#     unquoted, so unstack/clean get no $2, as in DevStack's run_plugins.
# Recorded instead of done: installing, starting/stopping processes, the
# database server, the openstack client (stubs in bin/).
#
# Every call worth checking is appended to $SOD_HARNESS_LOG as one line:
#   <phase> TAB <name> TAB <arg> TAB <arg> ...
#
# Needs (from the caller's environment): SOD_HARNESS_DIR (state), SOD_HARNESS_LOG,
# SOD_HARNESS_BIN (what get_python_exec_prefix answers), SOD_HARNESS_PLUGIN_DIR
# (the repository whose devstack/ is under test).

SOD_HARNESS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SOD_HARNESS_PHASE="${SOD_HARNESS_PHASE:-load}"

function _harness_record {
    local IFS=$'\t'
    printf '%s\t%s\n' "$SOD_HARNESS_PHASE" "$*" >> "$SOD_HARNESS_LOG"
}


# Errors and messages
# -------------------

# die $LINENO "message": print and end the run (DevStack exits, never returns)
function die {
    local rc=$?
    local line=${1:-}
    shift || true
    echo "[ERROR] ${BASH_SOURCE[1]:-?}:$line $*" >&2
    _harness_record die "$line" "$*"
    if [[ $rc -eq 0 ]]; then
        rc=1
    fi
    exit $rc
}

function warn {
    local line=${1:-}
    shift || true
    echo "[WARNING] ${BASH_SOURCE[1]:-?}:$line $*" >&2
}

function echo_summary {
    echo "$@"
}

# trueorfalse default VARNAME
function trueorfalse {
    local default=$1
    local name=$2
    local value=${!name:-$default}
    case "$value" in
        1|yes|Yes|YES|true|True|TRUE|on|On|ON) echo True ;;
        0|no|No|NO|false|False|FALSE|off|Off|OFF) echo False ;;
        *) echo "$default" ;;
    esac
}

# privileged commands run as the current user inside the temp tree
function sudo {
    _harness_record sudo "$@"
    "$@"
}


# INI files
# ---------

function _ini {
    local mode=$1 file=$2 section=$3 option=$4
    shift 4
    local values=""
    local v
    for v in "$@"; do
        values+="${values:+$'\n'}$v"
    done
    if [[ ! -e "$file" ]]; then
        case $mode in
            get|getall) return 0 ;;
            has|delete|comment|uncomment) return 1 ;;
        esac
        mkdir -p "$(dirname "$file")"
        : > "$file"
    fi
    if [[ $mode == get || $mode == getall || $mode == has ]]; then
        INI_MODE=$mode INI_SECTION=$section INI_OPTION=$option INI_VALUES=$values \
            awk -f "$SOD_HARNESS_LIB/ini.awk" "$file" "$file"
        return
    fi
    INI_MODE=$mode INI_SECTION=$section INI_OPTION=$option INI_VALUES=$values \
        awk -f "$SOD_HARNESS_LIB/ini.awk" "$file" "$file" > "$file.harness-new"
    cat "$file.harness-new" > "$file"
    rm -f "$file.harness-new"
}

# iniset [-sudo] file section option value  (creates file and section)
function iniset {
    if [[ "${1:-}" == "-sudo" ]]; then shift; fi
    local file=$1 section=$2 option=$3 value=${4:-}
    if [[ -z "$section" || -z "$option" ]]; then
        return 0
    fi
    _ini set "$file" "$section" "$option" "$value"
}

# iniset_multiline [-sudo] file section option value...
# (DevStack word-splits the values; so does this)
function iniset_multiline {
    if [[ "${1:-}" == "-sudo" ]]; then shift; fi
    local file=$1 section=$2 option=$3
    shift 3
    # shellcheck disable=SC2068
    _ini multi "$file" "$section" "$option" $@
}

# iniadd [-sudo] file section option value...: append to a multi-valued option
function iniadd {
    if [[ "${1:-}" == "-sudo" ]]; then shift; fi
    local file=$1 section=$2 option=$3
    shift 3
    local values
    values="$(iniget_multiline "$file" "$section" "$option") $*"
    # shellcheck disable=SC2086
    iniset_multiline "$file" "$section" "$option" $values
}

function iniget {
    _ini get "$1" "$2" "$3"
}

# all values of a multi-valued option, space separated
function iniget_multiline {
    _ini getall "$1" "$2" "$3"
}

function ini_has_option {
    _ini has "$1" "$2" "$3"
}

function inidelete {
    if [[ "${1:-}" == "-sudo" ]]; then shift; fi
    _ini delete "$1" "$2" "$3"
}

function inicomment {
    if [[ "${1:-}" == "-sudo" ]]; then shift; fi
    _ini comment "$1" "$2" "$3"
}

function iniuncomment {
    if [[ "${1:-}" == "-sudo" ]]; then shift; fi
    _ini uncomment "$1" "$2" "$3"
}


# Services
# --------

function _cleanup_service_list {
    local list=",$1,"
    while [[ $list == *",,"* ]]; do
        list=${list//,,/,}
    done
    list=${list#,}
    echo "${list%,}"
}

# is_service_enabled service [service ...]: true if any is enabled
function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ",${ENABLED_SERVICES:-}," == *",$service,"* ]]; then
            return 0
        fi
        if declare -F "is_${service}_enabled" >/dev/null && "is_${service}_enabled"; then
            return 0
        fi
        local prefix=""
        case $service in
            nova) prefix="n-" ;;
            glance) prefix="g-" ;;
            cinder) prefix="c-" ;;
            swift) prefix="s-" ;;
            neutron) prefix="q-" ;;
        esac
        if [[ -n $prefix && ",${ENABLED_SERVICES:-}" == *",$prefix"* ]]; then
            return 0
        fi
    done
    return 1
}

function disable_negated_services {
    local out="" service negated=""
    for service in ${ENABLED_SERVICES//,/ }; do
        if [[ $service == -* ]]; then
            negated+=",${service#-}"
        fi
    done
    for service in ${ENABLED_SERVICES//,/ }; do
        if [[ $service != -* && ",$negated," != *",$service,"* ]]; then
            out+=",$service"
        fi
    done
    ENABLED_SERVICES=$(_cleanup_service_list "$out")
}

# enable_service service...: refuses what the user disabled
function enable_service {
    local list="${ENABLED_SERVICES:-}" service
    for service in "$@"; do
        if [[ ",${DISABLED_SERVICES:-}," == *",$service,"* ]]; then
            warn $LINENO "Attempt to enable_service $service when it has been disabled"
            continue
        fi
        if ! is_service_enabled "$service"; then
            list+=",$service"
        fi
    done
    ENABLED_SERVICES=$(_cleanup_service_list "$list")
    disable_negated_services
}

function disable_service {
    local list=",${ENABLED_SERVICES:-}," service
    for service in "$@"; do
        DISABLED_SERVICES=$(_cleanup_service_list "${DISABLED_SERVICES:-},$service")
        list=${list//,$service,/,}
    done
    ENABLED_SERVICES=$(_cleanup_service_list "$list")
}


# Plugins
# -------

function define_plugin {
    _harness_record define_plugin "$@"
    SOD_HARNESS_DEFINED_PLUGIN=$1
}

function plugin_requires {
    _harness_record plugin_requires "$@"
}

function load_plugin_settings {
    source "$SOD_HARNESS_PLUGIN_DIR/devstack/settings"
}

# run_phase mode [phase]: DevStack sources plugin.sh from inside a function,
# with "$mode $phase" unquoted (no $2 at all for unstack and clean).
function run_phase {
    local mode=$1
    local phase=${2:-}
    export SOD_HARNESS_PHASE="$mode${phase:+ $phase}"
    _harness_record run_phase "$mode" "$phase"
    # shellcheck disable=SC1090,SC2086
    source "$SOD_HARNESS_PLUGIN_DIR/devstack/plugin.sh" $mode $phase
}


# Processes (systemd units in DevStack): recorded, and tracked in
# $SOD_HARNESS_DIR/running so that unstack can be checked
# ---------

# run_process service "command" [group] [user]
# lib/keystone: accounts and the service catalog (recorded; the service id
# is its name)
function create_service_user {
    _harness_record create_service_user "$@"
}

function get_or_create_service {
    _harness_record get_or_create_service "$@"
    echo "$1"
}

function get_or_create_endpoint {
    _harness_record get_or_create_endpoint "$@"
}

function run_process {
    local service=$1 command=$2
    if ! is_service_enabled "$service"; then
        return 0
    fi
    local -a words
    read -r -a words <<< "$command"
    if [[ ! -x "${words[0]}" ]]; then
        echo "run_process $service: ${words[0]} is not an executable" >&2
        return 1
    fi
    local i
    for ((i = 0; i < ${#words[@]}; i++)); do
        if [[ ${words[i]} == --config-file && ! -f ${words[i + 1]:-} ]]; then
            echo "run_process $service: config file ${words[i + 1]:-} does not exist" >&2
            return 1
        fi
    done
    _harness_record run_process "$service" "$command"
    mkdir -p "$SOD_HARNESS_DIR/running"
    echo "$command" > "$SOD_HARNESS_DIR/running/$service"
}

function stop_process {
    local service=$1
    if ! is_service_enabled "$service"; then
        return 0
    fi
    _harness_record stop_process "$service"
    rm -f "$SOD_HARNESS_DIR/running/$service"
}


# Python
# ------

function get_python_exec_prefix {
    echo "$SOD_HARNESS_BIN"
}

# setup_develop project_dir [extras]
function setup_develop {
    if [[ ! -f "$1/setup.cfg" ]]; then
        echo "setup_develop: $1 is not a python project" >&2
        return 1
    fi
    _harness_record setup_develop "$@"
}

function pip_install {
    _harness_record pip_install "$@"
}


# Messaging and databases
# -----------------------

function get_transport_url {
    local vhost=${1:-}
    echo "rabbit://${RABBIT_USERID}:${RABBIT_PASSWORD}@${RABBIT_HOST}:5672/$vhost"
}

function get_notification_url {
    get_transport_url
}

# iniset_rpc_backend package file [section] [vhost]
function iniset_rpc_backend {
    local package=$1 file=$2 section=${3:-DEFAULT} vhost=${4:-}
    _harness_record iniset_rpc_backend "$package" "$file" "$section"
    if is_service_enabled rabbit || [[ -n "${RABBIT_HOST:-}" && -n "${RABBIT_PASSWORD:-}" ]]; then
        iniset "$file" "$section" transport_url "$(get_transport_url "$vhost")"
    fi
}

function database_connection_url {
    echo "${DATABASE_TYPE}+pymysql://${DATABASE_USER}:${DATABASE_PASSWORD}@${DATABASE_HOST}/$1?charset=utf8"
}

function recreate_database {
    _harness_record recreate_database "$@"
    mkdir -p "$SOD_HARNESS_DIR/databases"
    : > "$SOD_HARNESS_DIR/databases/$1"
}

function setup_logging {
    _harness_record setup_logging "$@"
}
