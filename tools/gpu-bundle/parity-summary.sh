#!/usr/bin/env bash
# Sourced by run.sh: jrnn_parity_summary TAG LABEL NONE LOG prints, per precision, the worst of the
# lines "TAG <case> precision=<p> maxAbsErr=<x> tolerance=<t> [scaledErr=<y>]" in LOG (the error
# each case is checked on: scaledErr where present, else maxAbsErr) and how many
# cases exceed their own tolerance (checked on scaledErr when the line has one: those cases compare
# relative to max(1, |expected|)). The precision comes only from the precision= field, never from the
# case name; lines without it are grouped as "unlabelled". Lines with other tags (GPU-CHECK: kernel
# and leak checks, not layer parity) are not counted here.
jrnn_parity_summary() {
    awk -v tag="$1" -v label="$2" -v none="$3" '
        function field(key,    i) {
            for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) return substr($i, length(key) + 2)
            return ""
        }
        {
            name = ""
            for (i = 1; i < NF; i++) if ($i == tag) { name = $(i + 1); break }
            if (name == "") next
            e = field("maxAbsErr")
            if (e == "") next
            err = e + 0
            p = tolower(field("precision"))
            if (p == "") p = "unlabelled"
            t = field("tolerance")
            checked = field("scaledErr")
            checked = (checked == "") ? err : checked + 0
            n[p]++
            if (!(p in worst) || checked > worst[p]) { worst[p] = checked; at[p] = name }
            if (t != "" && !(checked <= t + 0)) {
                over[p]++
                if (!(p in firstOver)) firstOver[p] = sprintf("%s (%.3g > %.3g)", name, checked, t + 0)
            }
            if (t == "") untold[p]++
        }
        END {
            nk = split("fp32 tf32 fp16 bf16", order, " ")
            for (p in n) { known = 0; for (k = 1; k <= nk; k++) if (order[k] == p) known = 1; if (!known) order[++nk] = p }
            any = 0
            for (k = 1; k <= nk; k++) {
                p = order[k]
                if (!(p in n)) continue
                any = 1
                verdict = (p in over) ? sprintf("%d OVER their tolerance, first %s", over[p], firstOver[p]) \
                                      : "all within their tolerance"
                if (p in untold) verdict = verdict sprintf(" (%d without a tolerance field)", untold[p])
                printf "%s %s: worst error %.3g (%s) over %d cases, %s\n", label, p, worst[p], at[p], n[p], verdict
            }
            if (!any) printf "%s: %s\n", label, none
        }' "$4"
}
