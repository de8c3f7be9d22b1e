package dev.jam.remote;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Content hashes jam records and verifies. */
public enum HashAlgorithm {
    SHA256("sha256", "SHA-256"),
    SHA1("sha1", "SHA-1"),
    MD5("md5", "MD5");

    private final String id;
    private final String jca;

    HashAlgorithm(String id, String jca) {
        this.id = id;
        this.jca = jca;
    }

    /** Short lowercase name, as stored in the catalog ({@code sha256}). */
    public String id() { return id; }

    public MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(jca);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jca + " missing from this JVM", e);
        }
    }

    /** Returns {@code hex} if it is a digest of this algorithm in lowercase hex; throws otherwise. */
    String checkHex(String hex) {
        int length = newDigest().getDigestLength() * 2;
        if (hex == null || hex.length() != length || !hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw new IllegalArgumentException("not a " + id + " in lowercase hex: " + Names.printable(hex));
        }
        return hex;
    }

    public static HashAlgorithm ofId(String id) {
        for (HashAlgorithm a : values()) if (a.id.equalsIgnoreCase(id)) return a;
        throw new IllegalArgumentException("unknown hash algorithm: " + id);
    }
}
