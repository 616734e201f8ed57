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
import io.jrnn.backend.Backend;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.Bidirectional.MergeMode;
import io.jrnn.layers.MaskedOutput;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.properties.RecurrentArbitraries.CellSpec;
import io.jrnn.properties.RecurrentArbitraries.Flags;
import io.jrnn.properties.RecurrentArbitraries.Sizes;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Bidirectional with a random inner layer, merge mode, optional explicit backward layer (its own
 * cell, width and masked-output rule), masks and initial states: oneDNN gives the reference
 * backend's numbers (spec §3.7).
 */
class BidirectionalPropertyTest {

    /**
     * An explicit backward layer: its cell, width and masked-output options; the shared options
     * (return_sequences, return_state, stateful) are the forward layer's, go_backwards its negation.
     */
    record Backward(CellSpec cell, int units, boolean zeroOutputForMask, MaskedOutput maskedOutput) {
        @Override
        public String toString() {
            return "backward " + cell + " H" + units + (zeroOutputForMask ? " zero_output" : "")
                    + (maskedOutput == MaskedOutput.CANONICAL ? "" : " " + maskedOutput);
        }
    }

    /** One random wrapper configuration and its data; {@code backward} is {@code null} for the Keras backward copy. */
    record BidiCase(CellSpec cell, Flags flags, Backward backward, MergeMode mergeMode, boolean zeroOutputForMask,
            Sizes sizes, Mask mask, long dataSeed) {
        @Override
        public String toString() {
            return "Bidirectional(" + mergeMode + (zeroOutputForMask ? "" : ", keep masked outputs") + ") forward " + cell
                    + " " + flags + " " + (backward == null ? "backward copy" : backward) + " " + sizes + " "
                    + describe(mask) + " data seed " + dataSeed;
        }

        /** Whether either direction has an exponential activation. */
        boolean exponential() {
            return cell.exponential() || (backward != null && backward.cell().exponential());
        }

        Bidirectional build(Backend backend) {
            RecurrentLayer forward = flags.apply(cell.layerBuilder(sizes.units())).build();
            Bidirectional.Builder b = Bidirectional.builder().layer(forward).mergeMode(mergeMode)
                    .zeroOutputForMask(zeroOutputForMask);
            if (backward != null) {
                b.backwardLayer(backward.cell().layerBuilder(backward.units()).returnSequences(flags.returnSequences())
                        .returnState(flags.returnState()).stateful(flags.stateful()).goBackwards(!flags.goBackwards())
                        .zeroOutputForMask(backward.zeroOutputForMask()).maskedOutput(backward.maskedOutput()).build());
            }
            Bidirectional layer = b.build();
            layer.useBackend(backend);
            return layer;
        }
    }

    @Provide
    Arbitrary<BidiCase> bidiCases() {
        Arbitrary<Backward> explicit = Combinators.combine(RecurrentArbitraries.cellSpecs(), RecurrentArbitraries.units(),
                Arbitraries.of(false, true), Arbitraries.of(MaskedOutput.class)).as(Backward::new);
        // null first: shrinking prefers the Keras backward copy.
        Arbitrary<Backward> backward = Arbitraries.oneOf(Arbitraries.just(null), explicit);
        return Combinators.combine(RecurrentArbitraries.cellSpecs(), RecurrentArbitraries.flags(), backward,
                Arbitraries.of(MergeMode.class), Arbitraries.of(true, false), RecurrentArbitraries.sizes(),
                RecurrentArbitraries.maskPatterns(), RecurrentArbitraries.dataSeeds())
                .as((cell, flags, back, merge, zero, sizes, pattern, seed) -> {
                    // sum, mul and ave need equal widths.
                    Backward b = back == null || merge == MergeMode.CONCAT || merge == MergeMode.NONE ? back
                            : new Backward(back.cell(), sizes.units(), back.zeroOutputForMask(), back.maskedOutput());
                    return new BidiCase(cell, flags, b, merge, zero, sizes, pattern.toMask(sizes.batch(), sizes.steps()), seed);
                });
    }

    @Property(tries = 150, seed = "2718281828")
    void dnnlMatchesReference(@ForAll("bidiCases") BidiCase c) {
        SplittableRandom rng = new SplittableRandom(c.dataSeed());
        Sizes s = c.sizes();
        try (Bidirectional expectedLayer = c.build(ReferenceBackend.instance());
                Bidirectional actualLayer = c.build(DnnlBackend.instance())) {
            RecurrentLayer forward = expectedLayer.forwardLayer();
            RecurrentLayer backward = expectedLayer.backwardLayer();
            var forwardWeights = c.cell().weights(s.features(), forward.units(), rng);
            var backwardCell = c.backward() == null ? c.cell() : c.backward().cell();
            var backwardWeights = backwardCell.weights(s.features(), backward.units(), rng);
            for (Bidirectional layer : new Bidirectional[] {expectedLayer, actualLayer}) {
                layer.forwardLayer().setWeights(forwardWeights);
                layer.backwardLayer().setWeights(backwardWeights);
            }
            int[] stateWidths = IntStream.concat(IntStream.range(0, forward.stateCount()).map(i -> forward.units()),
                    IntStream.range(0, backward.stateCount()).map(i -> backward.units())).toArray();
            int calls = c.flags().stateful() ? 2 : 1;
            for (int call = 0; call < calls; call++) {
                Tensor[] initial = c.flags().initialStates() && call == 0
                        ? randomStates(rng, s.batch(), stateWidths) : new Tensor[0];
                try (Tensor x = random(rng, s.batch(), s.steps(), s.features());
                        Outputs expected = expectedLayer.forward(x, c.mask(), initial);
                        Outputs actual = actualLayer.forward(x, c.mask(), initial)) {
                    Assume.that(!c.exponential() || allFinite(expected));
                    assertOutputsClose(expected, actual, c.exponential(), "call " + call + " (" + actualLayer.executionPath() + ")");
                } finally {
                    closeAll(initial);
                }
            }
        }
    }
}
