package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Precision;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What the GPU composed path refuses, and how it says so (runs with or without a GPU). */
class CudaComposedRefusalTest {

    static RecurrentSpec spec(Activation activation, Activation recurrent) {
        RecurrentSpec base = ComposedWeightsTest.spec(CellType.LSTM, false, true, new SplittableRandom(3));
        return new RecurrentSpec("lstm_x", CellType.LSTM, activation, recurrent, true, false, false, false,
                base.weights());
    }

    @Test
    void withoutCudaTheExecutorRefusesWithTheDetectionReason() {
        Assumptions.assumeFalse(Cuda.usable(), "CUDA is usable here");
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                () -> new CudaComposedExecutor(0, Precision.FP32, spec(Activation.TANH, Activation.SIGMOID), "test"));
        assertTrue(e.getMessage().contains("LSTM 'lstm_x'"), e.getMessage());
        assertTrue(e.getMessage().contains("CUDA is not usable: " + Cuda.status().reason()), e.getMessage());
        assertThrows(UnsupportedConfigurationException.class, CudaBackend::instance);
    }

    @Test
    void aMissingFatbinSaysHowToBuildIt() {
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                () -> CudaKernels.readImage("no_such_kernels.fatbin"));
        String m = e.getMessage();
        assertTrue(m.contains("io/jrnn/backend/cuda/no_such_kernels.fatbin is missing"), m);
        assertTrue(m.contains("nvcc") && m.contains("cmake") && m.contains("mvn package"), m);
    }

    @Test
    void softmaxIsRefusedBeforeAnyDeviceWorkNamingTheLayer() {
        for (Activation[] a : new Activation[][] {{Activation.SOFTMAX, Activation.SIGMOID},
                {Activation.TANH, Activation.SOFTMAX}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new CudaComposedExecutor(0, Precision.FP32, spec(a[0], a[1]), "test"));
            assertTrue(e.getMessage().contains("LSTM 'lstm_x'") && e.getMessage().contains("softmax"), e.getMessage());
        }
    }
}
