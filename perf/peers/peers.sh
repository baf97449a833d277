# perf/compare-peers.sh, sourced: the lab for each peer and the start and stop of each peer. Uses
# the entry script's settings (NS_LB, VIP, BACKENDS, LB_CPU, GEN_CPU, WORK, ...) and its state for
# the trap (LAB_UP, LB_PID, LB_KIND, KERNEL_LB). Functions only: nothing runs when sourced.
# shellcheck shell=bash disable=SC2034,SC2153 # the variables are the entry script's

stop_pid() { # pid [seconds]: SIGTERM, wait, SIGKILL
    local pid=$1 wait_s=${2:-10} i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < wait_s * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# ---- the lab, one per peer (scripts/lab.sh), with the receive processing placed by RPS
lab_up() {
    LAB_UP=1
    ./scripts/lab.sh up 7>&- 9>&- >"$WORK/lab-$1.log" 2>&1 || return 1
    local ns pid dev i
    # The backends' servers (nginx, iperf3, udp echo) go to the other core with the clients.
    for ((i = 1; i <= LAB_BACKENDS; i++)); do
        while read -r pid; do
            taskset -a -p -c "$GEN_CPU" "$pid" >/dev/null 2>&1 || true
        done < <(ip netns pids "sluice-be$i")
    done
    ((USE_RPS)) || return 0
    # RPS: receive processing of the LB namespace's interfaces on the LB core, of the others on
    # the other core (see the header). `ip netns exec` mounts the namespace's own /sys.
    ip netns exec "$NS_LB" sh -c "for f in /sys/class/net/*/queues/rx-*/rps_cpus; do
        case \$f in */lo/*) ;; *) echo $(mask "$LB_CPU") >\$f || exit 1 ;; esac; done" ||
        { echo "RPS setup failed in $NS_LB" >&2; return 1; }
    for ((i = 1; i <= LAB_BACKENDS + 1; i++)); do
        ns=sluice-be$i
        ((i <= LAB_BACKENDS)) || ns=$NS_CLIENT
        ip netns exec "$ns" sh -c "for f in /sys/class/net/eth0/queues/rx-*/rps_cpus; do
            echo $(mask "$GEN_CPU") >\$f || exit 1; done" ||
            { echo "RPS setup failed in $ns" >&2; return 1; }
    done
}

lab_down() {
    ./scripts/lab.sh down 7>&- 9>&- >>"$WORK/lab-$1.log" 2>&1 || true
    LAB_UP=0
}

# ---- the kernel of sluice-lb as the load balancer (haproxy, nginx, nftables)
# lab.sh keeps that kernel silent for sluiced: no addresses, arp off on lbc0/lbs0, arp_ignore=8,
# ip_forward=0, and policy rules that send everything arriving on lbc0/lbs0 to a blackhole before
# the local table (moved from priority 0 to 100) is consulted. The kernel peers need the
# opposite. The blackhole rules go; the local table's rule can stay at priority 100, since with
# the blackholes gone it is the first rule again. kernel_lb_off puts everything back.
kernel_lb_on() { # (called in a condition, where set -e is off: every step checked)
    KERNEL_LB=1
    local dev
    for dev in lbc0 lbs0; do
        ip -n "$NS_LB" rule del pref 10 iif "$dev" blackhole || return 1
    done
    ip -n "$NS_LB" addr add "$GATEWAY/24" dev lbc0 || return 1
    # The VIP as a local address: the kernel answers ARP for it (the client sees it on-link), as
    # on an IPVS director, and haproxy/nginx can bind it.
    ip -n "$NS_LB" addr add "$VIP/32" dev lbc0 || return 1
    ip -n "$NS_LB" addr add "$LOCAL_ADDR/24" dev lbs0 || return 1
    ip -n "$NS_LB" link set lbc0 arp on || return 1
    ip -n "$NS_LB" link set lbs0 arp on || return 1
    ip netns exec "$NS_LB" sysctl -qw net.ipv4.conf.all.arp_ignore=0
}

kernel_lb_off() {
    local dev
    ip netns exec "$NS_LB" nft delete table ip sluice_peers 2>/dev/null || true
    ip netns exec "$NS_LB" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.arp_ignore=8
    for dev in lbc0 lbs0; do
        ip -n "$NS_LB" link set "$dev" arp off
        ip -n "$NS_LB" addr flush dev "$dev"
        ip -n "$NS_LB" rule show pref 10 | grep -q "iif $dev blackhole" ||
            ip -n "$NS_LB" rule add iif "$dev" pref 10 blackhole
    done
    KERNEL_LB=0
}

# ---- starting and stopping each peer; each returns non-zero with a reason on stderr

# Waits up to 10 s for a TCP listener on $VIP:80 in sluice-lb while $LB_PID lives.
wait_listening() {
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$LB_PID" 2>/dev/null || return 1
        ip netns exec "$NS_LB" ss -Hltn "src $VIP:80" | grep -q LISTEN && return 0
        sleep 0.1
    done
    return 1
}

start_sluiced() { # config log
    local config=$1 logf=$2 i
    # Like demo.sh and tests/e2e/lab.py: root namespace (sluiced enters sluice-lb itself), lcores
    # from the config (control_cpu, worker_cpus).
    "$SLUICED" --config "$config" </dev/null >"$logf" 2>&1 7>&- 9>&- &
    LB_PID=$!
    for ((i = 0; i < 600; i++)); do
        grep -q 'sluiced: ready' "$logf" && return 0
        kill -0 "$LB_PID" 2>/dev/null || { tail -n 5 "$logf" >&2; echo "sluiced exited before ready" >&2; return 1; }
        sleep 0.1
    done
    echo "sluiced not ready after 60 s" >&2
    return 1
}

start_haproxy() {
    local dir=$WORK/haproxy
    mkdir -p "$dir"
    {
        cat <<EOF
# HAProxy as an L4 load balancer: one thread, pinned with taskset to the LB core.
global
    nbthread 1
    maxconn $PROXY_MAXCONN
    log stderr format short local0 err
defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    maxconn $PROXY_MAXCONN
frontend http
    bind $VIP:80
    default_backend web
backend web
    balance leastconn
EOF
        for i in "${!BACKENDS[@]}"; do echo "    server be$((i + 1)) ${BACKENDS[i]}:80"; done
        cat <<EOF
# iperf3's control and data connections must meet on one server: hash the source address (as
# sluiced's maglev src-ip VIP does).
frontend iperf3
    bind $VIP:5201
    default_backend iperf3
backend iperf3
    balance source
EOF
        for i in "${!BACKENDS[@]}"; do echo "    server be$((i + 1)) ${BACKENDS[i]}:5201"; done
    } >"$dir/haproxy.cfg"
    haproxy -c -q -f "$dir/haproxy.cfg" >"$dir/check.log" 2>&1 ||
        { cat "$dir/check.log" >&2; return 1; }
    # -db: foreground (no daemon) so $! is haproxy itself; `ip netns exec` and taskset exec it.
    ip netns exec "$NS_LB" taskset -c "$LB_CPU" haproxy -db -f "$dir/haproxy.cfg" \
        </dev/null >"$dir/haproxy.log" 2>&1 7>&- 9>&- &
    LB_PID=$!
    wait_listening || { tail -n 5 "$dir/haproxy.log" >&2; echo "haproxy did not start" >&2; return 1; }
}

start_nginx() {
    local dir=$WORK/nginx
    mkdir -p "$dir"
    {
        cat <<EOF
# nginx stream (TCP proxy): one worker, pinned with taskset (master and worker) to the LB core.
load_module $NGINX_STREAM_MODULE;
user root;
daemon off;
worker_processes 1;
worker_rlimit_nofile $FD_LIMIT;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $((PROXY_MAXCONN * 2)); }
stream {
    upstream web {
EOF
        for b in "${BACKENDS[@]}"; do echo "        server $b:80;"; done
        cat <<EOF
    }
    upstream iperf3 {
        hash \$remote_addr consistent; # control and data connections to one server
EOF
        for b in "${BACKENDS[@]}"; do echo "        server $b:5201;"; done
        cat <<EOF
    }
    server { listen $VIP:80; proxy_pass web; }
    server { listen $VIP:5201; proxy_pass iperf3; }
}
EOF
    } >"$dir/nginx.conf"
    ip netns exec "$NS_LB" taskset -c "$LB_CPU" nginx -c "$dir/nginx.conf" -p "$dir" \
        -e "$dir/error.log" </dev/null >"$dir/nginx.log" 2>&1 7>&- 9>&- &
    LB_PID=$!
    wait_listening || { cat "$dir/nginx.log" "$dir/error.log" 2>/dev/null | tail -n 5 >&2; echo "nginx did not start" >&2; return 1; }
}

start_nftables() {
    local dir=$WORK/nftables map i entries=()
    mkdir -p "$dir"
    for i in "${!BACKENDS[@]}"; do entries+=("$i : ${BACKENDS[i]}"); done
    map=$(IFS=,; echo "${entries[*]}") # 0 : 198.18.1.11,1 : 198.18.1.12,...
    cat >"$dir/rules.nft" <<EOF
# Kernel full-NAT in sluice-lb: DNAT the VIP to a backend, SNAT to the LB's server-side address
# (the backends have no route to the clients, as with sluiced).
table ip sluice_peers {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "lbc0" ip daddr $VIP tcp dport 80 dnat to numgen inc mod ${#BACKENDS[@]} map { $map }
        # iperf3: control and data connections to one server, hashed on the source address
        iifname "lbc0" ip daddr $VIP tcp dport 5201 dnat to jhash ip saddr mod ${#BACKENDS[@]} map { $map }
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "lbs0" ct status dnat snat to $LOCAL_ADDR
    }
}
EOF
    ip netns exec "$NS_LB" nft -f "$dir/rules.nft" 2>"$dir/nft.log" || { cat "$dir/nft.log" >&2; return 1; }
    ip netns exec "$NS_LB" sysctl -qw net.ipv4.ip_forward=1
}

start_peer() {
    LB_KIND=$1
    case $1 in
    sluiced) start_sluiced "$CONFIG" "$WORK/${RUN_NAME:-$1}.log" ;;
    sluiced-spin)
        # The lab config with only the idle policy changed.
        sed 's/^idle = "backoff"/idle = "spin"/' "$CONFIG" >"$WORK/spin.toml"
        grep -q '^idle = "spin"' "$WORK/spin.toml" ||
            { echo "no 'idle = \"backoff\"' line to change in $CONFIG" >&2; return 1; }
        start_sluiced "$WORK/spin.toml" "$WORK/${RUN_NAME:-$1}.log"
        ;;
    haproxy) kernel_lb_on && start_haproxy ;;
    nginx) kernel_lb_on && start_nginx ;;
    nftables) kernel_lb_on && start_nftables ;;
    esac
}

stop_peer() { # [results key of sluiced's drop counters]
    if [[ -n $LB_PID ]]; then
        stop_pid "$LB_PID" 10
        wait "$LB_PID" 2>/dev/null || true
    fi
    LB_PID=
    local logf=$WORK/${RUN_NAME:-$LB_KIND}.log # one sluiced log per run (short loads, churn)
    if [[ $LB_KIND == sluiced* && -f $logf ]]; then
        parse drops "$LB_KIND" "$logf" "${1:-drops}"
    fi
    if ((KERNEL_LB)); then kernel_lb_off; fi
    LB_KIND=
}
