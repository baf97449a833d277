#!/usr/bin/env bash
# The Sluice lab: network namespaces and veth pairs standing in for a load-balancer host, its
# clients and a pool of servers. See docs/lab.md for the drawing.
#
#   scripts/lab.sh up       tear down leftovers, build the lab, start the servers
#   scripts/lab.sh down     stop the servers, delete the namespaces and the state dir (idempotent)
#   scripts/lab.sh status   list namespaces, links, addresses and servers
#
# Environment: LAB_BACKENDS (default 3, 1..9), LAB_STATE_DIR (default /run/sluice-lab),
# LAB_BIG_MIB (size of /big.bin, default 50), LAB_ROUTER=1 (one more backend, sluice-rbe, behind a
# router, sluice-rt, over a 1280-byte MTU hop: router_up; default 0).
#
# Dual-stack: addresses come only from 198.18.0.0/15 and 2001:2::/48 (the benchmarking ranges);
# nothing is configured in the root namespace (veths are created directly inside their namespaces).
set -euo pipefail

LAB_BACKENDS=${LAB_BACKENDS:-3}
STATE_DIR=${LAB_STATE_DIR:-/run/sluice-lab}
BIG_MIB=${LAB_BIG_MIB:-50}
LAB_ROUTER=${LAB_ROUTER:-0}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

NS_CLIENT=sluice-client
NS_LB=sluice-lb
CLIENT_ADDR=198.18.0.2/24
CLIENT_GW=198.18.0.1 # answered by sluiced on lbc0
CLIENT_ADDR6=2001:2::2/64
CLIENT_GW6=2001:2::1 # answered by sluiced (NDP) on lbc0
BRIDGE=br-srv
# LAB_ROUTER=1 (router_up): the router's legs and the routed backend behind it.
NS_RT=sluice-rt
NS_RBE=sluice-rbe
RT_ADDR=198.18.1.254/24 # on br-srv, the next hop of the LB's [[route]]s
RT_ADDR6=2001:2:0:1::fe/64
RT_FAR_ADDR=198.18.9.1/24 # the small hop's router end
RT_FAR_ADDR6=2001:2:0:9::1/64
RBE_ADDR=198.18.9.2/24
RBE_ADDR6=2001:2:0:9::2/64
RBE_MTU=1280

log() { echo "lab: $*"; }
die() {
    echo "lab: error: $*" >&2
    exit 1
}

backend_ns() { echo "sluice-be$1"; }
backend_ip() { echo "198.18.1.1$1"; }
backend_ip6() { echo "2001:2:0:1::1$1"; }

# Namespaces of a lab that exist now, whatever LAB_BACKENDS was when it was built.
existing_namespaces() {
    ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^sluice-(client|lb|rt|rbe|be[0-9]+)$' || true
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces)"
}

require_tools() {
    local t missing=()
    for t in ip ethtool nginx iperf3 python3 curl ss sha256sum; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    [[ ${#missing[@]} -eq 0 ]] || die "missing tools: ${missing[*]} (run scripts/install-deps.sh)"
    [[ -d /proc/sys/net/ipv6 ]] || die "the kernel has no IPv6 (booted with ipv6.disable=1?)"
}

# Sends SIGTERM to the pids, waits up to 3 s, then SIGKILL to whatever is left.
kill_pids() {
    local pids=("$@") p i alive
    [[ ${#pids[@]} -gt 0 ]] || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        alive=()
        for p in "${pids[@]}"; do
            kill -0 "$p" 2>/dev/null && alive+=("$p")
        done
        [[ ${#alive[@]} -eq 0 ]] && return 0
        sleep 0.1
    done
    kill -KILL "${alive[@]}" 2>/dev/null || true
}

cmd_down() {
    require_root
    local namespaces ns pf pids=() nkilled=0
    mapfile -t namespaces < <(existing_namespaces)

    # Servers we started, by pidfile first (nginx masters take their workers with them) ...
    if [[ -d $STATE_DIR ]]; then
        while IFS= read -r pf; do
            local p
            p=$(cat "$pf" 2>/dev/null || true)
            [[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && pids+=("$p")
        done < <(find "$STATE_DIR" -name '*.pid' 2>/dev/null)
    fi
    nkilled=${#pids[@]}
    kill_pids "${pids[@]}"
    # ... then anything else still living in a lab namespace.
    for ns in "${namespaces[@]}"; do
        pids=()
        mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null || true)
        if [[ ${#pids[@]} -gt 0 ]]; then
            nkilled=$((nkilled + ${#pids[@]}))
            kill_pids "${pids[@]}"
        fi
    done
    for ns in "${namespaces[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$STATE_DIR"

    if [[ ${#namespaces[@]} -gt 0 ]]; then
        log "down: stopped $nkilled process(es), deleted namespaces: ${namespaces[*]}"
    else
        log "down: nothing to tear down"
    fi
    local left
    left=$(existing_namespaces | tr '\n' ' ')
    [[ -z $left ]] || die "namespaces still present after down: $left"
    if pgrep -x sluiced >/dev/null 2>&1; then
        log "note: a sluiced process is still running (pid $(pgrep -x sluiced | tr '\n' ' '));" \
            "the lab did not start it and leaves it alone"
    fi
}

# Turns off the transmit offloads that leave veth frames with partial checksums or oversized (TSO)
# frames, and GRO; one feature at a time because a veth may refuse one of them.
offloads_off() {
    local ns=$1 dev=$2 f
    for f in tx tso gso gro; do
        ip netns exec "$ns" ethtool -K "$dev" "$f" off >/dev/null 2>&1 || true
    done
}

# nginx_conf NAME DIR IPV4 IPV6 [EXTRA]: EXTRA is more of the server block (router_up's /upload/).
nginx_conf() {
    local name=$1 dir=$2 ip=$3 ip6=$4 extra=${5:-}
    cat <<EOF
# nginx for lab backend $name (generated by scripts/lab.sh)
user root;
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    types { text/html html; application/octet-stream bin; }
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 120s;
    keepalive_requests 100000;
    server {
        listen $ip:80 reuseport;
        listen [$ip6]:80 reuseport;
        root $dir/www;
        index index.html;
        location = /big.bin { alias $STATE_DIR/big.bin; }
        # Health endpoint for probes: 503 while $dir/maintenance exists.
        location = /health {
            default_type text/plain;
            if (-f $dir/maintenance) { return 503 "maintenance\n"; }
            return 200 "ok\n";
        }
$extra    }
}
EOF
}

start_servers() {
    local i ns ip ip6 dir
    for ((i = 1; i <= LAB_BACKENDS; i++)); do
        ns=$(backend_ns "$i")
        ip=$(backend_ip "$i")
        ip6=$(backend_ip6 "$i")
        dir=$STATE_DIR/be$i
        mkdir -p "$dir/www" "$dir/tmp"
        printf '<html><body>backend be%s %s %s</body></html>\n' "$i" "$ip" "$ip6" >"$dir/www/index.html"
        nginx_conf "be$i" "$dir" "$ip" "$ip6" >"$dir/nginx.conf"
        ip netns exec "$ns" nginx -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/nginx-error.log" 8>&- ||
            die "nginx failed in $ns: $(cat "$dir/nginx-error.log" 2>/dev/null)"
        # iperf3 and the echo server serve one address each: one daemon per family, each with its
        # own pidfile (cmd_down kills every *.pid under the state dir).
        ip netns exec "$ns" iperf3 -s -D -B "$ip" -p 5201 --pidfile "$dir/iperf3.pid" \
            --logfile "$dir/iperf3.log" 8>&- || die "iperf3 failed in $ns"
        ip netns exec "$ns" iperf3 -s -D -B "$ip6" -p 5201 --pidfile "$dir/iperf3-6.pid" \
            --logfile "$dir/iperf3-6.log" 8>&- || die "iperf3 (IPv6) failed in $ns"
        ip netns exec "$ns" setsid python3 "$SCRIPT_DIR/lab/udp_echo.py" --bind "$ip" --port 9000 \
            --name "be$i" --pidfile "$dir/udp_echo.pid" </dev/null >"$dir/udp_echo.log" 2>&1 8>&- &
        ip netns exec "$ns" setsid python3 "$SCRIPT_DIR/lab/udp_echo.py" --bind "$ip6" --port 9000 \
            --name "be$i" --pidfile "$dir/udp_echo6.pid" </dev/null >"$dir/udp_echo6.log" 2>&1 8>&- &
    done
    # Wait until every server answers locally on both families (bounded: 10 s).
    local deadline=$((SECONDS + 10)) ok
    for ((i = 1; i <= LAB_BACKENDS; i++)); do
        ns=$(backend_ns "$i")
        ip=$(backend_ip "$i")
        ip6=$(backend_ip6 "$i")
        dir=$STATE_DIR/be$i
        while :; do
            ok=1
            ip netns exec "$ns" curl -sf -m 2 -o /dev/null "http://$ip/" || ok=0
            ip netns exec "$ns" curl -gsf -m 2 -o /dev/null "http://[$ip6]/" || ok=0
            ip netns exec "$ns" ss -Hltn "src $ip:5201" | grep -q LISTEN || ok=0
            ip netns exec "$ns" ss -Hltn "src [$ip6]:5201" | grep -q LISTEN || ok=0
            [[ -s $dir/udp_echo.pid && -s $dir/udp_echo6.pid ]] || ok=0
            [[ $ok -eq 1 ]] && break
            ((SECONDS < deadline)) || die "servers in $ns did not come up (see $dir/*.log)"
            sleep 0.1
        done
    done
}

# LAB_ROUTER=1: one more backend, sluice-rbe (198.18.9.2, 2001:2:0:9::2), behind a router,
# sluice-rt, whose leg towards it has MTU 1280; the router's other leg sits on br-srv like a
# backend (198.18.1.254, 2001:2:0:1::fe: the next hop of the LB's [[route]]s for 198.18.9.0/24
# and 2001:2:0:9::/64). The routed backend advertises the MSS of a 1500-byte link (advmss), so a
# client's full-sized segments exceed the small hop and the router answers them with
# fragmentation needed / packet too big, addressed to the LB's full-NAT source: path MTU
# discovery through the LB (tests/e2e/e2e_pmtu.py). Its nginx serves / and /big.bin like the
# others and stores PUT /upload/NAME (whole body read before the answer) in rbe/www/upload/.
router_up() {
    local ns dev dir=$STATE_DIR/rbe ip=${RBE_ADDR%/*} ip6=${RBE_ADDR6%/*}
    for ns in "$NS_RT" "$NS_RBE"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip -n "$NS_LB" link add rt-br type veth peer name eth0 netns "$NS_RT"
    ip netns exec "$NS_LB" sysctl -qw net.ipv6.conf.rt-br.disable_ipv6=1 # as every br-srv port
    ip -n "$NS_LB" link set rt-br master "$BRIDGE"
    ip -n "$NS_RT" link add eth1 mtu "$RBE_MTU" type veth peer name eth0 netns "$NS_RBE"
    ip -n "$NS_RBE" link set eth0 mtu "$RBE_MTU"
    offloads_off "$NS_LB" rt-br
    for dev in eth0 eth1; do offloads_off "$NS_RT" "$dev"; done
    offloads_off "$NS_RBE" eth0
    ip netns exec "$NS_RT" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    # accept_dad=0: the link-local addresses are usable at once, like the nodad global ones. A
    # router solicits a forwarded packet's next hop from its link-local address only (the
    # packet's source is not its own), and sends no solicitation at all while that address is
    # tentative (1-3 s after link-up): the first IPv6 SYN or SYN-ACK it forwards would wait for
    # its next probe, 1 s later, when the client has resent its SYN: the backend answers both at
    # once, and the client gets the SYN-ACK 1 s late and twice (a SYN challenge ACK).
    for dev in "$NS_RT/eth0" "$NS_RT/eth1" "$NS_RBE/eth0"; do
        ip netns exec "${dev%/*}" sysctl -qw "net.ipv6.conf.${dev#*/}.disable_ipv6=0" \
            "net.ipv6.conf.${dev#*/}.accept_ra=0" "net.ipv6.conf.${dev#*/}.autoconf=0" \
            "net.ipv6.conf.${dev#*/}.accept_dad=0"
    done
    ip -n "$NS_RT" addr add "$RT_ADDR" dev eth0
    ip -n "$NS_RT" addr add "$RT_ADDR6" dev eth0 nodad
    ip -n "$NS_RT" addr add "$RT_FAR_ADDR" dev eth1
    ip -n "$NS_RT" addr add "$RT_FAR_ADDR6" dev eth1 nodad
    ip -n "$NS_RBE" addr add "$RBE_ADDR" dev eth0
    ip -n "$NS_RBE" addr add "$RBE_ADDR6" dev eth0 nodad
    ip -n "$NS_LB" link set rt-br up
    for dev in eth0 eth1; do ip -n "$NS_RT" link set "$dev" up; done
    ip -n "$NS_RBE" link set eth0 up
    # The router needs no route: the LB's pools are on-link on eth0, the backend on eth1.
    ip -n "$NS_RBE" route add default via "${RT_FAR_ADDR%/*}" dev eth0 advmss 1460
    ip -6 -n "$NS_RBE" route add default via "${RT_FAR_ADDR6%/*}" dev eth0 advmss 1440
    mkdir -p "$dir/www/upload" "$dir/tmp"
    printf '<html><body>backend rbe %s %s</body></html>\n' "$ip" "$ip6" >"$dir/www/index.html"
    nginx_conf rbe "$dir" "$ip" "$ip6" "        location /upload/ { dav_methods PUT; client_max_body_size 16m; }
" >"$dir/nginx.conf"
    ip netns exec "$NS_RBE" nginx -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/nginx-error.log" 8>&- ||
        die "nginx failed in $NS_RBE: $(cat "$dir/nginx-error.log" 2>/dev/null)"
    local deadline=$((SECONDS + 10))
    until ip netns exec "$NS_RBE" curl -sf -m 2 -o /dev/null "http://$ip/" &&
        ip netns exec "$NS_RBE" curl -gsf -m 2 -o /dev/null "http://[$ip6]/"; do
        ((SECONDS < deadline)) || die "nginx in $NS_RBE did not come up (see $dir/nginx-error.log)"
        sleep 0.1
    done
    # No address may still be tentative (accept_dad=0 above): a tentative link-local delays the
    # first forwarded IPv6 packet by 1 s.
    local tentative
    tentative=$(ip -n "$NS_RT" -6 -o addr show tentative; ip -n "$NS_RBE" -6 -o addr show tentative)
    [[ -z $tentative ]] || die "IPv6 addresses still tentative in $NS_RT/$NS_RBE: $tentative"
    log "up: router $NS_RT ${RT_ADDR%/*},${RT_ADDR6%/*} on $BRIDGE; routed backend $NS_RBE" \
        "$ip,$ip6 (nginx :80, PUT /upload/) behind it, MTU $RBE_MTU, advmss 1460/1440"
}

up_exit() {
    local rc=$?
    trap - EXIT
    if ((rc)); then
        echo "lab: up failed, tearing down" >&2
        cmd_down >&2 || true
    fi
    exit "$rc"
}

cmd_up() {
    require_root
    require_tools
    [[ $LAB_BACKENDS =~ ^[1-9]$ ]] || die "LAB_BACKENDS must be 1..9 (got $LAB_BACKENDS)"
    [[ $LAB_ROUTER =~ ^[01]$ ]] || die "LAB_ROUTER must be 0 or 1 (got $LAB_ROUTER)"
    cmd_down
    # Whatever fails from here on (set -e, die, a signal), leave nothing half built behind.
    trap up_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    mkdir -p "$STATE_DIR"
    local i ns ip namespaces=("$NS_CLIENT" "$NS_LB")
    for ((i = 1; i <= LAB_BACKENDS; i++)); do namespaces+=("$(backend_ns "$i")"); done
    for ns in "${namespaces[@]}"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done

    # The LB namespace: the kernel there must never answer or forward anything; sluiced owns the
    # wire through af_packet on lbc0/lbs0. IPv6 off by default here (new links inherit it);
    # sluiced turns it on for its own TAPs (sl-client, sl-servers) when a port has IPv6 addresses.
    ip netns exec "$NS_LB" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
    ip netns exec "$NS_LB" sysctl -qw net.ipv4.conf.all.arp_ignore=8 2>/dev/null || true

    # Client side: lbc0 (LB, DPDK) <-> eth0 (client).
    ip -n "$NS_LB" link add lbc0 type veth peer name eth0 netns "$NS_CLIENT"
    # Server side: bridge br-srv; lbs0 (LB, DPDK) <-> lbs0-br (bridge port).
    ip -n "$NS_LB" link add "$BRIDGE" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
    ip -n "$NS_LB" link add lbs0 type veth peer name lbs0-br
    ip -n "$NS_LB" link set lbs0-br master "$BRIDGE"
    for ((i = 1; i <= LAB_BACKENDS; i++)); do
        ip -n "$NS_LB" link add "be$i-br" type veth peer name eth0 netns "$(backend_ns "$i")"
        ip -n "$NS_LB" link set "be$i-br" master "$BRIDGE"
    done
    ip -n "$NS_LB" link set lbc0 arp off
    ip -n "$NS_LB" link set lbs0 arp off
    # IPv6 off on each data-port veth and bridge link by name, before any link is up (no
    # link-local address, no DAD or router solicitation ever leaves them), so that a later change
    # of `default` or `all` cannot turn it on: the kernel would answer NDP for the LB's addresses
    # behind the TAPs on lbc0/lbs0 and race sluiced. The bridge still forwards IPv6 frames between
    # the backends and lbs0: disable_ipv6 only stops the kernel's own IPv6 stack on a link.
    local lb_links=(lbc0 lbs0 "$BRIDGE" lbs0-br)
    for ((i = 1; i <= LAB_BACKENDS; i++)); do lb_links+=("be$i-br"); done
    for dev in "${lb_links[@]}"; do
        ip netns exec "$NS_LB" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
    done
    # af_packet gets a copy of every frame, and the kernel would process the original too: with
    # sluiced's exception interfaces (sl-client, sl-servers) holding the LB addresses in this
    # namespace, the kernel would accept full-NAT replies as its own and answer them with RSTs.
    # So the kernel's copy is routed to a blackhole before the local table is consulted (policy
    # rules; af_packet has its copy already). On metal the NIC is bound to DPDK and the kernel
    # never sees the data ports' traffic.
    ip -n "$NS_LB" rule add pref 100 lookup local
    ip -n "$NS_LB" rule del pref 0
    for dev in lbc0 lbs0; do ip -n "$NS_LB" rule add iif "$dev" pref 10 blackhole; done
    # The same for IPv6, should lbc0/lbs0 ever get IPv6 enabled (today ipv6_rcv drops their
    # frames first, disable_ipv6 above).
    ip -6 -n "$NS_LB" rule add pref 100 lookup local
    ip -6 -n "$NS_LB" rule del pref 0
    for dev in lbc0 lbs0; do ip -6 -n "$NS_LB" rule add iif "$dev" pref 10 blackhole; done

    # Offloads off on every veth end, both sides.
    offloads_off "$NS_CLIENT" eth0
    for dev in lbc0 lbs0 lbs0-br; do offloads_off "$NS_LB" "$dev"; done
    for ((i = 1; i <= LAB_BACKENDS; i++)); do
        offloads_off "$NS_LB" "be$i-br"
        offloads_off "$(backend_ns "$i")" eth0
    done

    # Addresses and routes (client and backends only). IPv6: enabled on eth0 whatever the
    # namespace defaults inherited, no router advertisements or SLAAC (only the lab's addresses),
    # and nodad so that the addresses are usable at once (servers bind them right away) instead of
    # tentative for a second or two.
    local hosts=("$NS_CLIENT")
    for ((i = 1; i <= LAB_BACKENDS; i++)); do hosts+=("$(backend_ns "$i")"); done
    for ns in "${hosts[@]}"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 \
            net.ipv6.conf.eth0.accept_ra=0 net.ipv6.conf.eth0.autoconf=0
    done
    ip -n "$NS_CLIENT" addr add "$CLIENT_ADDR" dev eth0
    ip -n "$NS_CLIENT" addr add "$CLIENT_ADDR6" dev eth0 nodad
    for ((i = 1; i <= LAB_BACKENDS; i++)); do
        ip -n "$(backend_ns "$i")" addr add "$(backend_ip "$i")/24" dev eth0
        ip -n "$(backend_ns "$i")" addr add "$(backend_ip6 "$i")/64" dev eth0 nodad
    done

    for dev in "$BRIDGE" lbc0 lbs0 lbs0-br; do ip -n "$NS_LB" link set "$dev" up; done
    for ((i = 1; i <= LAB_BACKENDS; i++)); do
        ip -n "$NS_LB" link set "be$i-br" up
        ip -n "$(backend_ns "$i")" link set eth0 up
    done
    ip -n "$NS_CLIENT" link set eth0 up
    ip -n "$NS_CLIENT" route add default via "$CLIENT_GW" dev eth0
    ip -6 -n "$NS_CLIENT" route add default via "$CLIENT_GW6" dev eth0
    log "up: namespaces ${namespaces[*]}"
    log "up: client $CLIENT_ADDR via $CLIENT_GW, $CLIENT_ADDR6 via $CLIENT_GW6 on lbc0"
    log "up: backends $(for ((i = 1; i <= LAB_BACKENDS; i++)); do printf 'be%s=%s,%s ' "$i" "$(backend_ip "$i")" "$(backend_ip6 "$i")"; done)on $BRIDGE via lbs0"

    # One random file for every backend's /big.bin, and its digest next to it.
    head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$STATE_DIR/big.bin"
    (cd "$STATE_DIR" && sha256sum big.bin | awk '{print $1}' >big.bin.sha256)

    start_servers
    if [[ $LAB_ROUTER == 1 ]]; then router_up; fi
    log "up: servers on each backend: nginx :80 (/ and /big.bin, ${BIG_MIB} MiB sha256 $(cut -c1-12 "$STATE_DIR/big.bin.sha256")…), iperf3 :5201, udp echo :9000 (IPv4 and IPv6)"
    log "up: DPDK ports: lbc0 and lbs0 in $NS_LB (no addresses, arp off, IPv6 off); state in $STATE_DIR"
    trap - EXIT INT TERM
}

pid_alive() {
    local p
    p=$(cat "$1" 2>/dev/null || true)
    [[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null
}

cmd_status() {
    require_root
    local namespaces ns
    mapfile -t namespaces < <(existing_namespaces)
    if [[ ${#namespaces[@]} -eq 0 ]]; then
        echo "lab: down (no sluice-* namespaces)"
        return 0
    fi
    for ns in $(printf '%s\n' "${namespaces[@]}" | sort); do
        echo "== $ns"
        ip -n "$ns" -br link show | grep -v '^lo ' | sed 's/^/   link /'
        # Global scope: the lab's addresses of both families, not the fe80:: link-locals.
        ip -n "$ns" -br addr show scope global | awk '$1 != "lo" && NF > 2 {print "   addr " $0}'
        ip -n "$ns" -6 addr show scope global tentative | grep -o 'inet6 [^ ]*' |
            sed 's/^/   TENTATIVE /' || true
        if [[ $ns == "$NS_LB" ]]; then # the kernel must stay off IPv6 on the DPDK side
            # (globbed inside the namespace: /proc/sys/net shows the reader's namespace)
            ip netns exec "$ns" sh -c 'cd /proc/sys/net/ipv6/conf && grep -H . */disable_ipv6' |
                sed -En 's#^(lbc0|lbs0|br-srv|lbs0-br|rt-br|be[0-9]+-br)/disable_ipv6:#\1=#p' |
                tr '\n' ' ' | sed 's/^/   ipv6 disabled (1): /; s/ $/\n/'
        fi
        ip -n "$ns" route show default | sed 's/^/   route /'
        ip -n "$ns" -6 route show default | sed 's/^/   route /'
    done
    local d name servers
    for d in "$STATE_DIR"/be*/ "$STATE_DIR"/rbe/; do
        [[ -d $d ]] || continue
        name=$(basename "$d")
        servers="nginx iperf3 iperf3-6 udp_echo udp_echo6"
        [[ $name == rbe ]] && servers=nginx # the routed backend (LAB_ROUTER=1) runs nginx only
        printf '== %s servers:' "$name"
        for s in $servers; do
            if pid_alive "$d/$s.pid"; then printf ' %s(pid %s)' "$s" "$(cat "$d/$s.pid")"; else printf ' %s(DOWN)' "$s"; fi
        done
        echo
    done
    [[ -f $STATE_DIR/big.bin.sha256 ]] && echo "== big.bin sha256 $(cat "$STATE_DIR/big.bin.sha256")"
    return 0
}

# One lab per machine: up/down/status of different users must not interleave. The e2e harness and
# demo.sh hold the lock for their whole run and say so with SLUICE_LAB_LOCK_HELD=1.
LOCK_PATH=/run/sluice-lab.lock
take_lock() {
    [[ ${SLUICE_LAB_LOCK_HELD:-} == 1 ]] && return 0
    exec 8>"$LOCK_PATH"
    if ! flock -n 8; then
        log "waiting for $LOCK_PATH (an e2e test or the demo is using the lab)"
        flock -w 600 8 || die "lab still locked after 600 s"
    fi
}

case ${1:-} in
up | down) require_root && take_lock ;;
esac
case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
