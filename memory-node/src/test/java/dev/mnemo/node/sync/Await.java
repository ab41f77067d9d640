package dev.mnemo.node.sync;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Polls a condition until it holds or a deadline passes. A condition that throws (a node that is
 * restarting refuses connections) counts as not yet true; the last failure is in the message.
 */
final class Await {
  private Await() {}

  /** Returns the milliseconds it took; fails with {@code state} (evaluated at the deadline) otherwise. */
  static long until(Duration timeout, String what, BooleanSupplier condition, Supplier<String> state) {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    Throwable last = null;
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return (System.nanoTime() - start) / 1_000_000;
        }
        last = null;
      } catch (RuntimeException | AssertionError e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        String described;
        try {
          described = state.get();
        } catch (RuntimeException | AssertionError e) {
          described = "(state unavailable: " + e + ")";
        }
        AssertionError error = new AssertionError("not within " + timeout.toMillis() + " ms: " + what + "\n" + described
            + (last == null ? "" : "\nlast failure: " + last));
        if (last != null) {
          error.initCause(last);
        }
        throw error;
      }
      NodeProcess.sleep(100);
    }
  }

  static long until(Duration timeout, String what, BooleanSupplier condition) {
    return until(timeout, what, condition, () -> "");
  }
}
