package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommandLineTest {
    private JamRunner jam;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
    }

    @AfterEach
    void tearDown() throws Exception {
        jam.close();
    }

    @Test
    void helpListsCommandsAndExitCodes() {
        JamRunner.Result r = jam.run("--help");
        assertEquals(0, r.exitCode(), r.toString());
        for (String command : new String[] {"init", "index", "serve", "profiles"}) {
            assertTrue(r.out().contains("\n  " + command + " "), command + " missing from\n" + r.out());
        }
        for (String code : new String[] {"0", "1", "2", "3", "4", "5", "6"}) {
            assertTrue(r.out().matches("(?s).*\n +" + code + " +\\S.*"), "exit code " + code + " missing from\n" + r.out());
        }
    }

    @Test
    void versionComesFromTheBuild() {
        JamRunner.Result r = jam.run("--version");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().matches("(?s)jam \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\n.*"), r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"init", "index", "serve", "profiles"})
    void everyCommandHasHelp(String command) {
        JamRunner.Result r = jam.run(command, "--help");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().startsWith("Usage: jam " + command), r.out());
        assertTrue(r.out().contains("Exit codes:"), r.out());
    }

    @Test
    void noCommandShowsUsageAndFails() {
        JamRunner.Result r = jam.run();
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("Usage: jam"), r.err());
    }

    @Test
    void misspelledCommandSuggestsTheRightOne() {
        JamRunner.Result r = jam.run("inti");
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("jam: "), r.err());
        assertTrue(r.err().contains("jam init"), r.err());
        assertTrue(r.err().contains("Run 'jam --help' for usage."), r.err());
    }

    @Test
    void unknownOptionNamesTheCommandsHelp() {
        JamRunner.Result r = jam.run("index", "--frobnicate");
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("'--frobnicate'"), r.err());
        assertTrue(r.err().contains("Run 'jam index --help' for usage."), r.err());
    }

    @Test
    void verboseIsAcceptedAfterTheCommandAndShowsStackTraces() {
        JamRunner.Result quiet = jam.run("index", "nosuch");
        assertEquals(ExitCodes.CONFIG, quiet.exitCode(), quiet.toString());
        assertEquals(1, quiet.err().lines().count(), quiet.err());
        JamRunner.Result verbose = jam.run("index", "nosuch", "--verbose");
        assertEquals(ExitCodes.CONFIG, verbose.exitCode(), verbose.toString());
        assertTrue(verbose.err().contains("\tat dev.jam.cli."), verbose.err());
    }

    @Test
    void internalErrorsSayHowToReportThem() {
        StringWriter err = new StringWriter();
        Errors errors = new Errors(new PrintWriter(err), () -> false);
        int code = errors.handleExecutionException(new IllegalStateException("boom"), new CommandLine(new JamCommand()), null);
        assertEquals(ExitCodes.FAILURE, code);
        assertTrue(err.toString().startsWith("jam: internal error: java.lang.IllegalStateException: boom; run again with --verbose"), err.toString());
        assertFalse(err.toString().contains("\tat "), err.toString());
    }
}
