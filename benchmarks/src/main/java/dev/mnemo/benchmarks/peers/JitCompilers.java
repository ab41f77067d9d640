package dev.mnemo.benchmarks.peers;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time spent so far by a JVM's JIT compiler threads ("C1 CompilerThre…", "C2 CompilerThre…"),
 * read from Linux's {@code /proc/<pid>/task}. A warm-up is long enough when the compilers have
 * gone quiet: on two cores, a C2 thread still compiling takes most of one core from what is
 * being measured.
 */
final class JitCompilers {
  private static final double TICKS_PER_SECOND = 100; // USER_HZ on Linux

  private JitCompilers() {}

  /** The compiler threads' user + system CPU seconds, or -1 where /proc cannot tell. */
  static double cpuSeconds(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    if (!Files.isDirectory(tasks)) {
      return -1;
    }
    long ticks = 0;
    try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
      for (Path thread : threads) {
        try {
          String comm = Files.readString(thread.resolve("comm")).trim();
          if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
            ticks += cpuTicks(Files.readString(thread.resolve("stat")));
          }
        } catch (IOException e) {
          // the thread ended between the listing and the read
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return ticks / TICKS_PER_SECOND;
  }

  /** utime + stime: fields 14 and 15 of /proc/[pid]/task/[tid]/stat, counted after the ")" of comm. */
  private static long cpuTicks(String stat) {
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }
}
