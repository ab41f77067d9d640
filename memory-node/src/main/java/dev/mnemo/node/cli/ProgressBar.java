package dev.mnemo.node.cli;

/** A one-line progress bar on stderr with rate and ETA, redrawn at most ten times a second. */
final class ProgressBar {
  private static final int WIDTH = 30;
  private final String label;
  private final String unit;
  private final long start = System.nanoTime();
  private long lastDraw;
  private long done;
  private long total;

  ProgressBar(String label, String unit) {
    this.label = label;
    this.unit = unit;
  }

  void update(long done, long total) {
    this.done = done;
    this.total = total;
    long now = System.nanoTime();
    if (now - lastDraw > 100_000_000L || done >= total) {
      lastDraw = now;
      draw();
    }
  }

  void finish() {
    if (total == 0) {
      return;
    }
    draw();
    System.err.println();
  }

  private void draw() {
    double seconds = Math.max((System.nanoTime() - start) / 1e9, 1e-3);
    double rate = done / seconds;
    double fraction = total == 0 ? 1 : Math.min(1, (double) done / total);
    int filled = (int) (fraction * WIDTH);
    String eta = rate > 0 && total > done ? String.format("%ds", (long) ((total - done) / rate)) : "0s";
    System.err.printf("\r%s [%s%s] %d/%d %s  %.0f/s  ETA %s ", label, "#".repeat(filled), " ".repeat(WIDTH - filled),
        done, total, unit, rate, eta);
    System.err.flush();
  }
}
