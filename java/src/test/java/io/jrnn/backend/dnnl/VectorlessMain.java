package io.jrnn.backend.dnnl;

import io.jrnn.Accuracy;
import io.jrnn.Tensor;
import io.jrnn.backend.BackendContractTest;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.dnnl.ComposedRecurrentExecutorTest.Kind;
import io.jrnn.backend.dnnl.ComposedRecurrentExecutorTest.Size;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Run by {@link VectorProductTest} in a child JVM started without the Vector API: prints whether it
 * is available, what a Vector API step says when asked for anyway, the execution path of a batch-1
 * LSTM on the Java step, and its largest difference from the reference backend.
 */
public final class VectorlessMain {
    private VectorlessMain() {
    }

    public static void main(String[] args) {
        System.out.println("VECTOR=" + JavaRecurrentStep.VECTOR);
        System.out.println(DnnlBackend.instance().describe());
        try {
            new JavaRecurrentStep(JavaRecurrentStep.Kind.LSTM, 16, Activation.SIGMOID, Activation.TANH,
                    new float[16 * 64], null, 1, true, "test").close();
            System.out.println("not refused");
        } catch (IllegalArgumentException e) {
            System.out.println("refused: " + e.getMessage());
        }
        SplittableRandom rng = new SplittableRandom(3);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true,
                false, true, new Size(1, 9, 5, 24), rng);
        try (Tensor x = BackendContractTest.random(rng, 1f, 1, 9, 5);
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(DnnlBackend.instance().engine(),
                        spec, "test", 1);
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            Tensor[] expected = reference.run(x, null);
            Tensor[] actual = executor.run(x, null);
            System.out.println(executor.executionPath());
            double diff = Accuracy.maxAbsError(expected, actual);
            Arrays.stream(expected).forEach(Tensor::close);
            Arrays.stream(actual).forEach(Tensor::close);
            System.out.println("max abs diff " + diff);
        }
    }
}
