package io.jrnn.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Device;
import io.jrnn.UnsupportedConfigurationException;
import org.junit.jupiter.api.Test;

class BackendsTest {
    @Test
    void unknownNameListsTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backend.named("gpu2"));
        assertTrue(e.getMessage().contains("'gpu2'"), e.getMessage());
        for (String n : Backends.NAMES) {
            assertTrue(e.getMessage().contains(n), e.getMessage());
        }
    }

    @Test
    void autoPrefersOneDnnAndSaysWhy() {
        String old = System.clearProperty(Backends.PROPERTY);
        try {
            assertEquals("cpu", Backend.auto().name());
            assertTrue(Backends.lastAutoReason().contains("chose cpu"), Backends.lastAutoReason());
        } finally {
            if (old != null) {
                System.setProperty(Backends.PROPERTY, old);
            }
        }
    }

    @Test
    void systemPropertyOverridesAuto() {
        String old = System.getProperty(Backends.PROPERTY);
        try {
            System.setProperty(Backends.PROPERTY, "reference");
            assertEquals("reference", Backend.auto().name());
            System.setProperty(Backends.PROPERTY, "nonsense");
            assertThrows(IllegalArgumentException.class, Backend::auto);
        } finally {
            if (old == null) {
                System.clearProperty(Backends.PROPERTY);
            } else {
                System.setProperty(Backends.PROPERTY, old);
            }
        }
    }

    @Test
    void cudaIsChosenOnlyWhenUsableAndRefusedClearlyOtherwise() {
        io.jrnn.backend.cuda.CudaStatus cuda = io.jrnn.backend.cuda.Cuda.status();
        if (cuda.usable()) {
            assertEquals("cuda", Backend.named("cuda").name());
            assertEquals(Device.cuda(0), Device.auto());
            assertTrue(Device.autoReason().startsWith("CUDA chosen"), Device.autoReason());
        } else {
            UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                    () -> Backend.named("cuda"));
            assertTrue(e.getMessage().startsWith("Backend 'cuda' is not available: "), e.getMessage());
            assertTrue(e.getMessage().contains(cuda.reason()), e.getMessage());
            assertEquals(Device.cpu(), Device.auto());
            assertTrue(Device.autoReason().contains(cuda.reason()), Device.autoReason());
            assertTrue(Backends.lastAutoReason().isEmpty() || !Backend.auto().name().equals("cuda"));
        }
        assertEquals("cuda:1", Device.cuda(1).toString());
        assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
    }
}
