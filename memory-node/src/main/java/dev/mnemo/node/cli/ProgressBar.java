package dev.mnemo.node.cli;

/**
 * A one-line progress bar on stderr with rate and ETA, drawn at {@link #start} and redrawn at
 * most ten times a second.
 */
final class ProgressBar {
  private static final int WIDTH = 30;
  private static final long REDRAW_NANOS = 100_000_000L;
  private final String label;
  private final String unit;
  private long start;
  private long lastDraw;
  private long done;
  private long total;

  ProgressBar(String label, String unit) {
    this.label = label;
    this.unit = unit;
  }

  /** Draws the empty bar now: the first batch may take seconds, and a blank line looks hung. */
  void start(long total) {
    this.total = total;
    this.start = System.nanoTime();
    this.lastDraw = start;
    draw();
  }

  void update(long done, long total) {
    this.done = done;
    this.total = total;
    long now = System.nanoTime();
    if (now - lastDraw > REDRAW_NANOS || done >= total) {
      lastDraw = now;
      draw();
    }
  }

  void finish() {
    draw();
    System.err.println();
  }

  private void draw() {
    double seconds = Math.max((System.nanoTime() - start) / 1e9, 1e-3);
    double rate = done / seconds;
    double fraction = total == 0 ? 1 : Math.min(1, (double) done / total);
    int filled = (int) (fraction * WIDTH);
    String eta = done >= total ? "0s" : rate > 0 ? String.format("%ds", (long) ((total - done) / rate)) : "?";
    System.err.printf("\r%s [%s%s] %d/%d %s  %.0f/s  ETA %s ", label, "#".repeat(filled), " ".repeat(WIDTH - filled),
        done, total, unit, rate, eta);
    System.err.flush();
  }
}
