#!/usr/bin/env bash
# A real single-node SLURM on this machine, for plait's tests (see docs/slurm.md).
#
#   bash scripts/slurm.sh check     # exit 0 silently if this machine can run it, else reason + exit 1
#   bash scripts/slurm.sh install   # apt-get install munge slurmctld slurmd slurm-client tini (idempotent)
#   bash scripts/slurm.sh start     # write slurm.conf, start munged/slurmctld/slurmd, wait until a job runs
#   bash scripts/slurm.sh status    # exit 0 if healthy, else reason + non-zero
#   bash scripts/slurm.sh stop      # cancel jobs, shut SLURM down, stop munged
#
# Everything is localhost-only: SlurmctldHost=localhost(127.0.0.1), one node
# "localhost" at 127.0.0.1, partition "debug". No systemd needed. Must run as root.
#
# Environment knobs:
#   PLAIT_SLURM_START_TIMEOUT  seconds to wait for a usable cluster (default 60)
#   PLAIT_SLURM_STOP_TIMEOUT   seconds to wait for daemons to exit   (default 30)
#   PLAIT_SLURM_PROCTRACK      proctrack/pgid (default) or proctrack/linuxproc
#   PLAIT_SLURM_QUIET=1        no progress lines on stderr
#   PLAIT_SLURM_BIND_ANY=1     listen on all addresses (only if the hostname does not resolve to 127.0.0.1)

set -uo pipefail

PACKAGES=(munge slurmctld slurmd slurm-client tini)
BINARIES=(/usr/sbin/munged /usr/bin/munge /usr/bin/unmunge /usr/sbin/slurmctld /usr/sbin/slurmd
          /usr/bin/scontrol /usr/bin/sinfo /usr/bin/srun /usr/bin/squeue /usr/bin/scancel)

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
LOG_DIR=/var/log/slurm
STATE_DIR=/var/lib/slurm
CTLD_SPOOL=$STATE_DIR/slurmctld
SLURMD_SPOOL=$STATE_DIR/slurmd
RUN_DIR=/run/slurm
MUNGE_RUN=/run/munge
MUNGE_PID=$MUNGE_RUN/munged.pid
MUNGE_LOG=/var/log/munge/munged.log
CTLD_PID=$RUN_DIR/slurmctld.pid
SLURMD_PID=$RUN_DIR/slurmd.pid
TINI_PID=$RUN_DIR/slurmd-tini.pid
NODE=localhost
PARTITION=debug

START_TIMEOUT=${PLAIT_SLURM_START_TIMEOUT:-60}
STOP_TIMEOUT=${PLAIT_SLURM_STOP_TIMEOUT:-30}
PROCTRACK=${PLAIT_SLURM_PROCTRACK:-proctrack/pgid}

# Never let a client command hang on a dead controller for minutes.
export SLURM_CONF=$CONF

say() { [[ "${PLAIT_SLURM_QUIET:-}" == 1 ]] || printf 'slurm.sh: %s\n' "$*" >&2; }
die() { printf 'slurm.sh: %s\n' "$*" >&2; exit "${2:-1}"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# A pid is alive if it exists and is not a zombie (PID 1 here reaps orphans lazily,
# so a daemon that exited can linger as a zombie: kill -0 would still succeed).
pid_alive() {
    local pid=$1 state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/stat ]] || return 1
    state=$(awk '{sub(/^.*\) /, ""); print $1}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# pid from a pid file, if that process is alive and runs the expected program.
pid_from_file() {
    local file=$1 comm=$2 pid
    [[ -r "$file" ]] || return 1
    pid=$(tr -dc '0-9' <"$file")
    pid_alive "$pid" || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]] || return 1
    echo "$pid"
}

# wait_gone SECONDS PID...: true when all are gone within the time.
wait_gone() {
    local limit=$1; shift
    local deadline=$(( $(date +%s) + limit )) p alive
    while :; do
        alive=0
        for p in "$@"; do pid_alive "$p" && alive=1; done
        (( alive == 0 )) && return 0
        (( $(date +%s) >= deadline )) && return 1
        sleep 0.2
    done
}

tail_logs() {
    local f
    for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" "$LOG_DIR/slurmd.stdout" "$MUNGE_LOG"; do
        [[ -s "$f" ]] || continue
        printf -- '--- tail %s ---\n' "$f" >&2
        tail -n 15 "$f" >&2
    done
}

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (uid $(id -u)): SLURM daemons need root"; }

missing_binaries() {
    local b out=()
    for b in "${BINARIES[@]}"; do [[ -x "$b" ]] || out+=("$b"); done
    command -v tini >/dev/null 2>&1 || out+=(tini)
    echo "${out[*]}"
}

# With CommunicationParameters=NoCtldInAddrAny,NoInAddrAny every SLURM daemon and
# srun binds to the first IPv4 address that gethostname() resolves to, not 0.0.0.0.
# That must be exactly 127.0.0.1: slurmd connects back to srun's I/O port at the
# source address of srun's connection (127.0.0.1), so a hostname on 127.0.1.1
# (Debian's default /etc/hosts) makes every srun step fail with "connect io".
# PLAIT_SLURM_BIND_ANY=1 drops the option (SLURM then listens on all addresses).
bind_any() { [[ "${PLAIT_SLURM_BIND_ANY:-}" == 1 ]]; }
host_ipv4() { getent ahostsv4 "$(hostname)" 2>/dev/null | awk 'NR==1{print $1}'; }
loopback_reason() {
    bind_any && return 0
    local a h; a=$(host_ipv4); h=$(hostname)
    if [[ -z "$a" ]]; then echo "unresolved"; return 0; fi
    [[ "$a" == 127.0.0.1 ]] && return 0
    echo "hostname '$h' resolves to $a, not 127.0.0.1, so SLURM (bound to the hostname's address for localhost-only use) would listen on $a; fix: put '127.0.0.1 $h' first in /etc/hosts, or set PLAIT_SLURM_BIND_ANY=1 to listen on all addresses"
}

# ---------------------------------------------------------------------------- check
cmd_check() {
    if [[ $(id -u) -ne 0 ]]; then echo "SLURM needs root to run its daemons (running as uid $(id -u))"; return 1; fi
    local why; why=$(loopback_reason)
    if [[ -n "$why" && "$why" != unresolved ]]; then echo "$why"; return 1; fi
    local missing; missing=$(missing_binaries)
    [[ -z "$missing" ]] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "SLURM is not installed ($missing missing) and apt-get is not available to install it"
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------- install
pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

cmd_install() {
    need_root
    local t0; t0=$(now)
    local p todo=()
    if command -v dpkg-query >/dev/null 2>&1; then
        for p in "${PACKAGES[@]}"; do pkg_installed "$p" || todo+=("$p"); done
    else
        todo=("${PACKAGES[@]}")
    fi
    if (( ${#todo[@]} == 0 )) && [[ -z "$(missing_binaries)" ]]; then
        say "install: already installed (${PACKAGES[*]})"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "install: apt-get not found; install ${todo[*]} by other means"
    export DEBIAN_FRONTEND=noninteractive
    # Update the package lists only if apt does not know the packages yet.
    local need_update=0
    for p in "${todo[@]}"; do
        # (not "apt-cache | grep -q": with pipefail, grep's early exit is a SIGPIPE failure)
        if [[ "$(apt-cache policy "$p" 2>/dev/null)" != *"Candidate: "[0-9]* ]]; then need_update=1; break; fi
    done
    if (( need_update )); then
        say "install: apt-get update"
        apt-get update -q >/tmp/plait-slurm-apt.log 2>&1 \
            || { tail -n 5 /tmp/plait-slurm-apt.log >&2; die "install: apt-get update failed (see /tmp/plait-slurm-apt.log)"; }
    fi
    say "install: apt-get install ${todo[*]}"
    if ! apt-get install -y -q --no-install-recommends "${todo[@]}" >>/tmp/plait-slurm-apt.log 2>&1; then
        if (( ! need_update )); then
            # Stale lists (404 on a superseded .deb): refresh once and retry.
            say "install: retrying after apt-get update"
            apt-get update -q >>/tmp/plait-slurm-apt.log 2>&1 || true
            apt-get install -y -q --no-install-recommends "${todo[@]}" >>/tmp/plait-slurm-apt.log 2>&1 \
                || { tail -n 5 /tmp/plait-slurm-apt.log >&2; die "install: apt-get install failed (see /tmp/plait-slurm-apt.log)"; }
        else
            tail -n 5 /tmp/plait-slurm-apt.log >&2
            die "install: apt-get install failed (see /tmp/plait-slurm-apt.log)"
        fi
    fi
    local missing; missing=$(missing_binaries)
    [[ -z "$missing" ]] || die "install: packages installed but binaries missing: $missing"
    say "install: done in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------- config
render_conf() {
    local hw cpus boards sockets cores threads mem
    hw=$(/usr/sbin/slurmd -C 2>/dev/null | awk 'NR==1') || true
    [[ -n "$hw" ]] || die "start: 'slurmd -C' reported no hardware"
    field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<" $hw"; }
    cpus=$(field CPUs); boards=$(field Boards); sockets=$(field SocketsPerBoard)
    cores=$(field CoresPerSocket); threads=$(field ThreadsPerCore); mem=$(field RealMemory)
    [[ -n "$cpus" && -n "$mem" ]] || die "start: cannot parse 'slurmd -C' output: $hw"
    # Leave ~1 GiB to the OS; never go below 512 MB.
    mem=$(( mem > 1536 ? mem - 1024 : 512 ))
    cat <<EOF
# Written by plait scripts/slurm.sh -- a localhost-only single-node SLURM for tests.
# Regenerated on every 'start'; local edits are overwritten.
ClusterName=plait
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
$(bind_any && echo "# PLAIT_SLURM_BIND_ANY=1: listening on all addresses" \
  || printf '%s\n%s\n%s' "# Bind to the hostname's address (checked to be 127.0.0.1), not 0.0.0.0:" \
            "# slurmctld, slurmd and srun's I/O ports listen on loopback only." \
            "CommunicationParameters=NoCtldInAddrAny,NoInAddrAny")
StateSaveLocation=$CTLD_SPOOL
SlurmdSpoolDir=$SLURMD_SPOOL
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=$PROCTRACK
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=30
Waittime=0
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus Boards=${boards:-1} SocketsPerBoard=${sockets:-1} CoresPerSocket=${cores:-$cpus} ThreadsPerCore=${threads:-1} RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

# ---------------------------------------------------------------------------- probes
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
ctld_up() { [[ "$(timeout 10 scontrol ping 2>/dev/null)" == *'is UP'* ]]; }
node_state() { timeout 10 sinfo -h -n "$NODE" -o '%T' 2>/dev/null | awk 'NR==1'; }
smoke() { timeout 30 srun -p "$PARTITION" -n1 --mem=16M -t 1 -J plait-smoke true >/dev/null 2>&1; }

# Why the cluster is not healthy; empty output = healthy (does not run a job).
health_reason() {
    local st
    pid_from_file "$CTLD_PID" slurmctld >/dev/null || { echo "slurmctld is not running"; return; }
    pid_from_file "$SLURMD_PID" slurmd >/dev/null || { echo "slurmd is not running"; return; }
    munge_ok || { echo "munged is not answering (munge -n | unmunge fails)"; return; }
    ctld_up || { echo "slurmctld does not answer 'scontrol ping'"; return; }
    st=$(node_state)
    case "$st" in
        idle|mixed|allocated|completing) ;;  # exact states only: a suffix (*, ~, #, $) is a problem
        "") echo "node $NODE is not known to sinfo";;
        *) echo "node $NODE is in state '$st'";;
    esac
}

# ---------------------------------------------------------------------------- start
start_munged() {
    if munge_ok; then return 0; fi
    local pid
    if pid=$(pid_from_file "$MUNGE_PID" munged); then
        say "start: munged (pid $pid) does not answer; restarting it"
        kill -TERM "$pid" 2>/dev/null; wait_gone 10 "$pid" || kill -KILL "$pid" 2>/dev/null
    fi
    install -d -o munge -g munge -m 0755 "$MUNGE_RUN"
    install -d -o munge -g munge -m 0700 /var/log/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "start: creating /etc/munge/munge.key"
        install -d -o munge -g munge -m 0700 /etc/munge
        if command -v mungekey >/dev/null 2>&1; then
            runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key >/dev/null 2>&1
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        fi
        chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
    fi
    # --force: reuse a stale socket left by a munged that died (we checked none answers).
    runuser -u munge -- /usr/sbin/munged --force </dev/null >>"$LOG_DIR/munged.stdout" 2>&1 \
        || { tail_logs; die "start: munged failed to start"; }
    for _ in $(seq 50); do munge_ok && return 0; sleep 0.1; done
    tail_logs; die "start: munged started but 'munge -n | unmunge' fails"
}

start_slurmctld() {
    local pid
    if pid=$(pid_from_file "$CTLD_PID" slurmctld); then
        ctld_up && return 0
        say "start: slurmctld (pid $pid) is running but does not answer yet"
    else
        rm -f "$CTLD_PID"
        /usr/sbin/slurmctld </dev/null >>"$LOG_DIR/slurmctld.stdout" 2>&1 \
            || { tail_logs; die "start: slurmctld failed to start"; }
    fi
    local deadline=$(( $(date +%s) + START_TIMEOUT ))
    while (( $(date +%s) < deadline )); do
        ctld_up && return 0
        if ! pid_from_file "$CTLD_PID" slurmctld >/dev/null && (( $(date +%s) > deadline - START_TIMEOUT + 5 )); then
            tail_logs; die "start: slurmctld exited during startup"
        fi
        sleep 0.3
    done
    tail_logs; die "start: slurmctld did not answer 'scontrol ping' within ${START_TIMEOUT}s"
}

start_slurmd() {
    if pid_from_file "$SLURMD_PID" slurmd >/dev/null; then return 0; fi
    # A tini left without its slurmd: end it (by pid) before starting anew.
    local tpid
    if tpid=$(pid_from_file "$TINI_PID" tini); then kill -TERM "$tpid" 2>/dev/null; wait_gone 5 "$tpid"; fi
    rm -f "$SLURMD_PID" "$TINI_PID"
    local tini; tini=$(command -v tini) || die "start: tini not found (run: bash $0 install)"
    # tini -s: subreaper, so step/job orphans are reaped at once (PID 1 here is lazy).
    # setsid: own session, so the caller's terminal/process group signals don't reach it.
    # All stdio redirected: a caller waiting on our stdout pipe must not hang on slurmd.
    setsid "$tini" -s -- /usr/sbin/slurmd -D -N "$NODE" </dev/null >>"$LOG_DIR/slurmd.stdout" 2>&1 &
    echo $! >"$TINI_PID"
    disown 2>/dev/null || true
    for _ in $(seq 100); do
        pid_from_file "$SLURMD_PID" slurmd >/dev/null && return 0
        pid_alive "$(cat "$TINI_PID")" || break
        sleep 0.1
    done
    tail_logs; die "start: slurmd did not start (see $LOG_DIR/slurmd.log)"
}

wait_usable() {
    local deadline=$(( $(date +%s) + START_TIMEOUT )) st last="" resumed=0
    while (( $(date +%s) < deadline )); do
        st=$(node_state)
        last=$st
        case "$st" in
            idle|mixed)
                smoke && return 0
                last="$st, but the smoke job 'srun -n1 --mem=16M -t 1 true' failed";;
            *drain*|*inval*|*down*|*fail*)
                if (( resumed < 3 )); then
                    say "start: node is '$st'; resuming it"
                    scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
                    resumed=$(( resumed + 1 ))
                fi;;
        esac
        pid_from_file "$SLURMD_PID" slurmd >/dev/null || { tail_logs; die "start: slurmd exited (node state '$st')"; }
        sleep 0.5
    done
    local reason; reason=$(timeout 5 sinfo -h -R -n "$NODE" -o '%E' 2>/dev/null | awk 'NR==1')
    tail_logs
    die "start: cluster not usable within ${START_TIMEOUT}s: node state '${last:-unknown}'${reason:+, reason: $reason}"
}

cmd_start() {
    need_root
    local t0; t0=$(now)
    local missing; missing=$(missing_binaries)
    [[ -z "$missing" ]] || die "start: SLURM is not installed ($missing missing); run: bash $0 install"
    install -d -o slurm -g slurm -m 0755 "$RUN_DIR" "$LOG_DIR" "$STATE_DIR" "$CTLD_SPOOL"
    install -d -m 0755 "$SLURMD_SPOOL" "$CONF_DIR"

    # The daemons bind to the hostname's address: it must be 127.0.0.1 (see loopback_reason).
    local why; why=$(loopback_reason)
    if [[ "$why" == unresolved ]]; then
        say "start: hostname '$(hostname)' does not resolve; adding '127.0.0.1 $(hostname)' to /etc/hosts"
        printf '127.0.0.1\t%s\t# added by plait scripts/slurm.sh\n' "$(hostname)" >>/etc/hosts
        why=$(loopback_reason)
    fi
    [[ -z "$why" ]] || die "start: $why"
    local newconf; newconf=$(render_conf) || exit 1
    local changed=0
    if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$newconf" ]]; then changed=1; fi

    if (( ! changed )) && [[ -z "$(health_reason)" ]]; then
        # Already up: make sure a job really runs (fast) before saying so.
        if smoke; then say "start: already running and healthy"; return 0; fi
    fi
    if (( changed )); then
        if pid_from_file "$CTLD_PID" slurmctld >/dev/null || pid_from_file "$SLURMD_PID" slurmd >/dev/null; then
            say "start: slurm.conf changed; restarting the SLURM daemons"
            stop_slurm_daemons
        fi
        printf '%s\n' "$newconf" >"$CONF.tmp" && chmod 0644 "$CONF.tmp" && mv -f "$CONF.tmp" "$CONF"
        say "start: wrote $CONF"
    fi
    start_munged
    start_slurmctld
    start_slurmd
    wait_usable
    say "start: SLURM is up (partition $PARTITION, node $NODE) in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------- stop
stop_slurm_daemons() {
    local cpid dpid tpid
    cpid=$(pid_from_file "$CTLD_PID" slurmctld) || cpid=""
    dpid=$(pid_from_file "$SLURMD_PID" slurmd) || dpid=""
    tpid=$(pid_from_file "$TINI_PID" tini) || tpid=""

    if [[ -n "$cpid" ]] && ctld_up; then
        # Cancel every job (any user), then let them finish completing.
        local jobs; jobs=$(timeout 10 squeue -h -o '%i' 2>/dev/null | tr '\n' ' ')
        if [[ -n "${jobs// /}" ]]; then
            say "stop: cancelling jobs $jobs"
            # shellcheck disable=SC2086
            timeout 10 scancel $jobs >/dev/null 2>&1 || true
            for _ in $(seq 75); do
                [[ -z "$(timeout 5 squeue -h -o '%i' 2>/dev/null)" ]] && break
                sleep 0.2
            done
        fi
        timeout 15 scontrol shutdown >/dev/null 2>&1 || say "stop: 'scontrol shutdown' failed"
    elif [[ -n "$cpid" ]]; then
        say "stop: slurmctld (pid $cpid) does not answer; sending SIGTERM"
        kill -TERM "$cpid" 2>/dev/null
    fi
    # slurmd gets the shutdown from slurmctld; if slurmctld was gone, signal it directly.
    if [[ -n "$dpid" && -z "$cpid" ]]; then kill -TERM "$dpid" 2>/dev/null; fi

    local pids=(); [[ -n "$cpid" ]] && pids+=("$cpid"); [[ -n "$dpid" ]] && pids+=("$dpid")
    if (( ${#pids[@]} )) && ! wait_gone "$STOP_TIMEOUT" "${pids[@]}"; then
        if [[ -n "$dpid" ]] && pid_alive "$dpid"; then
            say "stop: slurmd (pid $dpid) still running; SIGTERM"; kill -TERM "$dpid" 2>/dev/null
            wait_gone 5 "$dpid" || { say "stop: slurmd (pid $dpid) SIGKILL"; kill -KILL "$dpid" 2>/dev/null; }
        fi
        if [[ -n "$cpid" ]] && pid_alive "$cpid"; then
            say "stop: slurmctld (pid $cpid) ignored shutdown; SIGTERM"; kill -TERM "$cpid" 2>/dev/null
            if ! wait_gone 10 "$cpid"; then
                say "stop: slurmctld (pid $cpid) refuses to exit; SIGKILL (job state may be stale on next start)"
                kill -KILL "$cpid" 2>/dev/null
            fi
        fi
    fi
    # tini exits when slurmd does; anything left in its session (slurmstepd, job
    # orphans) is ended by process group -- tini's pid leads it (setsid).
    if [[ -n "$tpid" ]]; then
        if ! wait_gone 3 "$tpid"; then kill -TERM "$tpid" 2>/dev/null; wait_gone 3 "$tpid" || kill -KILL "$tpid" 2>/dev/null; fi
        if pgrep -g "$tpid" >/dev/null 2>&1; then
            kill -TERM -- "-$tpid" 2>/dev/null; sleep 0.5; kill -KILL -- "-$tpid" 2>/dev/null
        fi
    fi
    rm -f "$TINI_PID"
    [[ -n "$cpid" ]] && pid_alive "$cpid" && return 1
    return 0
}

stop_munged() {
    local pid
    pid=$(pid_from_file "$MUNGE_PID" munged) || return 0
    kill -TERM "$pid" 2>/dev/null
    wait_gone 10 "$pid" || { say "stop: munged (pid $pid) SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
}

cmd_stop() {
    need_root
    local t0; t0=$(now)
    if ! pid_from_file "$CTLD_PID" slurmctld >/dev/null && ! pid_from_file "$SLURMD_PID" slurmd >/dev/null \
       && ! pid_from_file "$TINI_PID" tini >/dev/null && ! pid_from_file "$MUNGE_PID" munged >/dev/null; then
        say "stop: not running"
        return 0
    fi
    local rc=0
    stop_slurm_daemons || rc=1
    stop_munged
    (( rc == 0 )) || die "stop: slurmctld could not be stopped"
    say "stop: stopped in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------- status
cmd_status() {
    local reason
    [[ -z "$(missing_binaries)" ]] || { echo "SLURM is not installed ($(missing_binaries) missing)" >&2; return 3; }
    reason=$(health_reason)
    if [[ -n "$reason" ]]; then echo "$reason" >&2; return 1; fi
    echo "SLURM is up: slurmctld UP, node $NODE $(node_state), partition $PARTITION"
}

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

case "${1:-}" in
    check)   shift; cmd_check "$@";;
    install) shift; cmd_install "$@";;
    start)   shift; cmd_start "$@";;
    stop)    shift; cmd_stop "$@";;
    status)  shift; cmd_status "$@";;
    -h|--help|help) usage;;
    *) usage >&2; exit 2;;
esac
