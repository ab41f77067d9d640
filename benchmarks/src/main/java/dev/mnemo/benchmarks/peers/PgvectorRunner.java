package dev.mnemo.benchmarks.peers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The PostgreSQL + pgvector peer, measured through JDBC like an application would use it. Expects
 * a running server (benchmarks/scripts/run-peers.sh starts one with /work/shared/peers/pgvector-setup.sh).
 *
 * <ol>
 *   <li>Ingest: one binary COPY and one COMMIT per batch with synchronous_commit=on, so every
 *       batch is in the fsynced WAL when it is acknowledged. The tsvector column is generated
 *       (computed) on insert.
 *   <li>Build: HNSW on the vectors with vector_ip_ops (inner product; the vectors are unit
 *       length), m=16 and ef_construction=64 (pgvector's defaults), then GIN on the tsvector.
 *   <li>Queries: kNN with hnsw.ef_search swept, full text (ts_rank over an OR of the query's
 *       terms), and hybrid (reciprocal rank fusion of both, in SQL), at 1 and 16 connections.
 * </ol>
 *
 * <p>Usage: {@code PgvectorRunner --data benchmarks/data/<name>-<N> --out results.jsonl
 * [--url jdbc:postgresql://127.0.0.1:5432/mnemo_bench] [--user postgres] [--batch 1000]
 * [--max-seconds 30] [--warmup 100] [--clients 1,16] [--ef-search 10,20,40,80,160,320]
 * [--m 16] [--ef-construction 64] [--maintenance-work-mem 8GB] [--keep false]}
 */
public final class PgvectorRunner {
  private static final String TABLE = "bench_memories";
  private static final int HYBRID_CANDIDATES = 40;
  private static final int HYBRID_EF_SEARCH = 80;
  private static final int RRF_K = 60;

  private final Map<String, String> opts;
  private final PeerDataset data;
  private final String url;
  private final String user;
  private final int maxSeconds;
  private final int warmup;
  private final List<Integer> clientCounts;
  private ResultLog log;

  private PgvectorRunner(Map<String, String> opts) throws IOException {
    this.opts = opts;
    this.data = PeerDataset.open(Path.of(Args.required(opts, "data")));
    this.url = opts.getOrDefault("url", "jdbc:postgresql://127.0.0.1:5432/mnemo_bench");
    this.user = opts.getOrDefault("user", "postgres");
    this.maxSeconds = Integer.parseInt(opts.getOrDefault("max-seconds", "30"));
    this.warmup = Integer.parseInt(opts.getOrDefault("warmup", "100"));
    this.clientCounts = ints(opts.getOrDefault("clients", "1,16"));
  }

  public static void main(String[] args) throws Exception {
    new PgvectorRunner(Args.parse(args)).run();
  }

  private void run() throws Exception {
    try (Connection admin = connect(); ServerMemory memory = new ServerMemory(postmasterPid(admin))) {
      log = new ResultLog(Path.of(Args.required(opts, "out")), common(admin));
      createTable(admin);
      double ingestSeconds = timed(() -> ingest(admin));
      int m = Integer.parseInt(opts.getOrDefault("m", "16"));
      int efConstruction = Integer.parseInt(opts.getOrDefault("ef-construction", "64"));
      // pgvector builds HNSW fastest when the whole graph fits in maintenance_work_mem (about
      // 2 GB at 1M vectors of 384 dims); past it the build goes on slowly on disk.
      execute(admin, "SET maintenance_work_mem = '" + opts.getOrDefault("maintenance-work-mem", "8GB") + "'");
      double buildSeconds = timed(() -> execute(admin, String.format(Locale.ROOT,
          "CREATE INDEX %s_embedding ON %s USING hnsw (embedding vector_ip_ops) WITH (m = %d, ef_construction = %d)",
          TABLE, TABLE, m, efConstruction)));
      double ftsSeconds = timed(() -> execute(admin, "CREATE INDEX " + TABLE + "_tsv ON " + TABLE + " USING gin (tsv)"));
      execute(admin, "VACUUM ANALYZE " + TABLE);
      emitIngest(admin, memory, ingestSeconds, buildSeconds, ftsSeconds, m, efConstruction);

      for (int efSearch : ints(opts.getOrDefault("ef-search", "10,20,40,80,160,320"))) {
        boolean seqscanOff = indexNeedsSeqscanOff(admin, efSearch);
        ObjectNode params = object().put("efSearch", efSearch);
        if (seqscanOff) {
          params.put("enableSeqscan", false);
        }
        measure("vector", params, memory, () -> vectorClient(efSearch, seqscanOff));
      }
      measure("keyword", object().put("query", "to_tsquery english, OR of terms, ts_rank"), memory, this::keywordClient);
      measure("hybrid", object().put("efSearch", HYBRID_EF_SEARCH).put("candidates", HYBRID_CANDIDATES)
          .put("fusion", "RRF k=" + RRF_K + " in SQL"), memory, this::hybridClient);
      if (!"true".equals(opts.get("keep"))) {
        execute(admin, "DROP TABLE " + TABLE);
      }
    }
  }

  // ---- schema and ingest

  private void createTable(Connection c) throws SQLException {
    execute(c, "CREATE EXTENSION IF NOT EXISTS vector");
    execute(c, "DROP TABLE IF EXISTS " + TABLE);
    execute(c, "CREATE TABLE " + TABLE + " (id integer PRIMARY KEY, text text NOT NULL, embedding vector(" + data.dim() + ") NOT NULL,"
        + " tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED)");
  }

  private void ingest(Connection c) throws Exception {
    execute(c, "SET synchronous_commit = on");
    c.setAutoCommit(false);
    var copy = c.unwrap(PGConnection.class).getCopyAPI();
    int batchSize = Integer.parseInt(opts.getOrDefault("batch", "1000"));
    data.forEachBatch(batchSize, batch -> {
      try {
        byte[] rows = CopyBinary.encode(batch);
        CopyIn in = copy.copyIn("COPY " + TABLE + " (id, text, embedding) FROM STDIN (FORMAT binary)");
        in.writeToCopy(rows, 0, rows.length);
        in.endCopy();
        c.commit(); // returns once the WAL holding this batch is flushed (synchronous_commit=on)
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    });
    c.setAutoCommit(true);
  }

  private void emitIngest(Connection c, ServerMemory memory, double ingestSeconds, double buildSeconds, double ftsSeconds,
      int m, int efConstruction) throws Exception {
    long bytes = queryLong(c, "SELECT pg_total_relation_size('" + TABLE + "')");
    ObjectNode index = object().put("vector", "hnsw").put("opclass", "vector_ip_ops").put("m", m)
        .put("efConstruction", efConstruction).put("maintenanceWorkMem", queryString(c, "SHOW maintenance_work_mem"))
        .put("parallelMaintenanceWorkers", queryString(c, "SHOW max_parallel_maintenance_workers"))
        .put("keyword", "gin on tsvector (english)");
    ObjectNode record = object()
        .put("phase", "ingest")
        .put("memoriesPerSec", ResultLog.round(data.docs() / ingestSeconds, 1))
        .put("ingestSeconds", ResultLog.round(ingestSeconds, 3))
        .put("batchSize", Integer.parseInt(opts.getOrDefault("batch", "1000")))
        .put("buildSeconds", ResultLog.round(buildSeconds, 3))
        .put("ftsBuildSeconds", ResultLog.round(ftsSeconds, 3))
        .put("diskBytes", bytes)
        .put("diskBytesPerMemory", ResultLog.round((double) bytes / data.docs(), 1))
        .put("diskMeasure", "pg_total_relation_size (heap, TOAST, all indexes; WAL not counted)")
        .put("durability", "fsync per batch: one binary COPY + COMMIT per batch, synchronous_commit=on, fsync="
            + queryString(c, "SHOW fsync") + ", wal_sync_method=" + queryString(c, "SHOW wal_sync_method"));
    record.set("index", index);
    putPeakRss(record, memory);
    log.emit(record);
  }

  /** pgvector's binary COPY format: int16 dimension, int16 unused, then float4s, big-endian. */
  static final class CopyBinary {
    private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};

    static byte[] encode(PeerDataset.Batch batch) {
      try {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(batch.texts().size() * 2048);
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(SIGNATURE);
        out.writeInt(0); // flags
        out.writeInt(0); // header extension length
        for (int i = 0; i < batch.texts().size(); i++) {
          float[] v = batch.vectors()[i];
          byte[] text = batch.texts().get(i).getBytes(StandardCharsets.UTF_8);
          out.writeShort(3);
          out.writeInt(4);
          out.writeInt(batch.start() + i);
          out.writeInt(text.length);
          out.write(text);
          out.writeInt(4 + 4 * v.length);
          out.writeShort(v.length);
          out.writeShort(0);
          for (float x : v) {
            out.writeFloat(x);
          }
        }
        out.writeShort(-1); // trailer
        return bytes.toByteArray();
      } catch (IOException e) {
        throw new IllegalStateException(e); // a ByteArrayOutputStream does not fail
      }
    }
  }

  // ---- queries

  private void measure(String phase, ObjectNode params, ServerMemory memory, QueryLoad.ClientFactory factory) throws Exception {
    for (int clients : clientCounts) {
      QueryLoad.Run run = QueryLoad.run(factory, clients, data.queries(), Math.min(warmup, data.queries()), maxSeconds);
      ObjectNode record = object().put("phase", phase);
      record.set("params", params);
      record.put("clients", clients).put("concurrency", "threads, one connection each");
      record.setAll(ResultLog.latencySummary(run));
      if (phase.equals("vector")) {
        record.put("recallAt10", ResultLog.recallAt10(run.answers(), data));
      } else {
        record.putNull("recallAt10");
      }
      putPeakRss(record, memory);
      log.emit(record);
    }
  }

  private QueryLoad.Client vectorClient(int efSearch, boolean seqscanOff) throws SQLException {
    Connection c = connect();
    execute(c, "SET hnsw.ef_search = " + efSearch);
    if (seqscanOff) {
      execute(c, "SET enable_seqscan = off");
    }
    PreparedStatement knn = c.prepareStatement("SELECT id FROM " + TABLE + " ORDER BY embedding <#> ?::vector LIMIT 10");
    return client(c, q -> {
      knn.setString(1, vectorLiteral(data.queryVectors()[q]));
      return ids(knn);
    });
  }

  private QueryLoad.Client keywordClient() throws SQLException {
    Connection c = connect();
    PreparedStatement fts = c.prepareStatement("SELECT id FROM " + TABLE + ", to_tsquery('english', ?) q"
        + " WHERE tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 10");
    return client(c, q -> {
      String terms = orQuery(data.queryTexts().get(q));
      if (terms.isEmpty()) {
        return new int[0];
      }
      fts.setString(1, terms);
      return ids(fts);
    });
  }

  /** Reciprocal rank fusion of the top 40 by vector and the top 40 by ts_rank, in one statement. */
  private QueryLoad.Client hybridClient() throws SQLException {
    Connection c = connect();
    execute(c, "SET hnsw.ef_search = " + HYBRID_EF_SEARCH);
    PreparedStatement rrf = c.prepareStatement(String.format(Locale.ROOT, """
        WITH v AS (SELECT id, row_number() OVER () AS r
                   FROM (SELECT id FROM %1$s ORDER BY embedding <#> ?::vector LIMIT %2$d) s),
             k AS (SELECT id, row_number() OVER () AS r
                   FROM (SELECT id FROM %1$s, to_tsquery('english', ?) q WHERE tsv @@ q
                         ORDER BY ts_rank(tsv, q) DESC LIMIT %2$d) t)
        SELECT coalesce(v.id, k.id) AS id FROM v FULL OUTER JOIN k ON v.id = k.id
        ORDER BY coalesce(1.0 / (%3$d + v.r), 0) + coalesce(1.0 / (%3$d + k.r), 0) DESC LIMIT 10""",
        TABLE, HYBRID_CANDIDATES, RRF_K));
    return client(c, q -> {
      rrf.setString(1, vectorLiteral(data.queryVectors()[q]));
      rrf.setString(2, orQuery(data.queryTexts().get(q)));
      return ids(rrf);
    });
  }

  /**
   * Whether sequential scans must be switched off for the kNN statement to run on the HNSW index:
   * with a large ef_search on a small table the planner prices a scan lower, and the scan is
   * exact, which would measure something else. Fails if even then the index is not used.
   */
  private boolean indexNeedsSeqscanOff(Connection admin, int efSearch) throws SQLException {
    execute(admin, "SET hnsw.ef_search = " + efSearch);
    try {
      if (knnPlan(admin).contains("Index Scan using " + TABLE + "_embedding")) {
        return false;
      }
      execute(admin, "SET enable_seqscan = off");
      String plan = knnPlan(admin);
      if (!plan.contains("Index Scan using " + TABLE + "_embedding")) {
        throw new IllegalStateException("kNN query does not use the HNSW index:\n" + plan);
      }
      return true;
    } finally {
      execute(admin, "RESET enable_seqscan");
    }
  }

  private String knnPlan(Connection admin) throws SQLException {
    try (PreparedStatement explain = admin.prepareStatement(
        "EXPLAIN SELECT id FROM " + TABLE + " ORDER BY embedding <#> ?::vector LIMIT 10")) {
      explain.setString(1, vectorLiteral(data.queryVectors()[0]));
      StringBuilder plan = new StringBuilder();
      try (ResultSet rs = explain.executeQuery()) {
        while (rs.next()) {
          plan.append(rs.getString(1).replaceAll("\\[[^\\]]*\\]", "[…]")).append('\n');
        }
      }
      return plan.toString();
    }
  }

  private interface Search {
    int[] apply(int q) throws SQLException;
  }

  private static QueryLoad.Client client(Connection c, Search search) {
    return new QueryLoad.Client() {
      @Override
      public int[] search(int q) throws SQLException {
        return search.apply(q);
      }

      @Override
      public void close() throws SQLException {
        c.close();
      }
    };
  }

  private static int[] ids(PreparedStatement statement) throws SQLException {
    List<Integer> out = new ArrayList<>(10);
    try (ResultSet rs = statement.executeQuery()) {
      while (rs.next()) {
        out.add(rs.getInt(1));
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  static String vectorLiteral(float[] v) {
    StringBuilder out = new StringBuilder(v.length * 12).append('[');
    for (int i = 0; i < v.length; i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append(v[i]);
    }
    return out.append(']').toString();
  }

  /**
   * The query's words joined by '|' for to_tsquery: OR semantics, as BM25 in Lucene and LanceDB
   * have by default. Only letters and digits pass, so no word can be read as a tsquery operator;
   * the 'english' configuration drops stop words and stems the rest.
   */
  static String orQuery(String text) {
    Set<String> words = new LinkedHashSet<>();
    for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      if (!w.isEmpty()) {
        words.add(w);
      }
    }
    return String.join(" | ", words);
  }

  // ---- server facts

  private ObjectNode common(Connection c) throws SQLException {
    ObjectNode components = object()
        .put("postgresql", queryString(c, "SHOW server_version"))
        .put("jdbc", org.postgresql.Driver.getVersion())
        .put("java", System.getProperty("java.version"));
    ObjectNode machine = machine();
    ObjectNode common = object()
        .put("system", "pgvector")
        .put("version", queryString(c, "SELECT extversion FROM pg_extension WHERE extname = 'vector'"));
    common.set("components", components);
    common.put("dataset", data.name()).put("size", data.docs());
    common.set("machine", machine);
    return common;
  }

  /** The same machine facts as the Node runners record: cores, memory, load averages. */
  private static ObjectNode machine() {
    ObjectNode machine = object().put("cores", Runtime.getRuntime().availableProcessors());
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          machine.put("memBytes", Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
        }
      }
      String[] load = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      var averages = machine.putArray("loadavg");
      for (int i = 0; i < 3; i++) {
        averages.add(Double.parseDouble(load[i]));
      }
    } catch (IOException e) {
      // not Linux: cores only
    }
    return machine;
  }

  private static long postmasterPid(Connection c) throws SQLException, IOException {
    Path pidFile = Path.of(queryString(c, "SHOW data_directory"), "postmaster.pid");
    try {
      return Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    } catch (java.nio.file.AccessDeniedException e) {
      return -1; // not allowed to read the server's files: memory is then reported as null
    }
  }

  private static void putPeakRss(ObjectNode record, ServerMemory memory) {
    long peak = memory.peakBytes();
    if (peak > 0) {
      record.put("peakRssBytes", peak).put("peakRssMeasure", "server processes, summed PSS, sampled every 250 ms");
    } else {
      record.putNull("peakRssBytes");
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(url, user, opts.getOrDefault("password", ""));
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String queryString(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static long queryLong(Connection c, String sql) throws SQLException {
    return Long.parseLong(queryString(c, sql));
  }

  private interface Step {
    void run() throws Exception;
  }

  private static double timed(Step step) throws Exception {
    long t0 = System.nanoTime();
    step.run();
    return (System.nanoTime() - t0) / 1e9;
  }

  private static ObjectNode object() {
    return ResultLog.object();
  }

  private static List<Integer> ints(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).map(Integer::parseInt).collect(Collectors.toList());
  }
}
