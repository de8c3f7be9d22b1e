package dev.jam.fs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * Runs the hot crypto of a transfer (AES-GCM as negotiated with the server, both ways, and
 * SHA-256 for verification) through the JIT once when a mount starts, on a background thread,
 * so the first file a user opens or writes is not encrypted, decrypted and hashed by slow code.
 *
 * <p>What matters is the number of calls, not the bytes: the GCM intrinsics (GHASH, counter
 * mode) are used only once C2 has compiled the callers, after several thousand invocations.
 * MINA SSHD calls the cipher once per SSH packet (about 32 KiB) with {@code updateAAD} and an
 * in-place {@code doFinal}; 400 calls of 64 KiB (the old warm-up) left a fresh mount's first
 * 256 MiB upload encrypting at about 250 MB/s, while 12,000 calls of 4 KiB (about 0.2 s of one
 * core) make it run at several GB/s from the start.
 */
final class Warmup {
    private static final Logger log = LoggerFactory.getLogger(Warmup.class);
    /** Calls per direction: beyond C2's compile thresholds (Tier4InvocationThreshold 5000 and back-edges). */
    static final int CALLS = 12_000;
    private static final int PACKET = 4096;

    private Warmup() {}

    static void inBackground() {
        Thread t = new Thread(Warmup::run, "jam-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    static void run() {
        try {
            byte[] packet = new byte[4 + PACKET + 16];
            SecretKeySpec key = new SecretKeySpec(new byte[16], "AES");
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Cipher enc = Cipher.getInstance("AES/GCM/NoPadding");
            Cipher dec = Cipher.getInstance("AES/GCM/NoPadding");
            byte[] iv = new byte[12];
            for (int i = 0; i < CALLS; i++) {
                iv[0] = (byte) i;
                iv[1] = (byte) (i >> 8);
                GCMParameterSpec spec = new GCMParameterSpec(128, iv);
                // as MINA SSHD does per packet: the length as associated data, the payload encrypted in place
                enc.init(Cipher.ENCRYPT_MODE, key, spec);
                enc.updateAAD(packet, 0, 4);
                enc.doFinal(packet, 4, PACKET, packet, 4);
                dec.init(Cipher.DECRYPT_MODE, key, spec);
                dec.updateAAD(packet, 0, 4);
                dec.doFinal(packet, 4, PACKET + 16, packet, 4);
                sha.update(packet, 4, PACKET);
            }
            sha.digest();
        } catch (GeneralSecurityException | RuntimeException e) {
            log.debug("warm-up skipped: {}", e.toString());
        }
    }
}
