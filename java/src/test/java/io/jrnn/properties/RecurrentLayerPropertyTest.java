package io.jrnn.properties;

import static io.jrnn.properties.RecurrentArbitraries.allFinite;
import static io.jrnn.properties.RecurrentArbitraries.assertOutputsClose;
import static io.jrnn.properties.RecurrentArbitraries.closeAll;
import static io.jrnn.properties.RecurrentArbitraries.describe;
import static io.jrnn.properties.RecurrentArbitraries.random;
import static io.jrnn.properties.RecurrentArbitraries.randomStates;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.properties.RecurrentArbitraries.CellSpec;
import io.jrnn.properties.RecurrentArbitraries.Flags;
import io.jrnn.properties.RecurrentArbitraries.Sizes;
import io.jrnn.weights.KerasRnnWeights;
import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * LSTM, GRU (both variants) and SimpleRNN with random activations, options, sizes, masks and
 * initial states: oneDNN gives the reference backend's numbers (spec §2–§3.3).
 */
class RecurrentLayerPropertyTest {

    /** One random layer configuration and its data. */
    record LayerCase(CellSpec cell, Flags flags, Sizes sizes, Mask mask, long dataSeed) {
        @Override
        public String toString() {
            return cell + " " + flags + " " + sizes + " " + describe(mask) + " data seed " + dataSeed;
        }

        RecurrentLayer build() {
            return flags.apply(cell.layerBuilder(sizes.units())).build();
        }
    }

    @Provide
    Arbitrary<LayerCase> layerCases() {
        return Combinators.combine(RecurrentArbitraries.cellSpecs(), RecurrentArbitraries.flags(), RecurrentArbitraries.sizes(),
                RecurrentArbitraries.maskPatterns(), RecurrentArbitraries.dataSeeds())
                .as((cell, flags, sizes, pattern, seed) ->
                        new LayerCase(cell, flags, sizes, pattern.toMask(sizes.batch(), sizes.steps()), seed));
    }

    @Property(tries = 300, seed = "3141592653")
    void dnnlMatchesReference(@ForAll("layerCases") LayerCase c) {
        SplittableRandom rng = new SplittableRandom(c.dataSeed());
        Sizes s = c.sizes();
        KerasRnnWeights weights = c.cell().weights(s.features(), s.units(), rng);
        int[] stateWidths = new int[c.cell().kind().stateCount()];
        Arrays.fill(stateWidths, s.units());
        try (RecurrentLayer expectedLayer = c.build(); RecurrentLayer actualLayer = c.build()) {
            expectedLayer.useBackend(ReferenceBackend.instance());
            actualLayer.useBackend(DnnlBackend.instance());
            expectedLayer.setWeights(weights);
            actualLayer.setWeights(weights);
            // A stateful layer runs twice: the second call starts from the states the first stored.
            int calls = c.flags().stateful() ? 2 : 1;
            for (int call = 0; call < calls; call++) {
                Tensor[] initial = c.flags().initialStates() && call == 0
                        ? randomStates(rng, s.batch(), stateWidths) : new Tensor[0];
                try (Tensor x = random(rng, s.batch(), s.steps(), s.features());
                        Outputs expected = expectedLayer.forward(x, c.mask(), initial);
                        Outputs actual = actualLayer.forward(x, c.mask(), initial)) {
                    Assume.that(!c.cell().exponential() || allFinite(expected));
                    assertOutputsClose(expected, actual, c.cell().exponential(), "call " + call + " (" + actualLayer.executionPath() + ")");
                } finally {
                    closeAll(initial);
                }
            }
        }
    }
}
