package dev.mnemo.node.ipfs;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Multibase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real IPFS node for tests: {@code tools/ipfs-node/start.sh} (js-ipfs, offline, Kubo RPC API on
 * 127.0.0.1) run as a child process on a repo in a temp dir. {@link #start} returns once the node
 * printed its API URL. It can be stopped (SIGTERM) and started again on the same repo and port,
 * and paused (SIGSTOP: a node that accepts connections but never answers) and resumed.
 * {@link #close} stops it and deletes the repo, and a shutdown hook does the same if the JVM exits
 * first.
 *
 * <p>Needs {@code node} (≥ 18) and {@code npm} on the PATH: without them {@link #start} throws an
 * {@link AssertionError} that says so, and the test fails (it is not skipped; CI installs them).
 * The first start runs {@code npm ci}, hence the generous start timeout.
 */
public final class IpfsNode implements AutoCloseable {
  /** The first start installs node_modules (npm ci, 40-60 s). */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

  private final Path startScript;
  private final Path workDir;
  private final Path repo;
  private final Path stdout;
  private final Path stderr;
  private final Path pidFile;
  private final Thread shutdownHook;
  private ProcessHandle process;
  private URI api;
  private int port;
  private boolean paused;
  private int starts;

  private IpfsNode(Path startScript, Path workDir) {
    this.startScript = startScript;
    this.workDir = workDir;
    this.repo = workDir.resolve("repo");
    this.stdout = workDir.resolve("stdout.log");
    this.stderr = workDir.resolve("stderr.log");
    this.pidFile = workDir.resolve("ipfs.pid");
    this.shutdownHook = new Thread(this::closeQuietly, "ipfs-node-cleanup");
  }

  /** Starts a node on a fresh repo and a free port. */
  public static IpfsNode start() {
    requireTool("node", "--version");
    requireTool("npm", "--version");
    Path script = repositoryRoot().resolve("tools/ipfs-node/start.sh");
    Path dir;
    try {
      dir = Files.createTempDirectory("mnemo-ipfs-test-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    IpfsNode node = new IpfsNode(script, dir);
    Runtime.getRuntime().addShutdownHook(node.shutdownHook);
    try {
      node.launch(0);
    } catch (RuntimeException | Error e) {
      node.close();
      throw e;
    }
    return node;
  }

  /** The directory holding {@code tools/ipfs-node}, found by walking up from the working directory. */
  public static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("tools/ipfs-node/start.sh"))) {
        return d;
      }
    }
    throw new AssertionError("tools/ipfs-node/start.sh not found in " + dir + " or any parent directory");
  }

  private static void requireTool(String tool, String arg) {
    String problem;
    try {
      Process p = new ProcessBuilder(tool, arg).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return;
      }
      problem = "'" + tool + " " + arg + "' failed";
    } catch (IOException e) {
      problem = "'" + tool + "' is not on the PATH (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    throw new AssertionError("The IPFS interop tests need Node.js >= 18 and npm to run the real IPFS node in "
        + "tools/ipfs-node, but " + problem + ". Install them (e.g. apt-get install nodejs npm); these tests are "
        + "not skipped without them.");
  }

  private void launch(int wantedPort) {
    try {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(pidFile);
      ProcessBuilder pb = new ProcessBuilder("bash", startScript.toString(), Integer.toString(wantedPort), repo.toString())
          .redirectOutput(stdout.toFile())
          .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.environment().put("IPFS_NODE_PIDFILE", pidFile.toString());
      Process started = pb.start();
      starts++;
      process = started.toHandle();
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      String line = null;
      while (line == null) {
        String out = Files.readString(stdout, StandardCharsets.UTF_8);
        int newline = out.indexOf('\n');
        if (newline >= 0) {
          line = out.substring(0, newline).trim();
          break;
        }
        if (!started.isAlive()) {
          throw new AssertionError("the IPFS node exited with " + started.exitValue() + " before printing its API URL; stderr:\n"
              + stderrTail());
        }
        if (System.nanoTime() > deadline) {
          kill();
          throw new AssertionError("the IPFS node did not print its API URL within " + START_TIMEOUT.toSeconds()
              + " s; stderr:\n" + stderrTail());
        }
        Thread.sleep(50);
      }
      long pid = Long.parseLong(Files.readString(pidFile).trim());
      if (pid != started.pid()) {
        // start.sh execs node, so they must be the same process; if not, follow the PID file.
        process = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("IPFS node pid " + pid + " is not running"));
      }
      api = URI.create(line);
      port = api.getPort();
      paused = false;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the IPFS node with " + startScript, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The RPC API base URL, e.g. {@code http://127.0.0.1:41234}. */
  public URI api() {
    return api;
  }

  public String url() {
    return api.toString();
  }

  public Path repo() {
    return repo;
  }

  /**
   * The file in which js-ipfs' flatfs blockstore keeps a block: {@code <repo>/blocks/<shard>/<key>.data},
   * where the key is the block's multihash in unpadded upper-case base32 and the shard its two
   * characters before the last (the repo's {@code blocks/SHARDING} says
   * {@code /repo/flatfs/shard/v1/next-to-last/2}). js-ipfs does not check a block's bytes when it
   * reads them, so a test that rewrites this file makes the node serve bytes that do not match the CID.
   */
  public Path blockFile(Cid cid) {
    byte[] digest = cid.multihash().digest();
    byte[] multihash = new byte[digest.length + 2];
    multihash[0] = (byte) cid.multihash().code(); // sha2-256 (0x12) and its length fit one varint byte each
    multihash[1] = (byte) digest.length;
    System.arraycopy(digest, 0, multihash, 2, digest.length);
    String key = Multibase.encodeBase32(multihash).substring(1).toUpperCase(Locale.ROOT);
    return repo.resolve("blocks").resolve(key.substring(key.length() - 3, key.length() - 1)).resolve(key + ".data");
  }

  public long pid() {
    return process.pid();
  }

  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Stops the node with SIGTERM and waits until it has exited (its repo lock is released). */
  public void stop() {
    if (process == null) {
      return;
    }
    resume();
    process.destroy();
    try {
      process.onExit().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      // It did not stop on SIGTERM: kill it. Its repo.lock then delays the next start by up to 21 s.
      kill();
    }
    process = null;
  }

  /** Starts the node again on the same repo and the same port (clients keep their URL). */
  public void restart() {
    stop();
    launch(port);
  }

  /** SIGSTOP: the node keeps its port (the kernel accepts connections) but answers nothing: a hung node. */
  public void pause() {
    signal("STOP");
    paused = true;
  }

  /** SIGCONT after {@link #pause}. */
  public void resume() {
    if (paused && isRunning()) {
      signal("CONT");
    }
    paused = false;
  }

  private void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void kill() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.onExit().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // nothing more to do
      }
    }
  }

  /** The end of the node's stderr, for failure messages. */
  public String stderrTail() {
    try {
      List<String> lines = Files.readAllLines(stderr, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no stderr: " + e.getMessage() + ")";
    }
  }

  /** How many times the node process was started. */
  public int starts() {
    return starts;
  }

  @Override
  public void close() {
    closeQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or has run
    }
  }

  private synchronized void closeQuietly() {
    try {
      stop();
    } catch (RuntimeException e) {
      kill();
    }
    try (Stream<Path> files = Files.walk(workDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // already gone
    }
  }

  @Override
  public String toString() {
    return "IpfsNode[" + api + ", pid " + (process == null ? "-" : process.pid()) + ", repo " + repo + "]";
  }
}
