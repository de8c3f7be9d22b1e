package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Keeps the shipped bash completion in step with the commands. */
class CompletionScriptTest {
    private static final Path SCRIPT = Path.of("../src/completion/jam.bash");

    @Test
    void shippedScriptMatchesTheCommands() throws Exception {
        try (JamRunner jam = new JamRunner()) {
            JamRunner.Result generated = jam.run("generate-completion");
            assertEquals(0, generated.exitCode(), generated.toString());
            assertEquals(generated.out(), Files.readString(SCRIPT),
                    "src/completion/jam.bash is out of date; regenerate it from the repository root with:"
                            + " ./jam generate-completion > src/completion/jam.bash");
        }
    }
}
