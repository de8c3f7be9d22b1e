package dev.jam.fs;

import com.kenai.jffi.MemoryIO;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The jnr-fuse adapter: translates kernel calls into {@link JamFs} calls and exceptions into
 * errno values ({@link Errno}). No logic of its own.
 */
final class JamFuse extends FuseStubFS {
    private static final int O_ACCMODE = 3;

    private final JamFs fs;
    private final String fsName;
    private final long uid;
    private final long gid;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    JamFuse(JamFs fs, String fsName) {
        this.fs = fs;
        this.fsName = fsName;
        var unix = new com.sun.security.auth.module.UnixSystem();
        this.uid = unix.getUid();
        this.gid = unix.getGid();
        setLibfuseFlags();
    }

    /**
     * Sets libfuse's {@code flag_utime_omit_ok} and {@code flag_nullpath_ok}, which jnr-fuse leaves unset. Without the first, libfuse
     * never calls {@code utimens} for a change of the mtime alone ({@code touch -m}, tar), and
     * the change is silently lost. The flags are bits of one unsigned int (bit 2), in native
     * byte order; jnr-fuse exposes only their position.
     */
    private void setLibfuseFlags() {
        try {
            java.lang.reflect.Method offset = Class.forName("jnr.ffi.Struct$Member").getDeclaredMethod("offset");
            offset.setAccessible(true);
            long at = (long) offset.invoke(fuseOperations.flag_nullpath_ok);
            jnr.ffi.Pointer mem = jnr.ffi.Struct.getMemory(fuseOperations);
            int flags = mem.getInt(at);
            // bit 0 flag_nullpath_ok: calls on an open handle whose path is gone (a removed file still
            // open, in a removed directory) arrive with a null path; jam uses the handle only
            mem.putInt(at, flags | (1 << 2) | 1);
        } catch (ReflectiveOperationException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(JamFuse.class)
                    .warn("cannot enable mtime-only updates (touch -m will not change mtimes): {}", e.toString());
        }
    }

    /** The low-level libfuse calls that tell the kernel to forget what it cached (jnr-fuse binds none of them). */
    public interface Notify {
        Pointer fuse_get_session(Pointer fuse);

        Pointer fuse_session_next_chan(Pointer session, Pointer previous);

        int fuse_lowlevel_notify_inval_entry(Pointer channel, long parentNode, byte[] name, @size_t long nameLength);
    }

    private static final long ROOT_NODE = 1; // FUSE_ROOT_ID: the one kernel node id the high-level API shares
    private volatile Pointer fuseHandle;
    private volatile Notify notify;

    /** Runs when the kernel has accepted the mount: keeps libfuse's handle for {@link #forgetTopLevel}. */
    @Override
    public Pointer init(Pointer conn) {
        try {
            fuseHandle = getContext().fuse.get();
            notify = jnr.ffi.LibraryLoader.create(Notify.class).failImmediately().load("fuse");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            org.slf4j.LoggerFactory.getLogger(JamFuse.class)
                    .info("cannot invalidate the kernel's caches after a refresh ({}); changes show within the attribute timeout", e.toString());
        }
        return null;
    }

    /**
     * Tells the kernel to forget the names below the root given (and so everything it cached below
     * them: names, attributes, negative lookups), so changes a refresh found show at once rather
     * than after the attribute timeout. Only the root's node id is known to the high-level API,
     * hence whole top-level subtrees; they are looked up again from the catalog, which is cheap.
     * Never call it from a FUSE request handler. Returns how many names were invalidated.
     */
    int forgetTopLevel(Iterable<String> names) {
        Pointer f = fuseHandle;
        Notify n = notify;
        if (f == null || n == null) return 0;
        Pointer channel = n.fuse_session_next_chan(n.fuse_get_session(f), null);
        if (channel == null) return 0;
        int done = 0;
        for (String name : names) {
            byte[] b = name.getBytes(StandardCharsets.UTF_8);
            // 0, or -ENOENT when the kernel holds nothing under that name: both fine
            if (n.fuse_lowlevel_notify_inval_entry(channel, ROOT_NODE, b, b.length) == 0) done++;
        }
        return done;
    }

    /**
     * Mounts at {@code mountpoint} and answers requests until unmounted, on Java threads
     * ({@link FuseLoop}); as jnr-fuse's blocking {@code mount} (libfuse's own threads) where
     * libfuse's loop functions cannot be bound or {@code -Djam.fuse.javaThreads=false}.
     */
    void mountAndServe(java.nio.file.Path mountpoint, boolean debug, String[] options) {
        FuseLoop.Lib lib = null;
        if (!"false".equals(System.getProperty("jam.fuse.javaThreads"))) {
            try {
                lib = FuseLoop.lib();
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(JamFuse.class).info("libfuse's own request threads: {}", e.toString());
            }
        }
        if (lib == null) {
            mount(mountpoint, true, debug, options);
            return;
        }
        List<String> argv = new java.util.ArrayList<>(List.of(getFSName(), "-f", mountpoint.toAbsolutePath().toString()));
        if (debug) argv.add("-d");
        argv.addAll(List.of(options));
        int res = FuseLoop.run(argv.toArray(String[]::new), fuseOperations, FuseLoop.WORKER_NAME);
        if (res != 0) throw new ru.serce.jnrfuse.FuseException("Unable to mount FS, return code = " + res);
    }

    /** The native memory of a request's buffer (the kernel's data) as a ByteBuffer, without copying it. */
    private static ByteBuffer view(Pointer p, long size) {
        if (size > Integer.MAX_VALUE) throw new IllegalArgumentException("request of " + size + " bytes");
        if (!p.isDirect()) throw new IllegalStateException("FUSE buffer is not native memory");
        return MEMORY.newDirectByteBuffer(p.address(), (int) size);
    }

    @Override
    protected String getFSName() {
        return fsName;
    }

    private static int typeBits(Entry e) {
        return switch (e.kind()) {
            case DIR -> FileStat.S_IFDIR;
            case SYMLINK -> FileStat.S_IFLNK;
            case FILE -> FileStat.S_IFREG;
        };
    }

    private void fill(Entry e, FileStat st) {
        st.st_mode.set(typeBits(e) | (e.mode() & 07777));
        st.st_ino.set(e.id());
        st.st_nlink.set(e.isDir() ? 2 : 1);
        st.st_uid.set(uid);
        st.st_gid.set(gid);
        long size = e.isSymlink() && e.link() != null ? e.link().getBytes(StandardCharsets.UTF_8).length : e.size();
        st.st_size.set(size);
        st.st_blksize.set(4096);
        // blocks: what the file occupies on this machine (du shows local use; du --apparent-size the real size)
        long local = e.isFile() ? fs.cachedBytes(e) : 4096;
        st.st_blocks.set((local + 511) / 512);
        long sec = Math.floorDiv(e.mtime(), 1000);
        long nsec = Math.floorMod(e.mtime(), 1000) * 1_000_000L;
        st.st_mtim.tv_sec.set(sec);
        st.st_mtim.tv_nsec.set(nsec);
        st.st_ctim.tv_sec.set(sec);
        st.st_ctim.tv_nsec.set(nsec);
        long atime = Math.max(fs.catalog().atime(e), e.mtime());
        st.st_atim.tv_sec.set(Math.floorDiv(atime, 1000));
        st.st_atim.tv_nsec.set(Math.floorMod(atime, 1000) * 1_000_000L);
    }

    @Override
    public int getattr(String path, FileStat stat) {
        try {
            Entry e = fs.find(path);
            if (e == null) return -ErrorCodes.ENOENT(); // no exception: every new name is looked up first
            fill(e, stat);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "getattr", path);
        }
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        try {
            fill(fs.stat(fi.fh.get(), path), stat);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "fgetattr", path);
        }
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        try {
            // sorted by name: cp -r, tar and grep -r open a directory's files in the order it lists
            // them, and DirReadAhead recognizes a reader by its opens in name order
            List<Entry> entries = fs.list(path);
            filter.apply(buf, ".", null, 0);
            filter.apply(buf, "..", null, 0);
            // type and inode in each entry (d_type), so find and file managers need no stat per file
            DirFill fill = dirFill.get();
            for (Entry e : entries) {
                if (fill.add(filter, buf, e) != 0) break;
            }
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "readdir", path);
        }
    }

    /**
     * One thread's arguments for libfuse's filler, in native memory: a {@code struct stat} that
     * carries the entry's type and inode, and its NUL-terminated name. jnr passes both as they
     * are. A {@link FileStat} on the Java heap and a name as a {@code String} were copied in and
     * out on every call, with the inode boxed: in a profile of repeated {@code find}s that was
     * about half the time readdir spent in Java.
     */
    private static final class DirFill {
        private final FileStat st = new FileStat(Runtime.getSystemRuntime());
        private final Pointer stat = jnr.ffi.Memory.allocateDirect(Runtime.getSystemRuntime(), jnr.ffi.Struct.size(st), true);
        private final long modeAt = st.st_mode.offset();
        private final long inoAt = st.st_ino.offset();
        /** Whether {@code struct stat} has a 32-bit st_mode and a 64-bit st_ino here; else jnr's fields are used. */
        private final boolean raw;
        private ByteBuffer name = ByteBuffer.allocateDirect(1024);

        DirFill() {
            FileStat view = FileStat.of(stat);
            view.st_mode.set(0x1234_5678);
            view.st_ino.set(0x0102_0304_0506_0708L);
            raw = stat.getInt(modeAt) == 0x1234_5678 && stat.getLong(inoAt) == 0x0102_0304_0506_0708L;
        }

        int add(FuseFillDir filter, Pointer buf, Entry e) {
            if (!raw) {
                st.st_mode.set(typeBits(e));
                st.st_ino.set(e.id());
                return filter.apply(buf, e.name(), st, 0);
            }
            stat.putInt(modeAt, typeBits(e));
            stat.putLong(inoAt, e.id());
            byte[] bytes = e.name().getBytes(StandardCharsets.UTF_8);
            if (bytes.length + 1 > name.capacity()) name = ByteBuffer.allocateDirect(bytes.length + 1);
            name.clear();
            name.put(bytes).put((byte) 0).flip();
            return filter.apply(buf, name, stat, 0);
        }
    }

    private final ThreadLocal<DirFill> dirFill = ThreadLocal.withInitial(DirFill::new);

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        try {
            byte[] target = fs.readlink(path).getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "readlink", path);
        }
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        try {
            boolean write = (fi.flags.get() & O_ACCMODE) != 0;
            fi.fh.set(fs.open(path, write));
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "open", path);
        }
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        try {
            // read straight into the kernel's buffer: no copy on the way
            ByteBuffer dst = view(buf, size);
            long done = 0;
            while (dst.hasRemaining()) {
                int n = fs.read(fi.fh.get(), offset + done, dst);
                if (n <= 0) break;
                done += n;
            }
            return (int) done;
        } catch (Throwable t) {
            return Errno.of(t, "read", path);
        }
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        fs.release(fi.fh.get());
        return 0;
    }

    // ---- writes ---------------------------------------------------------------------------

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        try {
            fi.fh.set(fs.create(path, (int) (mode & 07777)));
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "create", path);
        }
    }

    @Override
    public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
        if ((mode & FileStat.S_IFMT) != FileStat.S_IFREG && (mode & FileStat.S_IFMT) != 0) return -ErrorCodes.EPERM();
        try {
            long h = fs.create(path, (int) (mode & 07777));
            fs.flush(h);
            fs.release(h);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "mknod", path);
        }
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        try {
            return fs.write(fi.fh.get(), offset, view(buf, size)); // written from the kernel's buffer as it is
        } catch (Throwable t) {
            return Errno.of(t, "write", path);
        }
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        try {
            fs.flush(fi.fh.get());
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "flush", path);
        }
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        try {
            fs.fsync(fi.fh.get());
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "fsync", path);
        }
    }

    @Override
    public int truncate(String path, @off_t long size) {
        try {
            fs.truncate(path, size);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "truncate", path);
        }
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        try {
            fs.truncate(fi.fh.get(), size);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "ftruncate", path);
        }
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        try {
            fs.mkdir(path, (int) (mode & 07777));
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "mkdir", path);
        }
    }

    @Override
    public int rmdir(String path) {
        try {
            fs.rmdir(path);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "rmdir", path);
        }
    }

    @Override
    public int unlink(String path) {
        try {
            fs.unlink(path);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "unlink", path);
        }
    }

    @Override
    public int rename(String oldpath, String newpath) {
        try {
            fs.rename(oldpath, newpath);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "rename", oldpath);
        }
    }

    @Override
    public int symlink(String oldpath, String newpath) {
        try {
            fs.symlink(oldpath, newpath);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "symlink", newpath);
        }
    }

    @Override
    public int link(String oldpath, String newpath) {
        return -ErrorCodes.EPERM(); // hard links: not supported (README)
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        try {
            fs.chmod(path, (int) (mode & 07777));
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "chmod", path);
        }
    }

    @Override
    public int chown(String path, @uid_t long uid, @gid_t long gid) {
        // every file belongs to the mounting user; "changing" to that owner succeeds (cp -p, rsync -a, tar)
        boolean sameUid = uid == this.uid || uid == 0xffffffffL || uid == -1;
        boolean sameGid = gid == this.gid || gid == 0xffffffffL || gid == -1;
        if (!(sameUid && sameGid)) return -ErrorCodes.EPERM();
        try {
            fs.stat(path);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "chown", path);
        }
    }

    private static final long UTIME_NOW = (1L << 30) - 1;
    private static final long UTIME_OMIT = (1L << 30) - 2;

    @Override
    public int utimens(String path, Timespec[] timespec) {
        try {
            long mtime;
            Timespec m = timespec.length > 1 ? timespec[1] : null;
            if (m == null || m.tv_nsec.longValue() == UTIME_NOW) mtime = System.currentTimeMillis();
            else if (m.tv_nsec.longValue() == UTIME_OMIT) mtime = -1;
            else mtime = m.tv_sec.get() * 1000 + m.tv_nsec.longValue() / 1_000_000;
            fs.setMtime(path, mtime);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "utimens", path);
        }
    }

    @Override
    public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
        return -ErrorCodes.EOPNOTSUPP(); // not stored (README); ErrorCodes.ENOTSUP() is 45, EL2NSYNC on Linux
    }

    @Override
    public int removexattr(String path, String name) {
        return -ErrorCodes.EOPNOTSUPP();
    }

    @Override
    public int statfs(String path, Statvfs st) {
        try {
            JamFs.Space s = fs.space();
            long bs = 4096;
            st.f_bsize.set(bs);
            st.f_frsize.set(bs);
            st.f_blocks.set(s.totalBytes() / bs);
            st.f_bfree.set(s.freeBytes() / bs);
            st.f_bavail.set(s.freeBytes() / bs);
            // f_files is the total, used and free: df -i shows f_files - f_ffree as used
            st.f_files.set(s.files() + Integer.MAX_VALUE);
            st.f_ffree.set(Integer.MAX_VALUE);
            st.f_favail.set(Integer.MAX_VALUE);
            st.f_namemax.set(255);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "statfs", path);
        }
    }

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        if (!name.startsWith("user.")) {
            // jam keeps no security labels, capabilities or ACLs: "not supported" (what the kernel
            // answers for a namespace no filesystem handler serves). ls -l asks for a label and an
            // ACL on every file; on ENOTSUP it stops asking for the rest of the device, which
            // saves two round trips through the kernel per listed file. ENODATA would not.
            return -ErrorCodes.EOPNOTSUPP();
        }
        if (!name.startsWith("user.jam.")) return -ErrorCodes.ENODATA();
        try {
            Optional<byte[]> v = fs.xattr(path, name);
            if (v.isEmpty()) return -ErrorCodes.ENODATA();
            byte[] b = v.get();
            if (size == 0) return b.length;
            if (size < b.length) return -ErrorCodes.ERANGE();
            value.put(0, b, 0, b.length);
            return b.length;
        } catch (Throwable t) {
            return Errno.of(t, "getxattr", path);
        }
    }

    @Override
    public int listxattr(String path, Pointer list, @size_t long size) {
        try {
            StringBuilder names = new StringBuilder();
            for (String n : fs.xattrNames(path)) names.append(n).append('\0');
            byte[] b = names.toString().getBytes(StandardCharsets.UTF_8);
            if (size == 0) return b.length;
            if (size < b.length) return -ErrorCodes.ERANGE();
            list.put(0, b, 0, b.length);
            return b.length;
        } catch (Throwable t) {
            return Errno.of(t, "listxattr", path);
        }
    }

    @Override
    public int access(String path, int mask) { // permissions: default_permissions lets the kernel check modes
        try {
            fs.stat(path);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "access", path);
        }
    }
}
