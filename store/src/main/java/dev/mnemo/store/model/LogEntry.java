package dev.mnemo.store.model;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One signed entry of a namespace's Merkle-DAG log:
 * {@code {v, ns, op, refs, parents, clock, author, sig}}.
 *
 * <p>{@code refs} links the memories the entry adds or forgets, in the order they were written.
 * DESIGN.md names a single {@code ref}; Mnemo writes a batch as one entry instead, because the
 * JDK's Ed25519 costs about 0.6 ms a signature and as much a verification on the target machine:
 * an entry a memory would cap durable ingest near 1,600 memories/s a core and make every replica
 * spend as long verifying. A single remember is an entry with one ref.
 *
 * <p>{@code parents} are the namespace heads when the entry was written, sorted by binary CID;
 * {@code clock} is a Lamport counter one past the highest parent; {@code author} is the signer's
 * {@code did:key}; {@code sig} is its Ed25519 signature over the DAG-CBOR bytes of the entry
 * without {@code sig}.
 */
public record LogEntry(String ns, Op op, List<Cid> refs, List<Cid> parents, long clock, DidKey author, byte[] sig) {
  public static final long VERSION = 1;
  /** The most memories one entry may reference (a batch is at most this large). */
  public static final int MAX_REFS = 10_000;
  /** More heads than this at once would mean a misbehaving writer, not concurrency. */
  public static final int MAX_PARENTS = 1_024;
  static final String FORMAT = "log entry";
  private static final Set<String> FIELDS = Set.of("v", "ns", "op", "refs", "parents", "clock", "author", "sig");

  public LogEntry {
    Namespace.requireValid(ns);
    if (op == null || author == null) {
      throw new IllegalArgumentException("op and author are required");
    }
    if (refs == null || refs.isEmpty() || refs.size() > MAX_REFS) {
      throw new IllegalArgumentException("an entry references 1-" + MAX_REFS + " memories");
    }
    if (new LinkedHashSet<>(refs).size() != refs.size()) {
      throw new IllegalArgumentException("an entry references each memory once");
    }
    refs = List.copyOf(refs);
    parents = List.copyOf(new TreeSet<>(parents == null ? List.of() : parents));
    if (parents.size() > MAX_PARENTS) {
      throw new IllegalArgumentException("an entry has at most " + MAX_PARENTS + " parents");
    }
    if (clock < 1) {
      throw new IllegalArgumentException("clock starts at 1");
    }
    sig = sig == null ? null : sig.clone();
  }

  /** Builds and signs an entry. */
  public static LogEntry signed(AgentKey key, String ns, Op op, List<Cid> refs, List<Cid> parents, long clock) {
    LogEntry unsigned = new LogEntry(ns, op, refs, parents, clock, key.did(), null);
    return unsigned.withSig(key.sign(unsigned.signingBytes()));
  }

  private LogEntry withSig(byte[] signature) {
    return new LogEntry(ns, op, refs, parents, clock, author, signature);
  }

  /** The bytes the signature covers: the entry's DAG-CBOR without {@code sig}. */
  public byte[] signingBytes() {
    Map<String, Object> map = toIpld();
    map.remove("sig");
    return DagCbor.encode(map);
  }

  public boolean hasValidSignature() {
    return sig != null && author.verify(signingBytes(), sig);
  }

  @Override
  public byte[] sig() {
    return sig == null ? null : sig.clone();
  }

  public Map<String, Object> toIpld() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("ns", ns);
    map.put("op", op.wire());
    map.put("refs", refs);
    map.put("parents", parents);
    map.put("clock", clock);
    map.put("author", author.toString());
    if (sig != null) {
      map.put("sig", sig);
    }
    return map;
  }

  /** The block bytes; only signed entries are blocks. */
  public byte[] encode() {
    if (sig == null) {
      throw new IllegalStateException("an unsigned entry is not a block");
    }
    return DagCbor.encode(toIpld());
  }

  /**
   * Decodes an entry block. Checks its structure, not its signature: callers that accept blocks
   * from outside call {@link #hasValidSignature()}.
   */
  public static LogEntry decode(byte[] block) throws InvalidFormatException {
    Map<String, Object> map;
    try {
      map = DagCbor.decodeMap(block);
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, e.getMessage(), e);
    }
    IpldFields fields = new IpldFields(FORMAT, map, FIELDS);
    fields.requireVersion(VERSION);
    List<Cid> parents = fields.listOf("parents", Cid.class, "link");
    byte[] sig = fields.bytes("sig");
    if (sig.length != 64) {
      throw fields.invalid("an Ed25519 signature is 64 bytes, found " + sig.length);
    }
    DidKey author;
    try {
      author = DidKey.parse(fields.string("author"));
    } catch (InvalidFormatException e) {
      throw fields.invalid("bad author: " + e.getMessage());
    }
    try {
      LogEntry entry = new LogEntry(fields.string("ns"), Op.fromWire(fields.string("op")),
          fields.listOf("refs", Cid.class, "link"), parents, fields.integer("clock"), author, sig);
      if (!entry.parents.equals(parents)) {
        throw fields.invalid("parents must be sorted and unique");
      }
      return entry;
    } catch (IllegalArgumentException e) {
      throw fields.invalid(e.getMessage());
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LogEntry e && e.ns.equals(ns) && e.op == op && e.refs.equals(refs)
        && e.parents.equals(parents) && e.clock == clock && e.author.equals(author) && Arrays.equals(e.sig, sig);
  }

  @Override
  public int hashCode() {
    return ((ns.hashCode() * 31 + refs.hashCode()) * 31 + parents.hashCode()) * 31 + Long.hashCode(clock);
  }

  @Override
  public String toString() {
    return "LogEntry[" + ns + " " + op.wire() + " " + refs.size() + " refs, clock " + clock + ", " + parents.size() + " parents]";
  }
}
