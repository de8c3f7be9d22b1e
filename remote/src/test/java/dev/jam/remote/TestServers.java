package dev.jam.remote;

import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.subsystem.SubsystemFactory;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Plain MINA servers for tests that need to see or shape what the server does. */
final class TestServers {
    private TestServers() {}

    static KeyPair ed25519() throws Exception {
        return KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    }

    /**
     * An SFTP server on 127.0.0.1 that accepts {@code clientKey} and counts every public-key
     * authentication attempt in {@code attempts}. {@code subsystem} replaces the SFTP subsystem
     * when not {@code null}.
     */
    static SshServer start(Path root, KeyPair hostKey, PublicKey clientKey, AtomicInteger attempts, SubsystemFactory subsystem)
            throws IOException {
        return start(root, List.of(hostKey), clientKey, attempts, subsystem);
    }

    static SshServer start(Path root, List<KeyPair> hostKeys, PublicKey clientKey, AtomicInteger attempts, SubsystemFactory subsystem)
            throws IOException {
        SshServer s = SshServer.setUpDefaultServer();
        s.setHost("127.0.0.1");
        s.setPort(0);
        s.setKeyPairProvider(KeyPairProvider.wrap(hostKeys));
        s.setPublickeyAuthenticator((user, key, session) -> {
            attempts.incrementAndGet();
            return KeyUtils.compareKeys(clientKey, key);
        });
        s.setPasswordAuthenticator(null);
        s.setKeyboardInteractiveAuthenticator(null);
        s.setFileSystemFactory(new VirtualFileSystemFactory(root));
        s.setSubsystemFactories(List.of(subsystem != null ? subsystem : new SftpSubsystemFactory()));
        s.start();
        return s;
    }

    /** A subsystem factory named "sftp" that runs {@code command}. */
    static SubsystemFactory sftp(java.util.function.Supplier<Command> command) {
        return new SubsystemFactory() {
            @Override
            public String getName() {
                return "sftp";
            }

            @Override
            public Command createSubsystem(org.apache.sshd.server.channel.ChannelSession channel) {
                return command.get();
            }
        };
    }
}
