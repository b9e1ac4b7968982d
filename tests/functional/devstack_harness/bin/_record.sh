# sourced by the stub executables: append "<phase> TAB <name> TAB <args...>"
# to $SOD_HARNESS_LOG, the same format as functions.sh
function _harness_record {
    local IFS=$'\t'
    printf '%s\t%s\n' "${SOD_HARNESS_PHASE:-?}" "$*" >> "$SOD_HARNESS_LOG"
}
