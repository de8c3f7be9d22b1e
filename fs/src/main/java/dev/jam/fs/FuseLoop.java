package dev.jam.fs;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.types.size_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.struct.FuseOperations;

/**
 * libfuse 2's multi-threaded request loop ({@code fuse_loop_mt}), run on Java threads.
 *
 * <p>Why: libfuse's own loop answers requests on native threads it creates. Each callback into
 * Java from such a thread makes jffi attach it to the JVM and detach it again afterwards, until
 * that thread has made 1,000 calls (jffi's {@code THREAD_ATTACH_THRESHOLD}); an attach creates
 * a {@code java.lang.Thread}, a detach tears it down. On a fresh mount that is every request for
 * the first several thousand (one thousand per worker thread): creating 2,000 small files right
 * after mounting ran at ~1,100 files/s this way and ~2,000 with the callbacks on Java threads.
 *
 * <p>The loop is libfuse's: {@code fuse_setup} parses the same arguments and mounts as
 * {@code fuse_main} does; each worker reads one request ({@code fuse_chan_recv}) and processes
 * it ({@code fuse_session_process}, which calls the file system); a new worker starts when
 * none is left waiting for a request (so a slow request never holds up the others), and a
 * worker ends when more than {@value #MAX_IDLE} wait (FORGETs count for neither, as in
 * libfuse). An unmount ends every read with ENODEV; then {@code fuse_teardown} unmounts (if
 * still mounted) and destroys the session, as {@code fuse_main} does.
 */
final class FuseLoop {
    private static final Logger log = LoggerFactory.getLogger(FuseLoop.class);
    /** Waiting workers beyond this end (libfuse's figure). */
    static final int MAX_IDLE = 10;
    /** Workers are named this, a dash and a number. */
    static final String WORKER_NAME = "jam-fuse-request";
    private static final int FUSE_FORGET = 2;
    private static final int FUSE_BATCH_FORGET = 42;
    private static final int EINTR = 4;

    /** The libfuse 2 calls of the loop (all exported by libfuse.so.2). */
    public interface Lib {
        Pointer fuse_setup(int argc, String[] argv, FuseOperations op, @size_t long opSize, PointerByReference mountpoint,
                           IntByReference multithreaded, Pointer userData);

        void fuse_teardown(Pointer fuse, Pointer mountpoint);

        Pointer fuse_get_session(Pointer fuse);

        Pointer fuse_session_next_chan(Pointer session, Pointer previous);

        @size_t long fuse_chan_bufsize(Pointer channel);

        int fuse_session_exited(Pointer session);

        void fuse_session_exit(Pointer session);

        int fuse_chan_recv(Pointer channelRef, Pointer buf, @size_t long size);

        void fuse_session_process(Pointer session, Pointer buf, @size_t long len, Pointer channel);
    }

    private static volatile Lib lib;

    /** libfuse's loop functions, or an UnsatisfiedLinkError when they cannot be bound. */
    static Lib lib() {
        Lib l = lib;
        if (l == null) lib = l = jnr.ffi.LibraryLoader.create(Lib.class).failImmediately().load("fuse");
        return l;
    }

    private final Lib fuse;
    private final Pointer session;
    private final Pointer channel;
    private final long bufSize;
    private final String name;
    private final Object lock = new Object();
    private int available;   // guarded by lock: workers waiting for a request
    private int workers;     // guarded by lock
    private int started;     // guarded by lock
    private volatile int failure;

    private FuseLoop(Lib fuse, Pointer handle, String name) {
        this.fuse = fuse;
        this.session = fuse.fuse_get_session(handle);
        this.channel = fuse.fuse_session_next_chan(session, null);
        this.bufSize = fuse.fuse_chan_bufsize(channel);
        this.name = name;
    }

    /**
     * Mounts with {@code argv} (as {@code fuse_main} takes them) and answers requests until the
     * file system is unmounted. Returns 0 after a clean unmount, non-zero when the mount failed
     * (libfuse printed why) or reading requests failed.
     */
    static int run(String[] argv, FuseOperations ops, String threadName) {
        Lib l = lib();
        PointerByReference mountpoint = new PointerByReference();
        IntByReference multithreaded = new IntByReference();
        Pointer handle = l.fuse_setup(argv.length, argv, ops, jnr.ffi.Struct.size(ops), mountpoint, multithreaded, null);
        if (handle == null) return 1;
        FuseLoop loop = new FuseLoop(l, handle, threadName);
        try {
            loop.serve();
        } finally {
            l.fuse_teardown(handle, mountpoint.getValue());
        }
        return loop.failure == 0 ? 0 : 1;
    }

    private void serve() {
        synchronized (lock) {
            startWorker();
            boolean interrupted = false;
            long exitedAt = 0;
            while (workers > 0) {
                try {
                    lock.wait(200);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                if (fuse.fuse_session_exited(session) != 0) {
                    // every blocked read ends with ENODEV on unmount; do not wait forever for one that does not
                    if (exitedAt == 0) exitedAt = System.nanoTime();
                    else if (System.nanoTime() - exitedAt > 5_000_000_000L) {
                        log.warn("{} FUSE worker(s) still busy 5 s after the session ended", workers);
                        break;
                    }
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** Starts a worker; call holding the lock. */
    private void startWorker() {
        workers++;
        available++;
        Thread t = new Thread(this::work, name + "-" + (++started));
        t.setDaemon(true);
        t.start();
    }

    private void work() {
        Runtime rt = Runtime.getSystemRuntime();
        Pointer buf = Memory.allocateDirect(rt, bufSize);
        Pointer channelRef = Memory.allocateDirect(rt, rt.addressSize());
        channelRef.putPointer(0, channel);
        boolean waiting = true; // counted in available
        try {
            while (fuse.fuse_session_exited(session) == 0) {
                int res = fuse.fuse_chan_recv(channelRef, buf, bufSize);
                if (res == -EINTR) continue;
                if (res <= 0) {
                    if (res < 0) {
                        failure = res;
                        fuse.fuse_session_exit(session);
                    }
                    return;
                }
                int opcode = res >= 8 ? buf.getInt(4) : -1;
                boolean forget = opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET;
                synchronized (lock) {
                    if (!forget) {
                        available--;
                        waiting = false;
                    }
                    if (available == 0) startWorker();
                }
                fuse.fuse_session_process(session, buf, res, channelRef.getPointer(0));
                synchronized (lock) {
                    if (!forget) {
                        available++;
                        waiting = true;
                    }
                    if (available > MAX_IDLE) return; // counted out below
                }
            }
        } catch (RuntimeException | Error e) {
            log.error("FUSE worker {} failed", Thread.currentThread().getName(), e);
            failure = -1;
            fuse.fuse_session_exit(session);
        } finally {
            synchronized (lock) {
                if (waiting) available--;
                workers--;
                lock.notifyAll();
            }
        }
    }
}
