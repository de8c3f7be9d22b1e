package dev.jam.cli;

import java.io.PrintWriter;

/** The {@code jam} program. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        Logging.defaults();
        Context context = new Context(Env.system(), Terminal.system(),
                new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(Jam.run(context, args));
    }
}
