package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClosingTest {

    @Test
    void closesLastToFirstAndEmptiesTheList() {
        List<String> order = new ArrayList<>();
        List<AutoCloseable> resources = new ArrayList<>();
        resources.add(() -> order.add("a"));
        resources.add(() -> order.add("b"));
        resources.add(() -> order.add("c"));
        Closing.closeReversed(resources, null);
        assertEquals(List.of("c", "b", "a"), order);
        assertTrue(resources.isEmpty());
    }

    @Test
    void goesOnAfterAFailureAndThrowsTheFirstWithLaterOnesSuppressed() {
        List<String> order = new ArrayList<>();
        RuntimeException early = new RuntimeException("a failed");
        RuntimeException late = new RuntimeException("c failed");
        List<AutoCloseable> resources = new ArrayList<>();
        resources.add(() -> {
            order.add("a");
            throw early;
        });
        resources.add(() -> order.add("b"));
        resources.add(() -> {
            order.add("c");
            throw late;
        });
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> Closing.closeReversed(resources, null));
        assertSame(late, thrown);
        assertEquals(List.of(early), List.of(thrown.getSuppressed()));
        assertEquals(List.of("c", "b", "a"), order);
        assertTrue(resources.isEmpty());
    }

    @Test
    void aCheckedFailureIsWrapped() {
        IOException checked = new IOException("io");
        List<AutoCloseable> resources = new ArrayList<>();
        resources.add(() -> {
            throw checked;
        });
        IllegalStateException thrown =
                assertThrows(IllegalStateException.class, () -> Closing.closeReversed(resources, null));
        assertSame(checked, thrown.getCause());
    }

    @Test
    void withAGivenFailureNothingIsThrownAndFailuresAreSuppressedOnIt() {
        RuntimeException given = new RuntimeException("given");
        RuntimeException closing = new RuntimeException("closing");
        List<AutoCloseable> resources = new ArrayList<>();
        resources.add(() -> {
            throw closing;
        });
        Closing.closeReversed(resources, given);
        assertEquals(List.of(closing), List.of(given.getSuppressed()));
        assertTrue(resources.isEmpty());
    }

    @Test
    void closeTensorsClosesEveryNonNullOne() {
        Tensor a = Tensor.uninitialized(2);
        Tensor b = Tensor.uninitialized(3);
        Closing.closeTensors(new Tensor[] {a, null, b});
        assertTrue(a.isClosed());
        assertTrue(b.isClosed());
    }
}
