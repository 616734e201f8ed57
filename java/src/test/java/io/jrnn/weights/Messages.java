package io.jrnn.weights;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.function.Executable;

/** Asserts an {@link IllegalArgumentException} whose message contains every given fragment. */
final class Messages {
    private Messages() {
    }

    static IllegalArgumentException assertIllegalArgument(Executable call, String... fragments) {
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, call);
        String message = thrown.getMessage();
        for (String fragment : fragments) {
            assertTrue(message != null && message.contains(fragment),
                    () -> "message should contain '" + fragment + "': " + message);
        }
        return thrown;
    }
}
