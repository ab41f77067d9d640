package dev.mnemo.benchmarks.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A line chart written as PNG with the JDK's own 2D graphics, so the benchmark suite draws its
 * plots without a plotting library or Python. Each series is a list of points joined in order and
 * marked; either axis may be logarithmic.
 */
final class LinePlot {
  record Point(double x, double y) {}

  record Series(String name, List<Point> points) {}

  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
    new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
  };
  private static final int WIDTH = 900;
  private static final int HEIGHT = 600;
  private static final int LEFT = 90;
  private static final int RIGHT = 240;
  private static final int TOP = 60;
  private static final int BOTTOM = 70;

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final boolean logX;
  private final boolean logY;
  private final List<Series> series = new ArrayList<>();

  LinePlot(String title, String xLabel, boolean logX, String yLabel, boolean logY) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.logX = logX;
    this.logY = logY;
  }

  LinePlot add(Series s) {
    if (!s.points().isEmpty()) {
      series.add(s);
    }
    return this;
  }

  boolean isEmpty() {
    return series.isEmpty();
  }

  void write(Path png) throws IOException {
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      draw(g);
    } finally {
      g.dispose();
    }
    Files.createDirectories(png.toAbsolutePath().getParent());
    ImageIO.write(image, "png", png.toFile());
  }

  private void draw(Graphics2D g) {
    Axis x = axis(true);
    Axis y = axis(false);
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;

    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.setColor(Color.BLACK);
    g.drawString(title, LEFT, 30);

    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    FontMetrics fm = g.getFontMetrics();
    for (double tick : x.ticks()) {
      int px = LEFT + (int) Math.round(x.fraction(tick) * plotW);
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(px, TOP, px, TOP + plotH);
      g.setColor(Color.DARK_GRAY);
      String label = format(tick);
      g.drawString(label, px - fm.stringWidth(label) / 2, TOP + plotH + 18);
    }
    for (double tick : y.ticks()) {
      int py = TOP + plotH - (int) Math.round(y.fraction(tick) * plotH);
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(LEFT, py, LEFT + plotW, py);
      g.setColor(Color.DARK_GRAY);
      String label = format(tick);
      g.drawString(label, LEFT - 8 - fm.stringWidth(label), py + 4);
    }
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, TOP, plotW, plotH);
    g.drawString(xLabel + (logX ? " (log)" : ""), LEFT + plotW / 2 - fm.stringWidth(xLabel) / 2, HEIGHT - 25);
    Graphics2D rotated = (Graphics2D) g.create();
    rotated.rotate(-Math.PI / 2);
    String yText = yLabel + (logY ? " (log)" : "");
    rotated.drawString(yText, -(TOP + plotH / 2 + fm.stringWidth(yText) / 2), 22);
    rotated.dispose();

    int legendY = TOP + 10;
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      Color color = PALETTE[i % PALETTE.length];
      g.setColor(color);
      g.setStroke(new BasicStroke(2f));
      double lastX = Double.NaN;
      double lastY = Double.NaN;
      for (Point p : s.points()) {
        double px = LEFT + x.fraction(p.x()) * plotW;
        double py = TOP + plotH - y.fraction(p.y()) * plotH;
        if (!Double.isNaN(lastX)) {
          g.draw(new Line2D.Double(lastX, lastY, px, py));
        }
        g.fill(new Rectangle2D.Double(px - 3, py - 3, 6, 6));
        lastX = px;
        lastY = py;
      }
      g.fillRect(LEFT + plotW + 15, legendY - 8, 14, 8);
      g.setColor(Color.BLACK);
      g.drawString(s.name(), LEFT + plotW + 35, legendY);
      legendY += 20;
    }
  }

  private Axis axis(boolean isX) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (Point p : s.points()) {
        double v = isX ? p.x() : p.y();
        if ((isX ? logX : logY) && v <= 0) {
          continue;
        }
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    if (min > max) {
      min = 0;
      max = 1;
    }
    return Axis.over(min, max, isX ? logX : logY);
  }

  /** An axis over [min, max] padded a little, linear or log10. */
  private record Axis(double lo, double hi, boolean log) {
    static Axis over(double min, double max, boolean log) {
      if (log) {
        double hi = max == min ? max * 10 : max;
        return new Axis(Math.pow(10, Math.floor(Math.log10(min))), Math.pow(10, Math.ceil(Math.log10(hi))), true);
      }
      return new Axis(pad(min, max, true), pad(min, max, false), false);
    }

    private static double pad(double min, double max, boolean low) {
      double span = max == min ? Math.max(Math.abs(max), 1) : max - min;
      return low ? min - span * 0.05 : max + span * 0.05;
    }

    double fraction(double v) {
      if (log) {
        return (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
      }
      return (v - lo) / (hi - lo);
    }

    List<Double> ticks() {
      List<Double> ticks = new ArrayList<>();
      if (log) {
        for (double t = lo; t <= hi * 1.0001; t *= 10) {
          ticks.add(t);
          if (t * 3 <= hi) {
            ticks.add(t * 3);
          }
        }
        return ticks;
      }
      double step = niceStep((hi - lo) / 6);
      for (double t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
        ticks.add(Math.abs(t) < step * 1e-6 ? 0 : t);
      }
      return ticks;
    }

    private static double niceStep(double raw) {
      double exp = Math.pow(10, Math.floor(Math.log10(raw)));
      double f = raw / exp;
      return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * exp;
    }
  }

  private static String format(double v) {
    if (v == 0) {
      return "0";
    }
    double a = Math.abs(v);
    if (a >= 1_000_000) {
      return String.format(Locale.ROOT, "%.0fM", v / 1e6);
    }
    if (a >= 10_000) {
      return String.format(Locale.ROOT, "%.0fk", v / 1e3);
    }
    if (a >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (a >= 1) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
