package dev.mnemo.node.auth;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.PrivateFiles;
import dev.mnemo.store.identity.DidKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;

/**
 * The agents this node hosts and their API tokens, kept in {@code DATA/agents.cbor}.
 *
 * <p>File layout (DAG-CBOR): {@code {v: 1, content: bytes, sha256: bytes(32)}}, where
 * {@code sha256} is the SHA-256 of {@code content}, itself the DAG-CBOR of
 * {@code {agents: [{name, did, seed: bytes(32), created, admin}], tokens: [{id, agent: did, hash:
 * bytes(32), created, revoked}]}}. The checksum covers the exact bytes, so any damage is refused
 * with the file's name instead of silently dropping an agent or a revocation. A file of a later
 * version is refused as such. The file is created owner-only and replaced atomically on every
 * change (temporary file, fsync, rename).
 *
 * <p>Tokens are {@code mnemo_<id>_<secret>}: {@code id} 16 hex digits, {@code secret} 256 random
 * bits in base64url. Only the SHA-256 of the secret is kept, and compared in constant time. A
 * secret of 256 random bits needs no slow hash: nothing can be guessed from its digest.
 *
 * <p>Thread-safe. Changes are serialized and written before they take effect; {@link
 * #authenticate} reads an immutable snapshot and touches no file, so the node's workers call it
 * concurrently at the cost of one SHA-256.
 */
public final class AgentRegistry {
  public static final String FILE_NAME = "agents.cbor";
  public static final String OWNER_TOKEN_FILE = "owner.token";
  /** The name of the admin agent the first start creates. */
  public static final String OWNER = "owner";
  public static final String TOKEN_PREFIX = "mnemo_";
  static final long VERSION = 1;
  private static final String FORMAT = "agents file";
  private static final int ID_BYTES = 8;
  private static final int SECRET_BYTES = 32;
  /** Longer than any token this registry issues; a longer bearer is refused before hashing. */
  private static final int MAX_TOKEN_LENGTH = 128;
  private static final System.Logger LOG = System.getLogger(AgentRegistry.class.getName());

  /** An agent name or did already taken. */
  public static final class DuplicateAgentException extends IllegalArgumentException {
    public DuplicateAgentException(String message) {
      super(message);
    }
  }

  private record StoredToken(String id, DidKey agent, byte[] hash, long created, boolean revoked) {
    ApiToken view() {
      return new ApiToken(id, agent, created, revoked);
    }
  }

  /** Immutable; replaced whole by each change, so readers never lock. */
  private record State(Map<String, HostedAgent> byName, Map<DidKey, HostedAgent> byDid, Map<String, StoredToken> tokens) {
    static final State EMPTY = new State(Map.of(), Map.of(), Map.of());

    State withAgent(HostedAgent agent) {
      Map<String, HostedAgent> names = new LinkedHashMap<>(byName);
      names.put(agent.name(), agent);
      Map<DidKey, HostedAgent> dids = new LinkedHashMap<>(byDid);
      dids.put(agent.did(), agent);
      return new State(Collections.unmodifiableMap(names), Collections.unmodifiableMap(dids), tokens);
    }

    State withToken(StoredToken token) {
      Map<String, StoredToken> all = new LinkedHashMap<>(tokens);
      all.put(token.id(), token);
      return new State(byName, byDid, Collections.unmodifiableMap(all));
    }
  }

  private final Path file;
  private final SecureRandom random = new SecureRandom();
  private volatile State state;

  private AgentRegistry(Path file, State state) {
    this.file = file;
    this.state = state;
  }

  /** Reads {@code DATA/agents.cbor}, or starts empty when there is none yet (nothing is written until a change). */
  public static AgentRegistry open(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (!Files.exists(file)) {
      return new AgentRegistry(file, State.EMPTY);
    }
    warnIfReadableByOthers(file);
    return new AgentRegistry(file, decode(file, Files.readAllBytes(file)));
  }

  public Path file() {
    return file;
  }

  /**
   * On a node's first start (no admin agent yet), creates the admin agent {@value #OWNER}, with {@code
   * ownerKey} when given (the same owner hosted on several nodes) or a new key, and writes its
   * token to {@code DATA/owner.token} (mode 0600). Returns the token when it made one.
   */
  public synchronized Optional<IssuedToken> createOwnerIfAbsent(AgentKey ownerKey) throws IOException {
    if (state.byName.values().stream().anyMatch(HostedAgent::admin)) {
      return Optional.empty();
    }
    if (state.byName.containsKey(OWNER)) {
      throw new IllegalStateException(file + " has an agent named " + OWNER + " that is not an admin");
    }
    HostedAgent owner = new HostedAgent(OWNER, ownerKey != null ? ownerKey : AgentKey.generate(), System.currentTimeMillis(), true);
    NewToken token = newToken(owner);
    // The token file first: were the registry write to fail, the next start makes a new owner and
    // overwrites it; the other way round, a crash would leave an owner whose token no one has.
    PrivateFiles.writeAtomically(ownerTokenFile(), (token.issued.token() + "\n").getBytes(StandardCharsets.US_ASCII));
    commit(state.withAgent(owner).withToken(token.stored));
    return Optional.of(token.issued);
  }

  /** Where the owner's first token is written. */
  public Path ownerTokenFile() {
    return file.resolveSibling(OWNER_TOKEN_FILE);
  }

  /** A new hosted agent with a new key, and its first token. */
  public IssuedToken createAgent(String name) throws IOException {
    return addAgent(name, AgentKey.generate(), false);
  }

  /**
   * Hosts an agent whose key exists already (the same agent on several nodes), and gives it a
   * token on this node.
   */
  public IssuedToken importAgent(String name, byte[] seed) throws IOException {
    return addAgent(name, AgentKey.fromSeed(seed), false);
  }

  private synchronized IssuedToken addAgent(String name, AgentKey key, boolean admin) throws IOException {
    HostedAgent agent = new HostedAgent(name, key, System.currentTimeMillis(), admin);
    State current = state;
    if (current.byName.containsKey(name)) {
      throw new DuplicateAgentException("an agent named " + name + " exists already");
    }
    HostedAgent same = current.byDid.get(key.did());
    if (same != null) {
      throw new DuplicateAgentException("agent " + key.did() + " is hosted already, as " + same.name());
    }
    NewToken token = newToken(agent);
    commit(current.withAgent(agent).withToken(token.stored));
    return token.issued;
  }

  /** A further token for the agent named {@code agentName}. */
  public synchronized IssuedToken issueToken(String agentName) throws IOException {
    HostedAgent agent = agent(agentName).orElseThrow(() -> new NoSuchElementException("no agent named " + agentName));
    NewToken token = newToken(agent);
    commit(state.withToken(token.stored));
    return token.issued;
  }

  /** Revokes a token by its id; revoking a revoked token again changes nothing. */
  public synchronized ApiToken revokeToken(String id) throws IOException {
    StoredToken token = state.tokens.get(id);
    if (token == null) {
      throw new NoSuchElementException("no token " + id);
    }
    if (!token.revoked()) {
      token = new StoredToken(token.id(), token.agent(), token.hash(), token.created(), true);
      commit(state.withToken(token));
    }
    return token.view();
  }

  public List<HostedAgent> agents() {
    return List.copyOf(state.byName.values());
  }

  public Optional<HostedAgent> agent(String name) {
    return Optional.ofNullable(state.byName.get(name));
  }

  public Optional<HostedAgent> agent(DidKey did) {
    return Optional.ofNullable(state.byDid.get(did));
  }

  /** Every token ever issued, revoked ones too, oldest first. */
  public List<ApiToken> tokens() {
    return state.tokens.values().stream().map(StoredToken::view).toList();
  }

  /**
   * The agent {@code token} acts as, if it is a token this registry issued and has not revoked.
   * Looked up by its id; the secret's hash is compared in constant time, and an unknown id still
   * costs a hash and a comparison, so timing tells nothing about the secret.
   */
  public Optional<HostedAgent> authenticate(String token) {
    if (token == null || token.length() > MAX_TOKEN_LENGTH || !token.startsWith(TOKEN_PREFIX)) {
      return Optional.empty();
    }
    int separator = token.indexOf('_', TOKEN_PREFIX.length());
    if (separator < 0) {
      return Optional.empty();
    }
    State current = state;
    StoredToken stored = current.tokens.get(token.substring(TOKEN_PREFIX.length(), separator));
    byte[] presented = sha256(token.substring(separator + 1).getBytes(StandardCharsets.UTF_8));
    boolean matches = MessageDigest.isEqual(presented, stored == null ? UNKNOWN : stored.hash());
    if (!matches || stored == null || stored.revoked()) {
      return Optional.empty();
    }
    return Optional.ofNullable(current.byDid.get(stored.agent()));
  }

  /** Compared against when the id is unknown, so that path costs the same. */
  private static final byte[] UNKNOWN = new byte[32];

  // ---- tokens ----

  private record NewToken(IssuedToken issued, StoredToken stored) {}

  private NewToken newToken(HostedAgent agent) {
    String id;
    do {
      byte[] idBytes = new byte[ID_BYTES];
      random.nextBytes(idBytes);
      id = HexFormat.of().formatHex(idBytes);
    } while (state.tokens.containsKey(id));
    byte[] secretBytes = new byte[SECRET_BYTES];
    random.nextBytes(secretBytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
    StoredToken stored = new StoredToken(id, agent.did(), sha256(secret.getBytes(StandardCharsets.UTF_8)),
        System.currentTimeMillis(), false);
    return new NewToken(new IssuedToken(agent, id, TOKEN_PREFIX + id + "_" + secret), stored);
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  // ---- the file ----

  /** Writes {@code next} durably, then publishes it: a failed write changes nothing. */
  private void commit(State next) throws IOException {
    PrivateFiles.writeAtomically(file, encode(next));
    state = next;
  }

  static byte[] encode(State state) {
    List<Object> agents = new ArrayList<>();
    for (HostedAgent agent : state.byName.values()) {
      agents.add(Map.of("name", agent.name(), "did", agent.did().toString(), "seed", agent.key().seed(),
          "created", agent.created(), "admin", agent.admin()));
    }
    List<Object> tokens = new ArrayList<>();
    for (StoredToken token : state.tokens.values()) {
      tokens.add(Map.of("id", token.id(), "agent", token.agent().toString(), "hash", token.hash(),
          "created", token.created(), "revoked", token.revoked()));
    }
    byte[] content = DagCbor.encode(Map.of("agents", agents, "tokens", tokens));
    return DagCbor.encode(Map.of("v", VERSION, "content", content, "sha256", sha256(content)));
  }

  private static State decode(Path file, byte[] bytes) throws InvalidFormatException {
    try {
      Map<String, Object> outer = DagCbor.decodeMap(bytes);
      Object version = outer.get("v");
      if (version instanceof Long v && v > VERSION) {
        throw corrupt(file, "was written by a newer Mnemo (version " + v + "; this one reads up to " + VERSION + ")");
      }
      if (!Long.valueOf(VERSION).equals(version) || !outer.keySet().equals(Set.of("v", "content", "sha256"))) {
        throw corrupt(file, "is not an agents file of version " + VERSION);
      }
      if (!(outer.get("content") instanceof byte[] content) || !(outer.get("sha256") instanceof byte[] sum)
          || !MessageDigest.isEqual(sha256(content), sum)) {
        throw corrupt(file, "fails its checksum");
      }
      Map<String, Object> body = DagCbor.decodeMap(content);
      State state = State.EMPTY;
      for (Object item : list(body.get("agents"), file, "agents")) {
        Map<?, ?> a = map(item, file, "agent");
        if (!(a.get("seed") instanceof byte[] seed) || seed.length != 32 || !(a.get("name") instanceof String name)
            || !(a.get("created") instanceof Long created) || !(a.get("admin") instanceof Boolean admin)) {
          throw corrupt(file, "holds a malformed agent");
        }
        AgentKey key = AgentKey.fromSeed(seed);
        if (!key.did().toString().equals(a.get("did")) || !HostedAgent.isValidName(name)
            || state.byName.containsKey(name) || state.byDid.containsKey(key.did())) {
          throw corrupt(file, "holds an inconsistent agent " + a.get("did"));
        }
        state = state.withAgent(new HostedAgent(name, key, created, admin));
      }
      for (Object item : list(body.get("tokens"), file, "tokens")) {
        Map<?, ?> t = map(item, file, "token");
        if (!(t.get("id") instanceof String id) || !(t.get("agent") instanceof String agent)
            || !(t.get("hash") instanceof byte[] hash) || hash.length != 32
            || !(t.get("created") instanceof Long created) || !(t.get("revoked") instanceof Boolean revoked)) {
          throw corrupt(file, "holds a malformed token");
        }
        DidKey did = DidKey.parse(agent);
        if (!state.byDid.containsKey(did) || state.tokens.containsKey(id)) {
          throw corrupt(file, "holds token " + id + " of an unknown agent or twice");
        }
        state = state.withToken(new StoredToken(id, did, hash, created, revoked));
      }
      return state;
    } catch (InvalidFormatException e) {
      if (e.format().equals(FORMAT)) {
        throw e;
      }
      throw corrupt(file, "is corrupt: " + e.getMessage());
    }
  }

  private static List<?> list(Object value, Path file, String what) throws InvalidFormatException {
    if (!(value instanceof List<?> list)) {
      throw corrupt(file, "has no list of " + what);
    }
    return list;
  }

  private static Map<?, ?> map(Object value, Path file, String what) throws InvalidFormatException {
    if (!(value instanceof Map<?, ?> map)) {
      throw corrupt(file, "holds a " + what + " that is not a map");
    }
    return map;
  }

  private static InvalidFormatException corrupt(Path file, String what) {
    return new InvalidFormatException(FORMAT, file + " " + what + "; restore it from a backup (it holds the hosted agents' keys)");
  }

  private static void warnIfReadableByOthers(Path file) {
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
      if (permissions.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
        LOG.log(System.Logger.Level.WARNING, file + " holds agents' keys but is readable by others ("
            + java.nio.file.attribute.PosixFilePermissions.toString(permissions) + "); chmod 600 it");
      }
    } catch (IOException | UnsupportedOperationException e) {
      // not POSIX: nothing to check
    }
  }
}
