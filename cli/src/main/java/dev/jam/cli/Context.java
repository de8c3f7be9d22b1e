package dev.jam.cli;

import java.io.PrintWriter;

/**
 * What a command may touch outside its arguments: the environment, the terminal, and the two
 * output streams. Built once per run (by {@link Main}, or by a test with its own values).
 */
record Context(Env env, Terminal terminal, PrintWriter out, PrintWriter err) {}
