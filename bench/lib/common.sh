# Shared by bench/run and bench/sftp-throughput: packages, a private OpenSSH sshd on 127.0.0.1,
# logging and cleanup. Sourced, not run. Expects BENCH_LIB (this directory) and W (work dir).

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt-get installs only what is missing (after one apt-get update).
ensure_packages() {
    local missing=() have
    have() { command -v "$1" >/dev/null 2>&1; }
    have python3 || missing+=(python3)
    [[ -x /usr/bin/time ]] || missing+=(time)
    have ssh-keygen || missing+=(openssh-client)
    have sftp || missing+=(openssh-client)
    [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
    [[ -x /usr/lib/openssh/sftp-server ]] || missing+=(openssh-sftp-server)
    if [[ "${NEED_MOUNTS:-1}" == 1 ]]; then
        have sshfs || missing+=(sshfs)
        have rclone || missing+=(rclone)
        have fusermount3 || missing+=(fuse3)
        have getfattr || missing+=(attr)
        have mountpoint || missing+=(util-linux)
        { ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q 'libfuse\.so\.2' || missing+=(LIBFUSE2)
    fi
    have java || missing+=(openjdk-17-jdk-headless)
    have mvn || missing+=(maven)
    ((${#missing[@]})) || return 0
    local sudo=()
    [[ $EUID -eq 0 ]] || sudo=(sudo)
    log "installing missing packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -q || die "apt-get update failed"
    local pkgs=() p
    for p in "${missing[@]}"; do
        if [[ $p == LIBFUSE2 ]]; then
            # Ubuntu 24.04 renamed it libfuse2t64
            if apt-cache show libfuse2t64 >/dev/null 2>&1; then pkgs+=(libfuse2t64); else pkgs+=(libfuse2); fi
        else
            pkgs+=("$p")
        fi
    done
    mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts sshd; sets PORT (sshd's), SSHD_PID, KEY (client private key), KH (known_hosts), HOSTFP,
# SSHCFG (an ssh_config with a Host "bench"), SSH_USER, and CPORT: the port clients connect to.
# With RTT_MS > 0 (bench/run and bench/try set it from BENCH_RTT_MS) that is the delaying proxy's
# (lib/delay.py, see start_delay_proxy), otherwise sshd's own. Everything lives in $W/sshd.
start_sshd() {
    local d="$W/sshd"
    mkdir -p "$d"
    chmod 700 "$d"
    [[ -f "$d/host_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C jam-bench-host -f "$d/host_ed25519"
    [[ -f "$d/client_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C jam-bench-client -f "$d/client_ed25519"
    cp "$d/client_ed25519.pub" "$d/authorized_keys"
    chmod 600 "$d/authorized_keys"
    SSH_USER="$(id -un)"
    KEY="$d/client_ed25519"
    KH="$d/known_hosts"
    # privilege separation directory, needed by sshd when started as root. Debian's openssh-server
    # creates it at boot; it is left in place at the end (other sshd processes chroot into it).
    if [[ $EUID -eq 0 && ! -d /run/sshd ]]; then
        mkdir -p /run/sshd && chmod 755 /run/sshd
    fi
    local tries
    for tries in 1 2 3 4 5; do
        PORT="$(free_port)"
        cat >"$d/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile none
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthenticationMethods publickey
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
AllowUsers $SSH_USER
Subsystem sftp /usr/lib/openssh/sftp-server
MaxStartups 100:30:200
MaxSessions 100
X11Forwarding no
PrintMotd no
LogLevel ERROR
CONF
        /usr/sbin/sshd -t -f "$d/sshd_config" || die "sshd rejects $d/sshd_config"
        /usr/sbin/sshd -D -e -f "$d/sshd_config" 2>>"$d/sshd.log" &
        SSHD_PID=$!
        local i
        for i in $(seq 100); do
            if python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$PORT),0.2); s.close()" 2>/dev/null; then
                break
            fi
            kill -0 "$SSHD_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -0 "$SSHD_PID" 2>/dev/null && break
        log "sshd on port $PORT did not start (port taken?), trying another"
        SSHD_PID=
    done
    [[ -n "$SSHD_PID" ]] || die "could not start sshd; see $d/sshd.log"
    CPORT=$PORT
    start_delay_proxy "$d"
    echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >"$KH"
    [[ $CPORT == "$PORT" ]] || echo "[127.0.0.1]:$CPORT $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >>"$KH"
    HOSTFP="$(ssh-keygen -lf "$d/host_ed25519.pub" -E sha256 | awk '{print $2}')"
    SSHCFG="$d/ssh_config"
    cat >"$SSHCFG" <<CONF
Host bench
    HostName 127.0.0.1
Host *
    Port $CPORT
    User $SSH_USER
    IdentityFile $KEY
    IdentitiesOnly yes
    UserKnownHostsFile $KH
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    PasswordAuthentication no
CONF
    echo pwd | sftp -q -F "$SSHCFG" -b - bench >/dev/null 2>"$d/sftp-check.log" \
        || die "sftp to the bench sshd failed: $(cat "$d/sftp-check.log")"
    log "sshd (pid $SSHD_PID) on 127.0.0.1:$PORT, host key $HOSTFP"
}

# Latency mode: with RTT_MS > 0, starts lib/delay.py on a free loopback port in front of sshd
# (every chunk delayed by RTT_MS/2 in each direction, no bandwidth cap) and sets CPORT to its port
# and DELAY_PID. Called by start_sshd; stop_sshd stops it.
DELAY_PID=
start_delay_proxy() {
    local d=$1 i
    [[ ${RTT_MS:-0} =~ ^[0-9]+([.][0-9]+)?$ ]] || die "BENCH_RTT_MS must be a number of milliseconds, not '${RTT_MS}'"
    awk -v r="${RTT_MS:-0}" 'BEGIN {exit !(r > 0)}' || return 0
    rm -f "$d/delay.port"
    python3 "$BENCH_LIB/delay.py" --rtt-ms "$RTT_MS" --target "127.0.0.1:$PORT" --port-file "$d/delay.port" \
        2>>"$d/delay.log" &
    DELAY_PID=$!
    for ((i = 0; i < 200; i++)); do
        [[ -s "$d/delay.port" ]] && break
        kill -0 "$DELAY_PID" 2>/dev/null || break
        sleep 0.05
    done
    [[ -s "$d/delay.port" ]] || die "the delaying proxy did not start; see $d/delay.log"
    CPORT=$(cat "$d/delay.port")
    log "delaying proxy (pid $DELAY_PID) on 127.0.0.1:$CPORT -> sshd :$PORT, $RTT_MS ms round trip ($d/delay.log)"
}

# Latency mode: the measured round trip to sshd through the proxy and straight (lib/delay.py --ping:
# 10 new connections each, SSH version line sent until sshd's KEXINIT arrives); prints one line.
rtt_check() {
    local via direct
    via=$(python3 "$BENCH_LIB/delay.py" --ping "127.0.0.1:$CPORT" 2>&1 | tail -1)
    direct=$(python3 "$BENCH_LIB/delay.py" --ping "127.0.0.1:$PORT" 2>&1 | tail -1)
    echo "$via" "$direct" | awk 'NF == 6 {printf "%.1f ms through the proxy (min %.1f, max %.1f), %.1f ms straight to sshd (min %.1f, max %.1f); median of 10 SSH version exchanges each\n", $1, $2, $3, $4, $5, $6; next} {print "failed: " $0}'
}

stop_sshd() {
    if [[ -n "${DELAY_PID:-}" ]]; then
        kill -TERM "$DELAY_PID" 2>/dev/null || true
        wait "$DELAY_PID" 2>/dev/null || true
        DELAY_PID=
    fi
    if [[ -n "${SSHD_PID:-}" ]]; then
        kill -TERM "$SSHD_PID" 2>/dev/null || true
        wait "$SSHD_PID" 2>/dev/null || true
        SSHD_PID=
    fi
}

# sync, then drop the page cache, dentries and inodes (root only); sets CACHES_DROPPED=0 when it cannot.
drop_caches() {
    sync
    if [[ -w /proc/sys/vm/drop_caches ]] && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
        return 0
    fi
    if [[ "${CACHES_DROPPED:-1}" == 1 ]]; then
        log "warning: cannot drop kernel caches (not root?); cold figures include warm kernel caches"
    fi
    CACHES_DROPPED=0
}

# Machine description as KEY=VALUE lines.
machine_meta() {
    echo "CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
    echo "CORES=$(nproc)"
    echo "MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "KERNEL=$(uname -sr)"
    echo "JAVA=$(java -version 2>&1 | head -1)"
    echo "SSHFS=$(sshfs --version 2>&1 | sed -n 's/^SSHFS version //p' | head -1)"
    echo "FUSE=libfuse $(sshfs --version 2>&1 | sed -n 's/^FUSE library version //p' | head -1), fusermount3 $(fusermount3 --version 2>&1 | awk '{print $NF}')"
    echo "RCLONE=$(rclone version 2>/dev/null | head -1)"
    echo "OPENSSH=$(ssh -V 2>&1)"
}
