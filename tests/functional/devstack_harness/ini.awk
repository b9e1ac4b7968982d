# INI editing for the DevStack stand-in (functions.sh), POSIX awk.
#
# Same observable behaviour as DevStack's inc/ini-config: a section is every
# "[name]" block of that name; an option line is "option<blanks>=..." at the
# start of a line; a new option goes right under the section header; a new
# section is appended at the end after a blank line.
#
# Called with the file twice (pass 1 looks, pass 2 writes):
#   INI_MODE=set|multi|delete|comment|uncomment|get|getall|has
#   INI_SECTION, INI_OPTION, INI_VALUES (newline separated)
#   awk -f ini.awk FILE FILE

function header_name(line,    s) {
    s = line
    sub(/^\[/, "", s)
    sub(/\].*$/, "", s)
    return s
}

function is_option(line,    rest) {
    if (substr(line, 1, length(opt)) != opt)
        return 0
    rest = substr(line, length(opt) + 1)
    return rest ~ /^[ \t]*=/
}

function is_commented_option(line,    s) {
    s = line
    if (s !~ /^[ \t]*#/)
        return 0
    sub(/^[ \t]*#[ \t]*/, "", s)
    return is_option(s)
}

function value_of(line,    v) {
    v = substr(line, index(line, "=") + 1)
    sub(/^[ \t]+/, "", v)
    sub(/[ \t]+$/, "", v)
    return v
}

function emit_values(    i) {
    for (i = 1; i <= nvals; i++)
        print opt " = " vals[i]
}

BEGIN {
    mode = ENVIRON["INI_MODE"]
    sec = ENVIRON["INI_SECTION"]
    opt = ENVIRON["INI_OPTION"]
    nvals = 0
    if (ENVIRON["INI_VALUES"] != "" || mode == "set")
        nvals = split(ENVIRON["INI_VALUES"], vals, "\n")
    if (mode == "set" && nvals == 0) {
        nvals = 1
        vals[1] = ""
    }
    has_section = 0
    has_option = 0
    inserted = 0
    got = ""
    ngot = 0
}

# pass 1: what is there
FNR == NR {
    if ($0 ~ /^\[.*\]/) {
        cur = header_name($0)
        if (cur == sec)
            has_section = 1
        next
    }
    if (cur == sec && is_option($0)) {
        has_option = 1
        ngot++
        got = got (ngot > 1 ? " " : "") value_of($0)
        if (ngot == 1)
            first = value_of($0)
    }
    next
}

# between passes
FNR == 1 {
    cur = ""
    if (mode == "get") {
        if (has_option)
            print first
        exit 0
    }
    if (mode == "getall") {
        if (has_option)
            print got
        exit 0
    }
    if (mode == "has")
        exit has_option ? 0 : 1
}

# pass 2: write the new file
{
    if ($0 ~ /^\[.*\]/) {
        cur = header_name($0)
        print
        if (cur == sec && !inserted) {
            if ((mode == "set" && !has_option) || mode == "multi")
                emit_values()
            inserted = 1
        }
        next
    }
    if (cur == sec && is_option($0)) {
        if (mode == "set") {
            print opt " = " vals[1]
            next
        }
        if (mode == "multi" || mode == "delete")
            next
        if (mode == "comment") {
            print "#" $0
            next
        }
    }
    if (cur == sec && mode == "uncomment" && is_commented_option($0)) {
        line = $0
        sub(/^[ \t]*#[ \t]*/, "", line)
        print line
        next
    }
    print
}

END {
    if (mode == "has")
        exit has_option ? 0 : 1
    if (mode == "get" || mode == "getall")
        exit 0
    if (!has_section && (mode == "set" || mode == "multi")) {
        print ""
        print "[" sec "]"
        emit_values()
    }
}
