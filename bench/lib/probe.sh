# Sourced by bench/sftp-throughput: compiles and runs dev.jam.remote.ThroughputProbe against the
# bench sshd, BENCH_TP_PROBES times (default 3). Each JVM gives one "cold" (first transfer after
# start) and one "warm" figure per direction. Sets JGET_FIRST, JPUT_FIRST, JGET, JPUT (MiB/s).
# Compiles remote/src/main + the probe from the working tree into $TP/classes (Maven only
# resolves the dependency classpath), so the repository's target/ dirs are not touched.

log "jam: resolving the remote module's classpath (mvn dependency:build-classpath)"
(cd "$REPO" && mvn -q -B -o -pl remote dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$TP/cp.txt" \
    || mvn -q -B -pl remote dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$TP/cp.txt") \
    >"$TP/probe-build.log" 2>&1 || { log "mvn dependency:build-classpath failed (see $TP/probe-build.log)"; return 1; }
mkdir -p "$TP/classes"
log "jam: compiling remote/src/main/java and ThroughputProbe into $TP/classes"
javac --release 17 -nowarn -d "$TP/classes" -cp "$(cat "$TP/cp.txt")" \
    -sourcepath "$REPO/remote/src/main/java:$REPO/remote/src/test/java" "$probe_src" >>"$TP/probe-build.log" 2>&1 \
    || { log "javac failed (see $TP/probe-build.log)"; return 1; }
mkdir -p "$DATA/put"
probes="${BENCH_TP_PROBES:-3}"
for ((i = 1; i <= probes; i++)); do
    log "jam: ThroughputProbe run $i/$probes"
    if ! java -cp "$TP/classes:$(cat "$TP/cp.txt")" dev.jam.remote.ThroughputProbe \
        "sftp://$SSH_USER@127.0.0.1:$PORT$DATA/put" "$KEY" "$KH" "$MB" >"$TP/probe-$i.log" 2>&1; then
        log "ThroughputProbe failed: $(tail -3 "$TP/probe-$i.log")"
        return 1
    fi
    grep '^SftpRemote' "$TP/probe-$i.log" >&2 || true
    v() { sed -n "s/^SftpRemote $1 *$2: *\([0-9.]*\) MiB\/s.*/\1/p" "$TP/probe-$i.log"; }
    JPUT_FIRST+=" $(v upload cold)"
    JGET_FIRST+=" $(v download cold)"
    JPUT+=("$(v upload warm)")
    JGET+=("$(v download warm)")
done
rm -rf --one-file-system "$DATA/put"
