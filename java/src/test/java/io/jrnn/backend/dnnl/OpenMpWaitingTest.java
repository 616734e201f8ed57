package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** libgomp's spin count as jrnn reads it from OMP_WAIT_POLICY and GOMP_SPINCOUNT (libgomp's env.c). */
class OpenMpWaitingTest {
    private static long spins(String policy, String count) {
        return OpenMpWaiting.spins(policy, count, 2, 2);
    }

    @Test
    void policyDefaultsWithoutASpinCount() {
        assertEquals(300_000, spins(null, null));
        assertEquals(30_000_000_000L, spins("ACTIVE", null));
        assertEquals(30_000_000_000L, spins(" active ", null));
        assertEquals(0, spins("PASSIVE", null));
        assertEquals(300_000, spins("sometimes", null), "an unknown policy is ignored");
    }

    @Test
    void spinCountOverridesThePolicy() {
        assertEquals(10_000, spins("ACTIVE", "10000"));
        assertEquals(10_000, spins("PASSIVE", "10000"));
        assertEquals(10_000, spins(null, "10k"));
        assertEquals(2_000_000, spins("ACTIVE", " 2M "));
        assertEquals(3_000_000_000L, spins("ACTIVE", "3g"));
        assertEquals(4_000_000_000_000L, spins("ACTIVE", "4T"));
        assertEquals(Long.MAX_VALUE, spins("PASSIVE", "infinite"));
        assertEquals(Long.MAX_VALUE, spins("PASSIVE", "Infinity"));
        assertEquals(Long.MAX_VALUE, spins("ACTIVE", "99999999999T"), "saturates like libgomp");
    }

    @Test
    void unparseableSpinCountsAreIgnored() {
        assertNull(OpenMpWaiting.parseSpinCount(null));
        for (String bad : new String[] {"", "fast", "10x", "1.5M", "k", "99999999999999999999999"}) {
            assertNull(OpenMpWaiting.parseSpinCount(bad), bad);
            assertEquals(30_000_000_000L, spins("ACTIVE", bad), bad);
        }
    }

    @Test
    void moreThreadsThanProcessorsThrottleTheSpin() {
        assertEquals(1_000, OpenMpWaiting.spins("ACTIVE", null, 4, 2));
        assertEquals(100, OpenMpWaiting.spins(null, null, 4, 2));
        assertEquals(0, OpenMpWaiting.spins("PASSIVE", null, 4, 2));
        assertEquals(50, OpenMpWaiting.spins("ACTIVE", "50", 4, 2));
    }

    @Test
    void briefMeansAtMostTenThousandSpins() {
        assertTrue(spins("ACTIVE", "10000") <= OpenMpWaiting.BRIEF_SPINS);
        assertFalse(spins("ACTIVE", "10001") <= OpenMpWaiting.BRIEF_SPINS);
        assertFalse(spins(null, null) <= OpenMpWaiting.BRIEF_SPINS, "libgomp's default spins about 3 ms");
        assertEquals(OpenMpWaiting.SPINS <= OpenMpWaiting.BRIEF_SPINS, OpenMpWaiting.idleThreadsSleepSoon());
        assertTrue(OpenMpWaiting.describe().contains("GOMP_SPINCOUNT"), OpenMpWaiting.describe());
    }
}
