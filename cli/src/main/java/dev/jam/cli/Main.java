package dev.jam.cli;

import java.io.PrintWriter;

/** The {@code jam} program. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        Logging.defaults();
        Env env = Env.system();
        // the daemon runs unattended: its log goes to a file (rotated), with times
        if (args.length > 0 && args[0].equals("daemon")) Logging.toFile(env.stateDir().resolve("daemon.log"));
        Context context = new Context(env, Terminal.system(),
                new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(Jam.run(context, args));
    }
}
