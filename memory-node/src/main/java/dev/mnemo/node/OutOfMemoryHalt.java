package dev.mnemo.node;

import io.vertx.core.Vertx;

/**
 * Stops the process on an {@link OutOfMemoryError}. A JVM out of heap rarely recovers: threads
 * die half-way, Netty's event loop stops answering, and a node that three concurrent 200 MiB
 * imports had filled answered nothing, not even {@code /health}, for minutes while staying alive,
 * so no supervisor restarted it. The launcher passes {@code -XX:+ExitOnOutOfMemoryError}; this is
 * the second line, for a JVM started without it: an OutOfMemoryError that reaches Vert.x's
 * exception handler, a thread's uncaught handler, or the API's failure handler halts the process
 * with status 3 (as the JVM flag does). Halt, not exit: shutdown hooks need memory and may hang;
 * every acknowledged write is in RocksDB's synced log already.
 */
public final class OutOfMemoryHalt {
  /** The exit status, as {@code -XX:+ExitOnOutOfMemoryError} gives. */
  public static final int STATUS = 3;

  private OutOfMemoryHalt() {}

  public static void install(Vertx vertx) {
    vertx.exceptionHandler(OutOfMemoryHalt::haltIfOutOfMemory);
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, failure) -> {
      haltIfOutOfMemory(failure);
      if (previous != null) {
        previous.uncaughtException(thread, failure);
      } else {
        System.err.print("Exception in thread \"" + thread.getName() + "\" ");
        failure.printStackTrace();
      }
    });
  }

  /** Halts if {@code failure} is, or was caused by, an OutOfMemoryError; else returns. */
  public static void haltIfOutOfMemory(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        // No logger, no string building beyond this: there may be no heap left for either.
        System.err.println("mnemo: out of memory; stopping the node (exit status " + STATUS + ")");
        Runtime.getRuntime().halt(STATUS);
      }
    }
  }
}
