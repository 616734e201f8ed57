package io.jrnn.properties;

import static io.jrnn.properties.RecurrentArbitraries.allFinite;
import static io.jrnn.properties.RecurrentArbitraries.assertClose;
import static io.jrnn.properties.RecurrentArbitraries.closeAll;
import static io.jrnn.properties.RecurrentArbitraries.describe;
import static io.jrnn.properties.RecurrentArbitraries.random;
import static io.jrnn.properties.RecurrentArbitraries.randomStates;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.RNN;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.StandardCell;
import io.jrnn.properties.RecurrentArbitraries.CellSpec;
import io.jrnn.weights.KerasRnnWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@code RNN(StackedRNNCells([c1, …]))} equals the same cells as successive layers, each but the
 * last returning sequences (spec §2.8), under masks, initial states and stateful calls; each side
 * runs on a random backend.
 */
class StackedCellsPropertyTest {

    /** One cell of the stack. */
    record StackedCell(CellSpec cell, int units) {
        @Override
        public String toString() {
            return cell + " H" + units;
        }
    }

    /** The RNN options the property varies (no go_backwards: a stack reverses only its input, not each layer's). */
    record StackFlags(boolean returnSequences, boolean returnState, boolean stateful, boolean initialStates,
            boolean zeroOutputForMask) {
        @Override
        public String toString() {
            return (returnSequences ? "seq" : "last") + (returnState ? " +state" : "") + (stateful ? " stateful" : "")
                    + (initialStates ? " init" : "") + (zeroOutputForMask ? " zero_output" : "");
        }
    }

    record StackCase(List<StackedCell> cells, StackFlags flags, int batch, int steps, int features, Mask mask,
            boolean rnnOnDnnl, boolean layersOnDnnl, long dataSeed) {
        @Override
        public String toString() {
            return "RNN[" + cells.stream().map(StackedCell::toString).collect(Collectors.joining(", ")) + "] " + flags
                    + " N" + batch + " T" + steps + " C" + features + " " + describe(mask) + " RNN on "
                    + backend(rnnOnDnnl).name() + ", layers on " + backend(layersOnDnnl).name() + ", data seed " + dataSeed;
        }
    }

    static Backend backend(boolean dnnl) {
        return dnnl ? DnnlBackend.instance() : ReferenceBackend.instance();
    }

    @Provide
    Arbitrary<StackCase> stackCases() {
        Arbitrary<List<StackedCell>> cells = Combinators.combine(RecurrentArbitraries.cellSpecs(), RecurrentArbitraries.units())
                .as(StackedCell::new).list().ofMinSize(1).ofMaxSize(3);
        Arbitrary<Boolean> bool = Arbitraries.of(false, true);
        Arbitrary<StackFlags> flags = Combinators.combine(bool, bool, bool, bool, bool).as(StackFlags::new);
        Arbitrary<Integer> batch = Arbitraries.integers().between(1, RecurrentArbitraries.MAX_BATCH);
        Arbitrary<Integer> steps = Arbitraries.integers().between(1, RecurrentArbitraries.MAX_STEPS);
        Arbitrary<Integer> features = Arbitraries.integers().between(1, RecurrentArbitraries.MAX_FEATURES);
        return Combinators.combine(cells, flags, batch, steps, features, RecurrentArbitraries.maskPatterns(),
                Combinators.combine(bool, bool).as((a, b) -> new boolean[] {a, b}), RecurrentArbitraries.dataSeeds())
                .as((c, f, n, t, x, pattern, onDnnl, seed) ->
                        new StackCase(c, f, n, t, x, pattern.toMask(n, t), onDnnl[0], onDnnl[1], seed));
    }

    @Property(tries = 150, seed = "1618033988")
    void stackEqualsSuccessiveLayers(@ForAll("stackCases") StackCase c) {
        SplittableRandom rng = new SplittableRandom(c.dataSeed());
        StackFlags f = c.flags();
        int depth = c.cells().size();
        boolean exponential = c.cells().stream().anyMatch(sc -> sc.cell().exponential());
        List<StandardCell> cells = new ArrayList<>();
        List<RecurrentLayer> layers = new ArrayList<>();
        List<Integer> stateWidths = new ArrayList<>();
        int width = c.features();
        for (int k = 0; k < depth; k++) {
            StackedCell sc = c.cells().get(k);
            KerasRnnWeights weights = sc.cell().weights(width, sc.units(), rng);
            StandardCell cell = sc.cell().cell(sc.units());
            cell.setWeights(weights);
            cells.add(cell);
            RecurrentLayer layer = sc.cell().layerBuilder(sc.units()).returnSequences(k < depth - 1 || f.returnSequences())
                    .returnState(true).stateful(f.stateful()).zeroOutputForMask(f.zeroOutputForMask()).build();
            layer.useBackend(backend(c.layersOnDnnl()));
            layer.setWeights(weights);
            layers.add(layer);
            for (int s = 0; s < sc.cell().kind().stateCount(); s++) {
                stateWidths.add(sc.units());
            }
            width = sc.units();
        }
        try (RNN rnn = RNN.builder(cells).returnSequences(f.returnSequences()).returnState(f.returnState())
                .stateful(f.stateful()).zeroOutputForMask(f.zeroOutputForMask()).build()) {
            rnn.useBackend(backend(c.rnnOnDnnl()));
            int calls = f.stateful() ? 2 : 1;
            for (int call = 0; call < calls; call++) {
                Tensor[] initial = f.initialStates() && call == 0
                        ? randomStates(rng, c.batch(), stateWidths.stream().mapToInt(Integer::intValue).toArray())
                        : new Tensor[0];
                List<Tensor> expected = new ArrayList<>();
                try (Tensor x = random(rng, c.batch(), c.steps(), c.features());
                        Outputs actual = rnn.forward(x, c.mask(), initial)) {
                    expected = runLayers(layers, x, c.mask(), initial, f.returnState());
                    Assume.that(!exponential || allFinite(actual));
                    String where = "call " + call + " (" + rnn.executionPath() + ")";
                    assertEquals(expected.size(), actual.size(), where + ": number of outputs");
                    for (int i = 0; i < expected.size(); i++) {
                        assertClose(expected.get(i), actual.get(i), exponential, where + ", output " + i);
                    }
                } finally {
                    closeAll(initial);
                    closeAll(expected);
                }
            }
        } finally {
            layers.forEach(RecurrentLayer::close);
        }
    }

    /** The layers one after the other (each gets the mask); the last output, then every layer's states when asked. */
    private static List<Tensor> runLayers(List<RecurrentLayer> layers, Tensor x, Mask mask, Tensor[] initial,
            boolean returnState) {
        List<Tensor> states = new ArrayList<>();
        Tensor current = x;
        int position = 0;
        for (RecurrentLayer layer : layers) {
            int count = layer.stateCount();
            Tensor[] init = initial.length == 0 ? new Tensor[0] : Arrays.copyOfRange(initial, position, position + count);
            position += count;
            Outputs out = layer.forward(current, mask, init);
            if (current != x) {
                current.close();
            }
            current = out.output();
            states.addAll(out.states());
        }
        List<Tensor> result = new ArrayList<>();
        result.add(current);
        if (returnState) {
            result.addAll(states);
        } else {
            closeAll(states);
        }
        return result;
    }
}
