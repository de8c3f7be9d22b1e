package dev.jam.fs;

import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;

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
    private static final int MAX_READ = 1 << 20;

    private final JamFs fs;
    private final String fsName;
    private final long uid;
    private final long gid;
    private final ThreadLocal<FileStat> dirStat = ThreadLocal.withInitial(() -> new FileStat(Runtime.getSystemRuntime()));
    private final ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(MAX_READ));
    private final ThreadLocal<Pointer> bufferPointers = ThreadLocal.withInitial(() -> Pointer.wrap(Runtime.getSystemRuntime(), buffers.get()));

    JamFuse(JamFs fs, String fsName) {
        this.fs = fs;
        this.fsName = fsName;
        var unix = new com.sun.security.auth.module.UnixSystem();
        this.uid = unix.getUid();
        this.gid = unix.getGid();
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
            fill(fs.stat(path), stat);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "getattr", path);
        }
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        try {
            fill(fs.stat(fi.fh.get()), stat);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "fgetattr", path);
        }
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        try {
            List<Entry> entries = fs.list(path);
            filter.apply(buf, ".", null, 0);
            filter.apply(buf, "..", null, 0);
            // type and inode in each entry (d_type), so find and file managers need no stat per file
            FileStat st = dirStat.get();
            for (Entry e : entries) {
                st.st_mode.set(typeBits(e));
                st.st_ino.set(e.id());
                if (filter.apply(buf, e.name(), st, 0) != 0) break;
            }
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "readdir", path);
        }
    }

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
            ByteBuffer b = buffers.get();
            Pointer src = bufferPointers.get();
            long done = 0;
            while (done < size) {
                b.clear();
                b.limit((int) Math.min(b.capacity(), size - done));
                int n = fs.read(fi.fh.get(), offset + done, b);
                if (n <= 0) break;
                buf.transferFrom(done, src, 0, n);
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
            st.f_files.set(s.files());
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
        if (!name.startsWith("user.jam.")) return -ErrorCodes.ENODATA(); // ls asks for ACLs and labels on every file
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
    public int access(String path, int mask) {
        try {
            fs.stat(path);
            return 0;
        } catch (Throwable t) {
            return Errno.of(t, "access", path);
        }
    }
}
