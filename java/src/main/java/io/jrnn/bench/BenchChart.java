package io.jrnn.bench;

import io.jrnn.bench.BenchResults.CellResult;
import io.jrnn.bench.BenchResults.Report;
import io.jrnn.bench.BenchResults.RunResult;
import io.jrnn.bench.BenchResults.SystemResult;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The PNG chart (XChart): per thread count, sequences per second (log scale) for each cell and
 * shape, one bar series per system; the panels stacked vertically in one image.
 */
final class BenchChart {
    private BenchChart() {
    }

    static byte[] png(Report report) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<BufferedImage> panels = new ArrayList<>();
        for (RunResult run : report.runs()) {
            panels.add(BitmapEncoder.getBufferedImage(chart(run)));
        }
        int width = panels.stream().mapToInt(BufferedImage::getWidth).max().orElse(400);
        int height = Math.max(1, panels.stream().mapToInt(BufferedImage::getHeight).sum());
        BufferedImage all = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        int y = 0;
        for (BufferedImage p : panels) {
            g.drawImage(p, 0, y, null);
            y += p.getHeight();
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(all, "png", out);
        return out.toByteArray();
    }

    static CategoryChart chart(RunResult run) {
        List<String> categories = new ArrayList<>();
        Set<String> systems = new LinkedHashSet<>();
        for (CellResult cell : run.cells()) {
            categories.add(cell.cell().name().replace(" hard_sigmoid", " hs") + " " + cell.cell().shapeLabel()
                    .replace(" ", ""));
            for (SystemResult s : cell.systems()) {
                if (s.ran()) {
                    systems.add(s.system());
                }
            }
        }
        Map<String, List<Double>> series = new LinkedHashMap<>();
        for (String system : systems) {
            List<Double> values = new ArrayList<>();
            for (CellResult cell : run.cells()) {
                SystemResult s = cell.system(system);
                values.add(s != null && s.ran() ? BenchReport.sequencesPerSecond(cell.cell(), s.ms().median()) : null);
            }
            series.put(system, values);
        }
        CategoryChart chart = new CategoryChartBuilder().width(Math.max(900, 130 * categories.size())).height(520)
                .title("jrnn bench: sequences/s, " + run.threads() + (run.threads() == 1 ? " thread" : " threads"))
                .xAxisTitle("cell (H,N,T,C)").yAxisTitle("sequences / s (log)").build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        double min = series.values().stream().flatMap(List::stream).filter(v -> v != null && v > 0)
                .mapToDouble(Double::doubleValue).min().orElse(1);
        double max = series.values().stream().flatMap(List::stream).filter(v -> v != null && v > 0)
                .mapToDouble(Double::doubleValue).max().orElse(10);
        // Bars start at the axis minimum: a power of ten below the smallest value (a log axis has no 0).
        chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min))));
        chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(max * 1.0001))));
        if (series.isEmpty()) {
            if (categories.isEmpty()) {
                categories.add("none");
            }
            series.put("no results", new ArrayList<>(java.util.Collections.nCopies(categories.size(), (Double) null)));
        }
        series.forEach((name, values) -> chart.addSeries(name, categories, values));
        return chart;
    }
}
