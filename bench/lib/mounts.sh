# Shared by bench/run and bench/try: jam setup, mounting and unmounting jam, sshfs and rclone by
# PID, cold resets, recording figures. Sourced after common.sh, with W and SRV set.

SESSION="$W/session"
LOGS="$SESSION/logs"
RESULTS="$SESSION/results.tsv"
META="$SESSION/meta.env"
ANOMALIES="$SESSION/anomalies.txt"
JAMHOME="$SESSION/jamhome"
JAMCACHE="$SESSION/jam-cache"
JAMCAT="$JAMHOME/.local/share/jam/bench"
JAMCAT_PRISTINE="$SESSION/jam-catalog-pristine"
RCACHE="$SESSION/rclone-cache"
RCONF="$SESSION/rclone.conf"
SCRATCH=""
declare -A MNT=([jam]="$SESSION/mnt/jam" [sshfs]="$SESSION/mnt/sshfs" [rclone]="$SESSION/mnt/rclone")
declare -A MPID=()
CACHES_DROPPED=1
SSHD_PID=
RUN=0
JAM=()
JAM_OPTS=""
JAM_MOUNT_OPTS=""
JAM_JAR=""  # the jar jam runs from (the copy, or cli/target/jam.jar with BENCH_JAM_SNAPSHOT=0)
JAM_RUN=()
JAM_RUN_MOUNT=()
JAM_READY=0
JAM_MOUNT_OK=0
# jam's write_delay for the bench (profile key; its default is 5s), in jam's duration syntax
WRITE_DELAY="${BENCH_WRITE_DELAY:-2s}"

# A fresh session dir (after unmounting anything an earlier, killed run left mounted under $W).
session_init() {
    unmount_all_under "$W"
    rm -rf --one-file-system "$SESSION"
    mkdir -p "$SESSION" "$LOGS" "${MNT[jam]}" "${MNT[sshfs]}" "${MNT[rclone]}"
    : >"$RESULTS"
    : >"$ANOMALIES"
}

# rclone's sftp remote "bench:" for the bench sshd (after start_sshd; through the delaying proxy in
# latency mode)
write_rclone_conf() {
    cat >"$RCONF" <<CONF
[bench]
type = sftp
host = 127.0.0.1
port = $CPORT
user = $SSH_USER
key_file = $KEY
known_hosts_file = $KH
shell_type = unix
md5sum_command = none
sha1sum_command = none
CONF
}

anomaly() {
    log "ANOMALY: $*"
    echo "$*" >>"$ANOMALIES"
}

# Unmounts anything still mounted under the work dir (also stale mounts of an earlier, killed run).
unmount_all_under() {
    local m
    while read -r m; do
        [[ -n "$m" ]] || continue
        log "unmounting leftover $m"
        fusermount3 -u -z "$m" 2>/dev/null || fusermount -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(awk -v w="$1/" 'index($2, w) == 1 {print $2}' /proc/self/mounts)
}

# ---------------------------------------------------------------- jam
# jam with its own HOME and XDG dirs: it reads $HOME/.ssh, never the user's
jam_cmd() { "${JAM_RUN[@]}" "$@"; }

setup_jam() {
    log "building/checking jam (./jam --version)"
    (cd "$REPO" && ./jam --version) >"$LOGS/jam-build.log" 2>&1 \
        || { anomaly "./jam --version failed: $(tail -3 "$LOGS/jam-build.log" | tr '\n' ' ')"; return 1; }
    # jam runs with the JVM options ./jam gives its commands (the systemd unit's too,
    # ServiceCommand.JVM_OPTIONS / DAEMON_JVM_OPTIONS): the mount those of the long-running
    # commands; BENCH_JAM_JAVA_OPTS replaces both
    JAM_OPTS="$(sed -n 's/^jvm_options="\(.*\)"$/\1/p' "$REPO/jam")"
    local long_opts
    long_opts="$(sed -n 's/^long_running_options="\(.*\)"$/\1/p' "$REPO/jam")"
    [[ -n "$JAM_OPTS" && -n "$long_opts" ]] || { anomaly "cannot find jam's JVM options in $REPO/jam"; return 1; }
    JAM_MOUNT_OPTS="${BENCH_JAM_JAVA_OPTS-$JAM_OPTS $long_opts}"
    JAM_OPTS="${BENCH_JAM_JAVA_OPTS-$JAM_OPTS}"
    if [[ "${BENCH_JAM_SNAPSHOT:-1}" == 1 ]]; then
        # one jar for the whole run, even if someone rebuilds cli/target/jam.jar meanwhile
        cp "$REPO/cli/target/jam.jar" "$SESSION/jam.jar"
        JAM_JAR="$SESSION/jam.jar"
        # shellcheck disable=SC2206 # the options are split into JVM options on purpose
        JAM=(java $JAM_OPTS -jar "$JAM_JAR")
        # shellcheck disable=SC2206
        JAM_MOUNT=(java $JAM_MOUNT_OPTS -jar "$JAM_JAR")
    else
        JAM_JAR="$REPO/cli/target/jam.jar"
        JAM=("$REPO/jam")
        JAM_MOUNT=("$REPO/jam")
    fi
    local envs=(env HOME="$JAMHOME" XDG_CONFIG_HOME="$JAMHOME/.config" XDG_CACHE_HOME="$JAMHOME/.cache"
        XDG_DATA_HOME="$JAMHOME/.local/share" XDG_STATE_HOME="$JAMHOME/.local/state"
        XDG_RUNTIME_DIR="$JAMHOME/run")
    JAM_RUN=("${envs[@]}" "${JAM[@]}")
    JAM_RUN_MOUNT=("${envs[@]}" "${JAM_MOUNT[@]}")
    log "jam mount runs as: ${JAM_MOUNT[*]}"
    mkdir -p "$JAMHOME/.ssh" "$JAMHOME/run" "$JAMHOME/.config" "$JAMHOME/.cache" "$JAMHOME/.local/share" "$JAMHOME/.local/state"
    chmod 700 "$JAMHOME" "$JAMHOME/.ssh" "$JAMHOME/run"
    cp "$KEY" "$JAMHOME/.ssh/id_ed25519"
    cp "$KEY.pub" "$JAMHOME/.ssh/id_ed25519.pub"
    cp "$KH" "$JAMHOME/.ssh/known_hosts"
    chmod 600 "$JAMHOME/.ssh/id_ed25519"
    cat >"$JAMHOME/.ssh/config" <<CONF
Host 127.0.0.1
    Port $CPORT
    User $SSH_USER
    IdentityFile $JAMHOME/.ssh/id_ed25519
    IdentitiesOnly yes
CONF
    mkdir -p "$JAMCACHE" && chmod 700 "$JAMCACHE"
    if ! jam_cmd init --name bench --remote "sftp://$SSH_USER@127.0.0.1:$CPORT$SRV" --mountpoint "${MNT[jam]}" \
        --cache-dir "$JAMCACHE" --cache-size 8G --identity "$JAMHOME/.ssh/id_ed25519" --accept-host-key "$HOSTFP" --force \
        >"$LOGS/jam-init.log" 2>&1; then
        anomaly "jam init failed: $(tail -3 "$LOGS/jam-init.log" | tr '\n' ' ')"
        return 1
    fi
    local conf="$JAMHOME/.config/jam/profiles/bench.conf"
    if grep -q '^write_delay *=' "$conf" 2>/dev/null; then
        sed -i "s/^write_delay *=.*/write_delay = $WRITE_DELAY/" "$conf"
    else
        echo "write_delay = $WRITE_DELAY" >>"$conf"
    fi
    JAM_READY=1
    jam_cmd mount --help >"$LOGS/jam-mount-help.log" 2>&1 || true
    if grep -q '^Usage: jam mount' "$LOGS/jam-mount-help.log"; then
        JAM_MOUNT_OK=1
    else
        anomaly "jam has no 'mount' command yet ('jam mount --help' answers: $(head -1 "$LOGS/jam-mount-help.log")); jam's mount rows are n/a"
    fi
}

# A fresh catalog: index into an empty one (timed), and keep a copy to restore before each cold run.
jam_fresh_index() {
    rm -rf "$JAMCAT" "$JAMCAT_PRISTINE"
    local t0 t1
    t0=$(date +%s%N)
    if ! timeout -k 10 "$OP_TIMEOUT" "${JAM_RUN[@]}" index bench >>"$LOGS/jam-index.log" 2>&1; then
        record jam jam_index "FAIL:jam index failed: $(tail -1 "$LOGS/jam-index.log")"
        anomaly "jam index failed in run $RUN: $(tail -3 "$LOGS/jam-index.log" | tr '\n' ' ')"
        return 1
    fi
    t1=$(date +%s%N)
    record jam jam_index "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')"
    cp -a "$JAMCAT" "$JAMCAT_PRISTINE"
}

# Polls user.jam.state of FILE (every 50 ms, up to 120 s) until "cached"; records jam_cached_wait (s)
# unless a second argument "norecord" is given.
jam_wait_cached() {
    local f=$1 rec=${2:-record} t0 t1 st bytes i
    t0=$(date +%s%N)
    st=$(getfattr --absolute-names --only-values -n user.jam.state "$f" 2>/dev/null)
    bytes=$(getfattr --absolute-names --only-values -n user.jam.cached_bytes "$f" 2>/dev/null)
    log "  jam state of $(basename "$f") right after the read: $st, $bytes bytes held"
    for ((i = 0; i < 2400; i++)); do
        [[ "$st" == cached ]] && break
        sleep 0.05
        st=$(getfattr --absolute-names --only-values -n user.jam.state "$f" 2>/dev/null)
    done
    t1=$(date +%s%N)
    if [[ "$st" == cached ]]; then
        [[ $rec == norecord ]] || record jam jam_cached_wait "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')"
        [[ $i == 0 ]] || log "  jam: $(basename "$f") became cached $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}') s after the read ended"
    else
        [[ $rec == norecord ]] || record jam jam_cached_wait "FAIL:still $st 120 s after the read"
        anomaly "jam: $(basename "$f") still '$st' 120 s after it was read whole (run $RUN)"
    fi
}

# ---------------------------------------------------------------- mounts
record() { # system workload value
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$RUN" "$3" >>"$RESULTS"
}

mount_start() {
    local s=$1 m=${MNT[$1]} t0 t1 i pid
    mountpoint -q "$m" && die "$m is already mounted"
    t0=$(date +%s%N)
    case $s in
        jam)
            JAM_LOG_MARK=$( (wc -l <"$LOGS/jam-mount.log") 2>/dev/null || echo 0)
            "${JAM_RUN_MOUNT[@]}" mount bench >>"$LOGS/jam-mount.log" 2>&1 &
            ;;
        sshfs)
            sshfs -f -F "$SSHCFG" -o "IdentityFile=$KEY,UserKnownHostsFile=$KH,port=$CPORT" \
                "$SSH_USER@127.0.0.1:$SRV" "$m" >>"$LOGS/sshfs.log" 2>&1 &
            ;;
        rclone)
            rclone --config "$RCONF" mount "bench:$SRV" "$m" --vfs-cache-mode full --cache-dir "$RCACHE" \
                --log-file "$LOGS/rclone.log" --log-level NOTICE &
            ;;
    esac
    pid=$!
    MPID[$s]=$pid
    for ((i = 0; i < 3000; i++)); do
        mountpoint -q "$m" && break
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            unset "MPID[$s]"
            anomaly "$s mount exited before mounting (run $RUN); log: $(tail -3 "$LOGS/$([[ $s == jam ]] && echo jam-mount || echo "$s").log" 2>/dev/null | tr '\n' ' ' | cut -c1-400)"
            return 1
        fi
        sleep 0.02
    done
    if ! mountpoint -q "$m"; then
        anomaly "$s did not mount within 60 s (run $RUN)"
        mount_stop "$s" || true
        return 1
    fi
    t1=$(date +%s%N)
    record "$s" mount_start "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e6}')"
}

# SIGTERM by pid, wait for the process to end and the mount to be gone (30 s), then force.
mount_stop() {
    local s=$1 m=${MNT[$1]} pid=${MPID[$1]:-} i
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 1500; i++)); do
        if ! kill -0 "$pid" 2>/dev/null && ! mountpoint -q "$m"; then break; fi
        sleep 0.02
    done
    if kill -0 "$pid" 2>/dev/null; then
        [[ "${2:-}" == cleanup ]] || anomaly "$s (pid $pid) still running 30 s after SIGTERM (run $RUN); killed"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    [[ $s == jam ]] && jam_log_check
    if mountpoint -q "$m"; then
        [[ "${2:-}" == cleanup ]] || anomaly "$s left $m mounted after its process ended (run $RUN); lazy-unmounted"
        fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    fi
    unset "MPID[$s]"
}

# Reports the ERROR and WARN lines jam's mount logged since it was started, with the phase.
JAM_LOG_MARK=0
jam_log_check() {
    local line
    while IFS= read -r line; do
        anomaly "jam mount logged, in the phase of ${PHASE:-?} (run $RUN): ${line:0:300}"
    done < <(tail -n +$((JAM_LOG_MARK + 1)) "$LOGS/jam-mount.log" 2>/dev/null | grep -E '^\[(ERROR|WARN)\]' | sort -u | head -5)
}

# Empties the system's own cache (jam: fresh cache dir + fresh catalog; rclone: VFS cache) and the kernel's.
cold_reset() {
    case $1 in
        jam)
            rm -rf --one-file-system "$JAMCACHE" "$JAMCAT"
            mkdir -p "$JAMCACHE" && chmod 700 "$JAMCACHE"
            cp -a "$JAMCAT_PRISTINE" "$JAMCAT"
            ;;
        rclone) rm -rf --one-file-system "$RCACHE" ;;
    esac
    drop_caches
}

up() { [[ $1 == local ]] || mount_start "$1"; }
# phase SYSTEM WORKLOAD...: mounts; when that fails, the phase's workloads are recorded as failed
PHASE=""
phase() {
    local s=$1 k
    shift
    PHASE="$*"
    up "$s" && return 0
    for k in "$@"; do record "$s" "$k" "FAIL:the mount did not come up"; done
    return 1
}
down() { [[ $1 == local ]] || mount_stop "$1"; }
root_of() { if [[ $1 == local ]]; then echo "$SRV"; else echo "${MNT[$1]}"; fi; }


# ---------------------------------------------------------------- writes
# Removes what the write workloads leave in the served directory: bench-w* (their files), .jam
# (jam's kept versions) and .jam-tmp-* (an upload cut short).
clean_written() {
    find "$SRV" -mindepth 1 -maxdepth 1 \( -name 'bench-w*' -o -name .jam -o -name '.jam-tmp-*' \) -exec rm -rf {} +
    local c
    c=$(find "$SRV" -mindepth 1 -maxdepth 1 -name '*(conflict *' -printf '%f; ' | cut -c1-300)
    if [[ -n "$c" ]]; then
        anomaly "conflict copies in the served directory (run $RUN): $c"
        find "$SRV" -mindepth 1 -maxdepth 1 -name '*(conflict *' -exec rm -rf {} +
    fi
}

# Waits (up to 120 s) until `jam status` shows no pending upload; reports conflicts.
jam_settle() {
    local end=$((SECONDS + 120)) st
    while :; do
        st=$(jam_cmd status bench 2>&1) || true
        grep -q 'uploads: *none pending' <<<"$st" && break
        ((SECONDS < end)) || break
        sleep 0.5
    done
    grep -q 'uploads: *none pending' <<<"$st" \
        || anomaly "jam: uploads still pending 120 s after the server held the data (run $RUN): $(grep -A3 'uploads:' <<<"$st" | tr -s ' \n' ' ' | cut -c1-300)"
    if grep -q 'conflicts' <<<"$st"; then
        anomaly "jam status shows conflicts (run $RUN): $(grep -A3 'conflicts' <<<"$st" | tr -s ' \n' ' ' | cut -c1-300)"
    fi
}
