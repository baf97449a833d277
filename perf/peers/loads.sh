# perf/compare-peers.sh, sourced: the loads (wrk, iperf3, the sustained churn) run against the
# peer in place, with the CPU snapshots around each. Functions only: nothing runs when sourced.
# shellcheck shell=bash disable=SC2034,SC2153 # the variables are the entry script's

# ---- CPU snapshots around each load (the helper's snap): /proc/stat, the CPU time of the load
# balancer's processes, sluiced (all its threads) or whatever runs in sluice-lb (haproxy; nginx's
# master and worker; nftables has none: its work is the LB core's softirq), and the CPU time of
# processes outside the lab, which says how far other jobs on the machine skewed a figure.
snapshot() { # file
    local pids=()
    if [[ $LB_KIND == sluiced* && -n $LB_PID ]]; then
        pids=("$LB_PID")
    elif [[ -n $LB_PID ]]; then
        mapfile -t pids < <(ip netns pids "$NS_LB" 2>/dev/null)
    fi
    helper snap "$1" "${pids[@]}" || : >"$1"
}

# ---- one bounded load in the client namespace, pinned to the other core; interruptible
# (a background job and `wait`, so the trap runs at once on a signal and stops it).
run_load() { # output-file seconds command...
    local out=$1 secs=$2
    shift 2
    ip netns exec "$NS_CLIENT" taskset -c "$GEN_CPU" timeout -k 5 "$((secs + 30))" "$@" \
        </dev/null >"$out" 2>&1 7>&- 9>&- &
    LOAD_PID=$!
    local rc=0
    wait "$LOAD_PID" || rc=$?
    LOAD_PID=
    return "$rc"
}

# Is the load balancer's process still there after a load? If not, say so in the results (the
# loads after it measure nothing) and forget its pid.
lb_alive() { # peer load
    [[ -n $LB_PID ]] || return 0
    kill -0 "$LB_PID" 2>/dev/null && return 0
    local rc=0
    wait "$LB_PID" 2>/dev/null || rc=$?
    record "$1" note "$LB_KIND (pid $LB_PID) exited during $2 with status $rc (log in $WORK/${RUN_NAME:-$LB_KIND}.log)"
    log "$1: $LB_KIND exited during $2 with status $rc"
    LB_PID=
}

# Is the load balancer in place answering? One GET through it: a warm-up and a sanity check (the
# first SYN to a fresh sluiced may be dropped while it resolves the client's MAC; curl's
# retransmission covers it).
answers() { # peer [what is not measured]
    if ! ip netns exec "$NS_CLIENT" curl -s -m 10 "http://$VIP/" 7>&- 9>&- | grep -q 'backend be'; then
        record "$1" note "no answer from http://$VIP/: ${2:-not measured}"
        return 1
    fi
}

# One load with its CPU snapshots and parsing: prefix (ka, cl, ip, ch1..ch3; the results keys),
# label (for the note when the generator fails), output file, seconds, command.
timed_load() { # peer prefix label out seconds command...
    local peer=$1 prefix=$2 label=$3 out=$4 secs=$5 d=$WORK/$1
    shift 5
    snapshot "$d/stat-$prefix-0"
    run_load "$out" "$secs" "$@" || record "$peer" note "$label exited with status $?"
    snapshot "$d/stat-$prefix-1"
    lb_alive "$peer" "$label"
    if [[ $1 == iperf3 ]]; then
        parse iperf3 "$peer" "$out"
    else
        parse wrk "$peer" "$prefix" "$out"
    fi
    parse cpu "$peer" "$prefix" "$d/stat-$prefix-0" "$d/stat-$prefix-1" "$LB_CPU" "$GEN_CPU"
}

# The short loads: keep-alive, close, iperf3, DURATION seconds each.
measure() { # peer
    local peer=$1 d=$WORK/$1
    mkdir -p "$d"
    local url=http://$VIP/
    answers "$peer" || return 0
    local wrk=(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${DURATION}s" --latency)

    log "$peer: wrk keep-alive, $WRK_THREADS threads, $WRK_CONNECTIONS connections, ${DURATION}s"
    timed_load "$peer" ka "wrk keep-alive" "$d/wrk-keepalive.txt" "$DURATION" "${wrk[@]}" "$url"

    log "$peer: wrk Connection: close (a new connection per request), ${DURATION}s"
    timed_load "$peer" cl "wrk close" "$d/wrk-close.txt" "$DURATION" \
        "${wrk[@]}" -H 'Connection: close' "$url"

    log "$peer: iperf3 to $VIP:5201, ${DURATION}s"
    timed_load "$peer" ip iperf3 "$d/iperf3.json" "$DURATION" \
        iperf3 -c "$VIP" -p 5201 -t "$DURATION" -J --connect-timeout 5000
}

# Sustained churn: CHURN_PERIODS consecutive wrk runs of CHURN_SECONDS each with "Connection:
# close", back to back on the same lab and the same load balancer (nothing torn down or restarted
# in between: the TIME_WAIT sockets and used local ports of one period are there in the next),
# each period's connection rate recorded on its own (ch1, ch2, ch3). A collapse after ~25 s (a
# balancer reusing a local port whose tuple is still in TIME_WAIT at the backend) shows as a
# later period far below the first. The run loop gives it a fresh lab and a fresh load balancer,
# so that the first period does not inherit the TIME_WAIT sockets of the short close load.
churn() { # peer
    local peer=$1 d=$WORK/$1 i url=http://$VIP/
    mkdir -p "$d"
    answers "$peer" "sustained churn not measured" || return 0
    log "$peer: sustained churn, $CHURN_PERIODS × ${CHURN_SECONDS}s of wrk Connection: close, back to back"
    # Between two periods only one CPU snapshot (the end of one period is the start of the next);
    # the parsing waits until the last period has ended.
    snapshot "$d/stat-ch-0"
    for ((i = 1; i <= CHURN_PERIODS; i++)); do
        run_load "$d/wrk-churn-$i.txt" "$CHURN_SECONDS" \
            wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${CHURN_SECONDS}s" --latency \
            -H 'Connection: close' "$url" || record "$peer" note "wrk churn period $i exited with status $?"
        snapshot "$d/stat-ch-$i"
        lb_alive "$peer" "churn period $i"
    done
    for ((i = 1; i <= CHURN_PERIODS; i++)); do
        parse wrk "$peer" "ch$i" "$d/wrk-churn-$i.txt"
        parse cpu "$peer" "ch$i" "$d/stat-ch-$((i - 1))" "$d/stat-ch-$i" "$LB_CPU" "$GEN_CPU"
        log "$peer: churn period $i: $(sed -n 's/^Requests\/sec: *//p' "$d/wrk-churn-$i.txt" 2>/dev/null) connections/s"
    done
}
