#!/bin/bash
#
# Drive devstack/plugin.sh the way DevStack does, one script per run:
#
#   run.sh stack            stack.sh: settings, then pre-install, install,
#                           post-config, extra, test-config
#   run.sh unstack          unstack.sh: settings, then unstack
#   run.sh clean            clean.sh: settings, then clean
#   run.sh phase MODE [PH]  settings, then that one phase
#
# Strictness: stack.sh runs with "set -o errexit" and an ERR trap, and with
# "set -o nounset" when NOUNSET is set; every run here uses all three (and
# pipefail), so a failing command or an unset variable in the plugin ends
# the run with a non-zero status. The plugin's phases are called as plain
# statements (never inside if/&&/||, where bash would ignore errexit).

set -o errexit
set -o nounset
set -o pipefail

function err_trap {
    local r=$?
    set +o xtrace
    echo "harness: ${0##*/} failed (exit $r)" >&2
    exit $r
}
trap err_trap ERR

function exit_trap {
    local r=$?
    if [[ $r -ne 0 ]]; then
        echo "harness: ${0##*/} ${ARGS} failed in phase '${SOD_HARNESS_PHASE:-?}' (exit $r)" >&2
    fi
    exit $r
}
ARGS="$*"
trap exit_trap EXIT

source "$(dirname "$0")/functions.sh"

# stack.sh: local.conf's services, minus negated ones, then plugin settings
disable_negated_services
load_plugin_settings
disable_negated_services

case ${1:-} in
    stack)
        run_phase stack pre-install
        run_phase stack install
        run_phase stack post-config
        run_phase stack extra
        run_phase stack test-config
        ;;
    unstack)
        run_phase unstack
        ;;
    clean)
        run_phase clean
        ;;
    phase)
        shift
        run_phase "$@"
        ;;
    *)
        echo "usage: $0 stack|unstack|clean|phase MODE [PHASE]" >&2
        exit 2
        ;;
esac
echo "harness: ${1} done"
