package dev.mnemo.store.model;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.Delegation;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * One signed entry of a namespace's Merkle-DAG log:
 * {@code {v, ns, op, refs, parents, clock, author, sig}}, plus {@code to} and {@code can} for
 * {@code grant} and {@code revoke}, plus {@code at} for {@code invalidate}, plus an optional
 * {@code proof}. Version 3 added the {@code invalidate} op and its {@code at}; version 2 the
 * access-control ops, {@code to}, {@code can} and {@code proof}; version 1 (add and forget only)
 * is still read, and verified over its own bytes. An entry is written in the oldest version that
 * has its op ({@link #versionFor}): an invalidate is version 3, every other entry version 2, so a
 * node of the build before invalidate still reads every entry but those.
 *
 * <p>{@code refs} links the memories an {@code add} or {@code forget} entry names, in the order
 * they were written; it is empty for {@code create}, {@code grant} and {@code revoke}. DESIGN.md
 * names a single {@code ref}; Mnemo writes a batch as one entry instead, because the JDK's
 * Ed25519 costs about 0.6 ms a signature and as much a verification on the target machine: an
 * entry a memory would cap durable ingest near 1,600 memories/s a core and make every replica
 * spend as long verifying. A single remember is an entry with one ref.
 *
 * <p>{@code parents} are the namespace heads when the entry was written, sorted by binary CID
 * (none for a root entry: a {@code create}, or the first write's {@code add}); {@code clock} is a
 * Lamport counter one past the highest parent; {@code author} is the {@code did:key} whose
 * abilities the entry uses. Without {@code proof}, {@code sig} is the author's Ed25519 signature
 * over the DAG-CBOR bytes of the entry without {@code sig}. With it, {@code proof} is the author's
 * {@link Delegation} to a node, and {@code sig} is that node's (the delegation's audience).
 *
 * <p>{@code to} is the {@code did:key} a grant or revoke is about; {@code can} its abilities, as
 * sorted unique wire names. {@code at} (epoch millis) is when the memories an invalidate names
 * stop holding; a memory's validity ends at the earliest {@code at} of the invalidates naming it,
 * or its own {@code validTo} if that is sooner, whatever order they arrive in.
 */
public record LogEntry(long version, String ns, Op op, List<Cid> refs, List<Cid> parents, long clock, DidKey author,
    DidKey to, Set<Ability> can, Long at, byte[] proof, byte[] sig) {
  /** The newest version this build reads (and writes, for an invalidate: see {@link #versionFor}). */
  public static final long VERSION = 3;
  /** The version of every entry this build writes but an invalidate. */
  static final long VERSION_ACL = 2;
  /** The oldest version this build reads. */
  public static final long VERSION_START = 1;
  /** The most memories one entry may reference (a batch is at most this large). */
  public static final int MAX_REFS = 10_000;
  /** More heads than this at once would mean a misbehaving writer, not concurrency. */
  public static final int MAX_PARENTS = 1_024;
  static final String FORMAT = "log entry";
  private static final Set<String> FIELDS = Set.of("v", "ns", "op", "refs", "parents", "clock", "author", "sig",
      "to", "can", "proof", "at");

  public LogEntry {
    if (version < VERSION_START || version > VERSION) {
      throw new IllegalArgumentException("unsupported version " + version);
    }
    Namespace.requireValid(ns);
    if (op == null || author == null) {
      throw new IllegalArgumentException("op and author are required");
    }
    if (version == 1 && (!op.touchesMemories() || to != null || can != null || proof != null)) {
      throw new IllegalArgumentException("a version 1 entry adds or forgets, and has no to, can or proof");
    }
    if ((op == Op.INVALIDATE) != (at != null)) {
      throw new IllegalArgumentException("invalidate entries, and only they, say when ('at') the memories stop holding");
    }
    if ((op == Op.INVALIDATE) != (version == 3)) {
      // One encoding an entry: each op has the version it was introduced in (see versionFor).
      throw new IllegalArgumentException("version 3 entries, and only they, invalidate");
    }
    refs = refs == null ? List.of() : refs;
    if (op.touchesMemories()) {
      if (refs.isEmpty() || refs.size() > MAX_REFS) {
        throw new IllegalArgumentException("an entry references 1-" + MAX_REFS + " memories");
      }
      if (new LinkedHashSet<>(refs).size() != refs.size()) {
        throw new IllegalArgumentException("an entry references each memory once");
      }
    } else if (!refs.isEmpty()) {
      throw new IllegalArgumentException("a " + op.wire() + " entry references no memories");
    }
    if ((op == Op.GRANT || op == Op.REVOKE) != (to != null)) {
      throw new IllegalArgumentException("grant and revoke entries, and only they, name who they are 'to'");
    }
    if ((to != null) != (can != null)) {
      throw new IllegalArgumentException("'to' and 'can' go together");
    }
    if (can != null) {
      if (can.isEmpty()) {
        throw new IllegalArgumentException("a " + op.wire() + " names at least one ability");
      }
      can = Set.copyOf(can);
    }
    if (proof != null && (proof.length == 0 || proof.length > Delegation.MAX_BYTES)) {
      throw new IllegalArgumentException("a proof is 1-" + Delegation.MAX_BYTES + " bytes");
    }
    refs = List.copyOf(refs);
    parents = List.copyOf(new TreeSet<>(parents == null ? List.of() : parents));
    if (parents.size() > MAX_PARENTS) {
      throw new IllegalArgumentException("an entry has at most " + MAX_PARENTS + " parents");
    }
    if (op == Op.CREATE && !parents.isEmpty()) {
      throw new IllegalArgumentException("a create entry is a root: it has no parents");
    }
    if (clock < 1) {
      throw new IllegalArgumentException("clock starts at 1");
    }
    proof = proof == null ? null : proof.clone();
    sig = sig == null ? null : sig.clone();
  }

  /** An entry of any op but invalidate (no {@code at}). */
  public LogEntry(long version, String ns, Op op, List<Cid> refs, List<Cid> parents, long clock, DidKey author,
      DidKey to, Set<Ability> can, byte[] proof, byte[] sig) {
    this(version, ns, op, refs, parents, clock, author, to, can, null, proof, sig);
  }

  /** A version 2 add or forget entry without proof (how entries were built before access control). */
  public LogEntry(String ns, Op op, List<Cid> refs, List<Cid> parents, long clock, DidKey author, byte[] sig) {
    this(VERSION_ACL, ns, op, refs, parents, clock, author, null, null, null, sig);
  }

  /**
   * The version an entry of {@code op} is written in: the oldest that has the op, so that the
   * entries of every other op keep the form (and readers) they had before it.
   */
  public static long versionFor(Op op) {
    return op == Op.INVALIDATE ? VERSION : VERSION_ACL;
  }

  /** Builds and signs an add or forget entry by {@code key} itself. */
  public static LogEntry signed(AgentKey key, String ns, Op op, List<Cid> refs, List<Cid> parents, long clock) {
    return signed(Author.of(key), ns, op, refs, parents, clock, null, null);
  }

  /**
   * Builds and signs a version 2 entry by {@code author}: with the author's own key, or with its
   * delegate's key and the author's delegation as {@code proof}.
   */
  public static LogEntry signed(Author author, String ns, Op op, List<Cid> refs, List<Cid> parents, long clock,
      DidKey to, Set<Ability> can) {
    return signed(author, ns, op, refs, parents, clock, to, can, null);
  }

  /** As {@link #signed(Author, String, Op, List, List, long, DidKey, Set)}, with {@code at} for an invalidate. */
  public static LogEntry signed(Author author, String ns, Op op, List<Cid> refs, List<Cid> parents, long clock,
      DidKey to, Set<Ability> can, Long at) {
    LogEntry unsigned = new LogEntry(versionFor(op), ns, op, refs, parents, clock, author.did(), to, can, at,
        author.proof(), null);
    return unsigned.withSig(author.signer().sign(unsigned.signingBytes()));
  }

  private LogEntry withSig(byte[] signature) {
    return new LogEntry(version, ns, op, refs, parents, clock, author, to, can, at, proof, signature);
  }

  /** Whether the entry is a root (it has no parents): a create, or a namespace's first write. */
  public boolean isRoot() {
    return parents.isEmpty();
  }

  /** The bytes the signature covers: the entry's DAG-CBOR without {@code sig}. */
  public byte[] signingBytes() {
    Map<String, Object> map = toIpld();
    map.remove("sig");
    return DagCbor.encode(map);
  }

  public boolean hasValidSignature() {
    return signatureProblem() == null;
  }

  /**
   * Why the entry's signature does not stand, or null when it does: without proof, {@code sig}
   * must be the author's; with one, the proof must be a delegation the author signed, to the key
   * that signed {@code sig}, covering this namespace and the ability this op needs.
   */
  public String signatureProblem() {
    if (sig == null) {
      return "unsigned";
    }
    if (proof == null) {
      return author.verify(signingBytes(), sig) ? null : "bad signature by " + author;
    }
    String problem = proofProblem(author, ns, op, proof);
    if (problem != null) {
      return problem;
    }
    Delegation delegation;
    try {
      delegation = Delegation.decodeVerified(proof);
    } catch (InvalidFormatException e) {
      throw new IllegalStateException("a delegation that verified stopped decoding", e);
    }
    return delegation.aud().verify(signingBytes(), sig) ? null : "bad signature by the delegate " + delegation.aud();
  }

  /**
   * Why {@code proof} does not let its audience write an entry of {@code op} in {@code ns} for
   * {@code author}, or null when it does: it must decode, carry its issuer's signature, be issued
   * by the author, and cover the namespace and the ability the op needs. Says nothing of who signs.
   */
  public static String proofProblem(DidKey author, String ns, Op op, byte[] proof) {
    Delegation delegation;
    try {
      delegation = Delegation.decodeVerified(proof);
    } catch (InvalidFormatException e) {
      return "bad proof: " + e.getMessage();
    }
    if (!delegation.iss().equals(author)) {
      return "its proof is a delegation by " + delegation.iss() + ", not by its author " + author;
    }
    Ability needs = op.needs();
    boolean covered = needs == null
        ? delegation.sub().equals(Delegation.ANY_NAMESPACE) || delegation.sub().equals(ns)
        : delegation.covers(ns, needs);
    if (!covered) {
      return "its proof does not delegate " + (needs == null ? "namespace " + ns : "'" + needs.wire() + "' in namespace " + ns);
    }
    return null;
  }

  @Override
  public byte[] sig() {
    return sig == null ? null : sig.clone();
  }

  @Override
  public byte[] proof() {
    return proof == null ? null : proof.clone();
  }

  public Map<String, Object> toIpld() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", version);
    map.put("ns", ns);
    map.put("op", op.wire());
    map.put("refs", refs);
    map.put("parents", parents);
    map.put("clock", clock);
    map.put("author", author.toString());
    if (to != null) {
      map.put("to", to.toString());
      map.put("can", Ability.wireList(can));
    }
    if (at != null) {
      map.put("at", at);
    }
    if (proof != null) {
      map.put("proof", proof);
    }
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
   * Decodes an entry block (version 1 to 3). Checks its structure, not its signature: callers that
   * accept blocks from outside call {@link #signatureProblem()}.
   */
  public static LogEntry decode(byte[] block) throws InvalidFormatException {
    Map<String, Object> map;
    try {
      map = DagCbor.decodeMap(block);
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, e.getMessage(), e);
    }
    IpldFields fields = new IpldFields(FORMAT, map, FIELDS);
    long version = fields.integer("v");
    if (version < VERSION_START || version > VERSION) {
      throw fields.invalid("unsupported version " + version + " (this node reads " + VERSION_START + "-" + VERSION + ")");
    }
    List<Cid> parents = fields.listOf("parents", Cid.class, "link");
    byte[] sig = fields.bytes("sig");
    if (sig.length != 64) {
      throw fields.invalid("an Ed25519 signature is 64 bytes, found " + sig.length);
    }
    DidKey author = did(fields, "author");
    DidKey to = fields.has("to") ? did(fields, "to") : null;
    try {
      Set<Ability> can = fields.has("can") ? Ability.fromWireList(fields.list("can")) : null;
      byte[] proof = fields.has("proof") ? fields.bytes("proof") : null;
      Long at = fields.has("at") ? fields.integer("at") : null;
      LogEntry entry = new LogEntry(version, fields.string("ns"), Op.fromWire(fields.string("op")),
          fields.listOf("refs", Cid.class, "link"), parents, fields.integer("clock"), author, to, can, at, proof, sig);
      if (!entry.parents.equals(parents)) {
        throw fields.invalid("parents must be sorted and unique");
      }
      return entry;
    } catch (IllegalArgumentException e) {
      throw fields.invalid(e.getMessage());
    }
  }

  private static DidKey did(IpldFields fields, String key) throws InvalidFormatException {
    try {
      return DidKey.parse(fields.string(key));
    } catch (InvalidFormatException e) {
      throw fields.invalid("bad " + key + ": " + e.getMessage());
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LogEntry e && e.version == version && e.ns.equals(ns) && e.op == op && e.refs.equals(refs)
        && e.parents.equals(parents) && e.clock == clock && e.author.equals(author) && Objects.equals(e.to, to)
        && Objects.equals(e.can, can) && Objects.equals(e.at, at) && Arrays.equals(e.proof, proof)
        && Arrays.equals(e.sig, sig);
  }

  @Override
  public int hashCode() {
    return ((ns.hashCode() * 31 + refs.hashCode()) * 31 + parents.hashCode()) * 31 + Long.hashCode(clock);
  }

  @Override
  public String toString() {
    String what = op.touchesMemories() ? refs.size() + " refs" + (at != null ? " at " + at : "") : to != null ? to + " " + Ability.wireList(can) : "root";
    return "LogEntry[" + ns + " " + op.wire() + " " + what + ", clock " + clock + ", " + parents.size() + " parents]";
  }
}
