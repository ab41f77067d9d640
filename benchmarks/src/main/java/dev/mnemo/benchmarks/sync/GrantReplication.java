package dev.mnemo.benchmarks.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mnemo.benchmarks.data.Corpus;
import dev.mnemo.node.auth.AgentRegistry;
import dev.mnemo.node.auth.HostedAgent;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.identity.DidKey;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * How fast a fresh node replicates a namespace whose log carries many grants, against the same
 * memories in a namespace without any. Two variants, each prepared once on a node of its own:
 *
 * <ul>
 *   <li>{@code grants}: the owner creates the namespace, the node gets {@code --agents} hosted
 *       agents ({@code POST /v1/agents}), the owner writes {@code --acl-entries} grant and revoke
 *       entries for them (rounds over every agent: grant read+remember, revoke remember, grant
 *       remember, ..., the last rounds grants, so every agent ends with remember), then
 *       {@code --writers} of the agents remember {@code --memories} corpus documents with their
 *       vectors, in batches of {@code --batch}, each with its own token, 4 at a time;
 *   <li>{@code plain}: the owner remembers the same memories in the same batches, nothing else.
 * </ul>
 *
 * Then, {@code --rounds} times, alternating the variants: the prepared node starts on its data,
 * and a fresh second node seeded with it starts (both {@code --replication-peer '*'}); timed from
 * the second node's process start until its {@code GET /v1/node} shows the namespace with the
 * same heads as the first (and, separately, until it has indexed every memory). Both stop, the
 * second node's data is deleted.
 *
 * <p>{@code --acl-via http} writes grants with {@code POST /v1/namespaces/{ns}/grants} and
 * {@code /revocations}; {@code --acl-via store} writes them straight into the stopped first
 * node's store as its owner agent ({@code NamespaceLog.grant}/{@code revoke}), for a build without
 * the grant API. Loopback only; every wait is bounded.
 *
 * <pre>
 * GrantReplication [--jar memory-node/target/mnemo.jar] [--work /tmp/mnemo-grant-replication]
 *   [--rounds 3] [--agents 100] [--acl-entries 1000] [--writers 20] [--memories 10000] [--batch 100]
 *   [--acl-via http|store] [--variants grants,plain]
 * </pre>
 */
public final class GrantReplication {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NS = "team";
  private static final Duration REPLICATION_LIMIT = Duration.ofMinutes(10);

  private final Path jar;
  private final Path work;
  private final int agents;
  private final int aclEntries;
  private final int writers;
  private final int memories;
  private final int batch;
  private final boolean aclViaHttp;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private GrantReplication(Map<String, String> opts) {
    this.jar = Path.of(opts.getOrDefault("jar", "memory-node/target/mnemo.jar")).toAbsolutePath();
    this.work = Path.of(opts.getOrDefault("work", "/tmp/mnemo-grant-replication"));
    this.agents = Integer.parseInt(opts.getOrDefault("agents", "100"));
    this.aclEntries = Integer.parseInt(opts.getOrDefault("acl-entries", "1000"));
    this.writers = Integer.parseInt(opts.getOrDefault("writers", "20"));
    this.memories = Integer.parseInt(opts.getOrDefault("memories", "10000"));
    this.batch = Integer.parseInt(opts.getOrDefault("batch", "100"));
    this.aclViaHttp = opts.getOrDefault("acl-via", "http").equals("http");
    if (writers > agents || memories % batch != 0) {
      throw new IllegalArgumentException("need writers <= agents and memories a multiple of batch");
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    GrantReplication bench = new GrantReplication(opts);
    List<String> variants = List.of(opts.getOrDefault("variants", "grants,plain").split(","));
    int rounds = Integer.parseInt(opts.getOrDefault("rounds", "3"));
    deleteTree(bench.work);
    Files.createDirectories(bench.work);
    try {
      Map<String, Prepared> prepared = new HashMap<>();
      for (String variant : variants) {
        prepared.put(variant, bench.prepare(variant));
      }
      System.out.printf(Locale.ROOT, "%n| variant | round | writes | entries | memories | load before | to same heads s | from healthy s"
          + " | entries/s | memories/s | to all indexed s | rejected | pulls | block requests served | s serving them"
          + " | CAR import s |%n");
      System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
      for (int round = 1; round <= rounds; round++) {
        for (String variant : variants) {
          bench.replicate(variant, round, prepared.get(variant));
        }
      }
    } finally {
      deleteTree(bench.work);
    }
  }

  /** What the first node of a variant holds once written: its data directory and its heads. */
  private record Prepared(Path data, Set<String> heads, int entries, int memories) {}

  private Prepared prepare(String variant) throws Exception {
    Path data = work.resolve(variant + "-node1");
    Corpus corpus = Corpus.read(Corpus.defaultPath(), memories);
    int entries = 0;
    long start = System.nanoTime();
    List<String> writerTokens = new ArrayList<>();
    try (Node node = Node.start(jar, data, List.of())) {
      if (variant.equals("plain")) {
        for (int w = 0; w < writers; w++) {
          writerTokens.add(node.token());
        }
      } else {
        if (aclViaHttp) {
          call(node, "PUT", "/v1/namespaces/" + NS, node.token(), null, 201);
        } // else the first grant written into the store creates the namespace, owned by its author
        entries++;
        List<ObjectNode> created = new ArrayList<>();
        for (int a = 0; a < agents; a++) {
          created.add((ObjectNode) call(node, "POST", "/v1/agents", node.token(),
              JSON.createObjectNode().put("name", "agent-" + a), 201));
        }
        for (int w = 0; w < writers; w++) {
          writerTokens.add(created.get(w).path("token").asText());
        }
        if (aclViaHttp) {
          for (int n = 0; n < aclEntries; n++) {
            AclEntry e = aclEntry(n);
            ObjectNode body = JSON.createObjectNode().put("to", created.get(e.agent()).path("did").asText());
            ArrayNode can = body.putArray("can");
            e.can().forEach(ability -> can.add(ability.wire()));
            call(node, "POST", "/v1/namespaces/" + NS + (e.grant() ? "/grants" : "/revocations"), node.token(), body,
                e.grant() ? 201 : 200);
          }
        }
      }
      if (!aclViaHttp && variant.equals("grants")) {
        node.close();
        writeAclInStore(data);
        try (Node again = Node.start(jar, data, List.of())) {
          entries += aclEntries;
          entries += writeMemories(again, writerTokens, corpus);
          return done(variant, again, data, entries, start);
        }
      }
      if (variant.equals("grants")) {
        entries += aclEntries;
      }
      entries += writeMemories(node, writerTokens, corpus);
      return done(variant, node, data, entries, start);
    }
  }

  private Prepared done(String variant, Node node, Path data, int entries, long start) throws Exception {
    Set<String> heads = heads(node);
    JsonNode acl = variant.equals("grants") && aclViaHttp ? call(node, "GET", "/v1/namespaces/" + NS + "/acl", node.token(), null, 200) : null;
    System.out.printf(Locale.ROOT, "prepared %s in %.1f s: %d writes (%s), %d memories, %d heads%s%n", variant,
        (System.nanoTime() - start) / 1e9, entries,
        variant.equals("grants") ? "1 create, " + aclEntries + " grants and revokes via " + (aclViaHttp ? "HTTP" : "the store")
            + " for " + agents + " agents, " + memories / batch + " adds by " + writers + " of them"
            : memories / batch + " adds by the owner",
        memories, heads.size(),
        acl == null ? "" : "; agents holding remember: " + countHolding(acl, "remember"));
    return new Prepared(data, heads, entries, memories);
  }

  private static long countHolding(JsonNode acl, String ability) {
    long n = 0;
    for (JsonNode abilities : acl.path("grants")) {
      for (JsonNode a : abilities) {
        if (a.asText().equals(ability)) {
          n++;
        }
      }
    }
    return n;
  }

  /** The n-th ACL entry: rounds over every agent; even rounds grant, odd rounds revoke, the last round grants. */
  private record AclEntry(int agent, boolean grant, Set<Ability> can) {}

  private AclEntry aclEntry(int n) {
    int round = n / agents;
    int lastRound = (aclEntries - 1) / agents;
    if (round == 0) {
      return new AclEntry(n % agents, true, Set.of(Ability.READ, Ability.REMEMBER));
    }
    boolean grant = round % 2 == 0 || round == lastRound;
    return new AclEntry(n % agents, grant, Set.of(Ability.REMEMBER));
  }

  /** The fallback for a build without the grant API: the same entries, written into the stopped node's store. */
  private void writeAclInStore(Path data) throws IOException {
    AgentRegistry registry = AgentRegistry.open(data);
    HostedAgent owner = registry.agent(AgentRegistry.OWNER).orElseThrow();
    List<DidKey> dids = new ArrayList<>();
    for (int a = 0; a < agents; a++) {
      dids.add(registry.agent("agent-" + a).orElseThrow().did());
    }
    try (MnemoStore store = MnemoStore.open(data)) {
      for (int n = 0; n < aclEntries; n++) {
        AclEntry e = aclEntry(n);
        if (e.grant()) {
          store.log().grant(owner.author(), NS, dids.get(e.agent()), e.can());
        } else {
          store.log().revoke(owner.author(), NS, dids.get(e.agent()), e.can());
        }
      }
    }
  }

  /** Remembers the corpus's first memories in batches, writer w sending batches w, w + writers, ...; 4 requests at a time. */
  private int writeMemories(Node node, List<String> writerTokens, Corpus corpus) throws Exception {
    ExecutorService senders = Executors.newFixedThreadPool(4);
    try {
      List<Future<JsonNode>> sent = new ArrayList<>();
      for (int b = 0; b < memories / batch; b++) {
        byte[] body = rememberBody(corpus, b * batch);
        String token = writerTokens.get(b % writerTokens.size());
        sent.add(senders.submit(() -> call(node, "POST", "/v1/namespaces/" + NS + "/memories", token, body, 201)));
      }
      for (Future<JsonNode> f : sent) {
        f.get();
      }
      return sent.size();
    } finally {
      senders.shutdown();
    }
  }

  private byte[] rememberBody(Corpus corpus, int from) {
    StringBuilder sb = new StringBuilder("{\"memories\":[");
    for (int i = from; i < from + batch; i++) {
      java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(corpus.dimension() * Float.BYTES)
          .order(java.nio.ByteOrder.LITTLE_ENDIAN);
      bytes.asFloatBuffer().put(corpus.docVectors()[i]);
      sb.append(i > from ? "," : "").append("{\"text\":").append(JSON.valueToTree(corpus.docTexts().get(i)).toString())
          .append(",\"vector\":\"").append(java.util.Base64.getEncoder().encodeToString(bytes.array())).append("\"}");
    }
    return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  private void replicate(String variant, int round, Prepared prepared) throws Exception {
    Path second = work.resolve(variant + "-node2");
    deleteTree(second);
    String load = Files.readString(Path.of("/proc/loadavg")).trim().replaceAll("^(\\S+) (\\S+) (\\S+).*", "$1/$2/$3");
    try (Node first = Node.start(jar, prepared.data(), List.of())) {
      long start = System.nanoTime();
      try (Node replica = Node.start(jar, second, List.of("--seed", "127.0.0.1:" + first.gossipPort()))) {
        double healthy = (System.nanoTime() - start) / 1e9;
        long deadline = start + REPLICATION_LIMIT.toNanos();
        double sameHeads = -1;
        double indexed = -1;
        JsonNode info = null;
        while (System.nanoTime() < deadline && indexed < 0) {
          info = call(replica, "GET", "/v1/node", replica.token(), null, 200);
          if (sameHeads < 0 && prepared.heads().equals(heads(info))) {
            sameHeads = (System.nanoTime() - start) / 1e9;
          }
          if (sameHeads >= 0 && info.path("index").path("memories").asInt() == prepared.memories()) {
            indexed = (System.nanoTime() - start) / 1e9;
          }
          Thread.sleep(200);
        }
        if (indexed < 0) {
          throw new IOException("the second node did not replicate " + variant + " within " + REPLICATION_LIMIT
              + "; last /v1/node: " + info);
        }
        JsonNode sync = info.path("sync");
        // The replica started empty: what it applied is every entry of the namespace (the log writer
        // makes one entry of concurrent writes by the same author, so there can be fewer than writes).
        long entries = sync.path("entriesApplied").asLong();
        // The pull walks the log one level of parents per request (POST /v1/sync/blocks): what the
        // first node served tells round trips from the replica's own checking and indexing.
        double[] served = blockRequests(first);
        replica.close();
        double imported = importSeconds(first, variant, entries);
        System.out.printf(Locale.ROOT, "| %s | %d | %d | %d | %d | %s | %.2f | %.2f | %.0f | %.0f | %.2f | %d | %d | %.0f | %.2f | %.2f |%n",
            variant, round, prepared.entries(), entries, prepared.memories(), load, sameHeads, sameHeads - healthy,
            entries / sameHeads, prepared.memories() / sameHeads, indexed, sync.path("rejected").asLong(),
            sync.path("pulls").asLong(), served[0], served[1], imported);
      }
    } finally {
      deleteTree(second);
    }
  }

  /**
   * The same namespace without the pull's walk: exported from the first node as a CAR and
   * imported in one request into another fresh node, which checks every entry (signature, the
   * author's ability in the entry's past) and indexes the memories before it answers. Seconds of
   * the import request alone.
   */
  private double importSeconds(Node first, String variant, long entries) throws Exception {
    HttpResponse<byte[]> car = http.send(HttpRequest.newBuilder(first.url("/v1/namespaces/" + NS + "/export"))
        .header("Authorization", "Bearer " + first.token()).build(), HttpResponse.BodyHandlers.ofByteArray());
    if (car.statusCode() != 200) {
      throw new IOException("export answered " + car.statusCode());
    }
    Path third = work.resolve(variant + "-node3");
    deleteTree(third);
    try (Node node = Node.start(jar, third, List.of())) {
      long start = System.nanoTime();
      HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(node.url("/v1/namespaces/" + NS + "/import"))
          .timeout(Duration.ofMinutes(5)).header("Authorization", "Bearer " + node.token())
          .header("Content-Type", "application/vnd.ipld.car").POST(HttpRequest.BodyPublishers.ofByteArray(car.body())).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      double seconds = (System.nanoTime() - start) / 1e9;
      JsonNode out = answer.statusCode() == 200 ? JSON.readTree(answer.body()) : null;
      if (out == null || out.path("entriesApplied").asLong() != entries) {
        throw new IOException("import answered " + answer.statusCode() + ": "
            + new String(answer.body(), 0, Math.min(300, answer.body().length), StandardCharsets.UTF_8));
      }
      return seconds;
    } finally {
      deleteTree(third);
    }
  }

  /** The sync_blocks requests a node answered and the seconds it spent on them, from its /metrics. */
  private double[] blockRequests(Node node) throws Exception {
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(node.url("/metrics"))
        .header("Authorization", "Bearer " + node.token()).build(), HttpResponse.BodyHandlers.ofString());
    double count = 0;
    double seconds = 0;
    for (String line : metrics.body().split("\n")) {
      if (line.contains("route=\"sync_blocks\"")) {
        double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        if (line.startsWith("mnemo_http_requests_total")) {
          count += value;
        } else if (line.startsWith("mnemo_http_request_duration_seconds_sum")) {
          seconds += value;
        }
      }
    }
    return new double[] {count, seconds};
  }

  private Set<String> heads(Node node) throws Exception {
    return heads(call(node, "GET", "/v1/node", node.token(), null, 200));
  }

  private static Set<String> heads(JsonNode info) {
    Set<String> heads = new TreeSet<>();
    for (JsonNode ns : info.path("namespaces")) {
      if (ns.path("name").asText().equals(NS)) {
        ns.path("heads").forEach(h -> heads.add(h.asText()));
      }
    }
    return heads;
  }

  private JsonNode call(Node node, String method, String path, String token, Object body, int expected) throws Exception {
    byte[] bytes = body == null ? null : body instanceof byte[] b ? b : JSON.writeValueAsBytes(body);
    HttpRequest.Builder request = HttpRequest.newBuilder(node.url(path)).timeout(Duration.ofSeconds(120))
        .header("Authorization", "Bearer " + token)
        .method(method, bytes == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
    if (bytes != null) {
      request.header("Content-Type", "application/json");
    }
    HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() != expected) {
      throw new IOException(method + " " + path + " answered " + response.statusCode() + ": "
          + new String(response.body(), 0, Math.min(300, response.body().length), StandardCharsets.UTF_8));
    }
    return response.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(response.body());
  }

  /** A node process on free loopback ports, client vectors only, trusting every authenticated node to replicate. */
  private record Node(Process process, Path data, int port, int gossipPort, String token) implements AutoCloseable {
    static Node start(Path jar, Path data, List<String> extra) throws IOException, InterruptedException {
      Files.createDirectories(data);
      int port = freePort();
      int gossipPort = freePort();
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g", "-XX:+ExitOnOutOfMemoryError", "-jar", jar.toString(),
          "node", "--host", "127.0.0.1", "--port", Integer.toString(port), "--gossip-port", Integer.toString(gossipPort),
          "--data", data.toString(), "--embedder", "none", "--replication-peer", "*"));
      command.addAll(extra);
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolveSibling(data.getFileName() + ".log").toFile()));
      builder.environment().keySet().removeIf(k -> k.startsWith("MNEMO_"));
      Process process = builder.start();
      // Should this run be stopped (SIGTERM, Ctrl-C), its nodes go with it.
      Runtime.getRuntime().addShutdownHook(new Thread(process::destroy));
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (System.nanoTime() < deadline && process.isAlive()) {
        try {
          if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
            // The node opens its agents (writing the owner token on a first start) before it listens.
            return new Node(process, data, port, gossipPort, Files.readString(data.resolve(AgentRegistry.OWNER_TOKEN_FILE)).strip());
          }
        } catch (IOException e) {
          // not up yet
        }
        Thread.sleep(100);
      }
      process.destroyForcibly();
      throw new IOException("the node on " + data + " did not start; see its .log beside it");
    }

    URI url(String path) {
      return URI.create("http://127.0.0.1:" + port + path);
    }

    private static int freePort() throws IOException {
      try (ServerSocket socket = new ServerSocket(0)) {
        return socket.getLocalPort();
      }
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor();
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
