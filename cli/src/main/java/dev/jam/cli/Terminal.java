package dev.jam.cli;

import java.io.Console;

/** Questions to the person at the keyboard. Commands ask only when {@link #interactive()}. */
interface Terminal {

    /** True when a person can answer (stdin and stdout are a terminal). */
    boolean interactive();

    /** Shows {@code question}, returns the trimmed answer, or {@code defaultAnswer} for an empty one. */
    String ask(String question, String defaultAnswer);

    /** Reads a secret without echo; {@code null} when the user gives up (end of input). */
    char[] askSecret(String prompt);

    /** A yes/no question whose default is no. */
    default boolean confirm(String question) {
        String answer = ask(question + " [y/N]", null);
        return answer.equalsIgnoreCase("y") || answer.equalsIgnoreCase("yes");
    }

    /** No terminal: scripts, CI, pipes. Commands must not ask. */
    Terminal NONE = new Terminal() {
        @Override public boolean interactive() { return false; }
        @Override public String ask(String question, String defaultAnswer) { throw new IllegalStateException("no terminal to ask: " + question); }
        @Override public char[] askSecret(String prompt) { throw new IllegalStateException("no terminal to ask: " + prompt); }
    };

    /** The process's terminal, or {@link #NONE} when stdin or stdout is not one. */
    static Terminal system() {
        Console console = System.console();
        return console == null ? NONE : new ConsoleTerminal(console);
    }

    /** Asks through {@link Console}, which reads secrets without echo. */
    final class ConsoleTerminal implements Terminal {
        private final Console console;

        ConsoleTerminal(Console console) {
            this.console = console;
        }

        @Override
        public boolean interactive() {
            return true;
        }

        @Override
        public String ask(String question, String defaultAnswer) {
            String prompt = defaultAnswer == null || defaultAnswer.isEmpty() ? question + ": " : question + " [" + defaultAnswer + "]: ";
            String line = console.readLine("%s", prompt);
            if (line == null) throw new JamException(ExitCodes.USAGE, "input ended before the question was answered: " + question);
            line = line.trim();
            return line.isEmpty() && defaultAnswer != null ? defaultAnswer : line;
        }

        @Override
        public char[] askSecret(String prompt) {
            return console.readPassword("%s", prompt);
        }
    }
}
