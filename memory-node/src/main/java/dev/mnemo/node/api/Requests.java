package dev.mnemo.node.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mnemo.index.RecallFilter;
import dev.mnemo.index.RecallMode;
import dev.mnemo.index.RecallQuery;
import dev.mnemo.node.EmbedContext;
import dev.mnemo.node.ListRequest;
import dev.mnemo.node.NewMemory;
import dev.mnemo.node.RecallRequest;
import dev.mnemo.node.RememberRequest;
import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.DidKey;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns request bodies into validated values, or an {@link ApiException} that says exactly which
 * field is wrong. Parsing is strict: unknown fields, duplicate keys, wrong types and values over a
 * documented limit are all refused before anything is written.
 */
public final class Requests {
  private static final Set<String> MEMORY_FIELDS = Set.of("text", "metadata", "tags", "vector", "ts", "prev",
      "validFrom", "validTo", "embedContext");
  private static final Set<String> SINGLE_MEMORY_FIELDS = Set.of("text", "metadata", "tags", "vector", "ts", "prev",
      "validFrom", "validTo", "embedContext", "dedup");
  private static final Set<String> BATCH_FIELDS = Set.of("memories", "dedup");
  private static final Set<String> RECALL_FIELDS = Set.of("query", "vector", "k", "mode", "filter", "recency",
      "includeSuperseded", "fusion");
  private static final Set<String> FILTER_FIELDS = Set.of("metadata", "tags", "after", "before", "validAt");
  private static final Set<String> RECENCY_FIELDS = Set.of("weight", "halfLifeDays");
  private static final Set<String> FUSION_FIELDS = Set.of("keyword", "context", "depth");
  private static final Set<String> ACL_CHANGE_FIELDS = Set.of("to", "can");
  private static final String ABILITIES = String.join(", ", java.util.Arrays.stream(Ability.values()).map(Ability::wire).toList());

  private final Limits limits;
  private final int dimension;
  private final ObjectMapper json;

  public Requests(Limits limits, int dimension) {
    this.limits = limits;
    this.dimension = dimension;
    this.json = JsonMapper.builder()
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        // "{...} {...}" or "{...} garbage" is malformed, not a request to ignore the rest.
        .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        // Vectors are hundreds of decimal numbers a memory: with the JDK's parseDouble they were
        // a quarter of the CPU of an ingest with client vectors (profiled).
        .enable(com.fasterxml.jackson.core.StreamReadFeature.USE_FAST_DOUBLE_PARSER)
        .build();
    json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
        .maxNestingDepth(limits.maxJsonDepth())
        .maxStringLength(limits.maxBodyBytes())
        .build());
  }

  public ObjectMapper mapper() {
    return json;
  }

  public ObjectNode parseObject(byte[] body) {
    if (body == null || body.length == 0) {
      throw ApiException.badRequest("invalid_json", "the request body is empty; send a JSON object");
    }
    String notUtf8 = StrictUtf8.problem(body);
    if (notUtf8 != null) {
      throw ApiException.badRequest("invalid_utf8", notUtf8);
    }
    JsonNode node;
    try {
      node = json.readTree(body);
    } catch (StreamConstraintsException e) {
      throw ApiException.badRequest("invalid_json", "JSON nested deeper than " + limits.maxJsonDepth() + " levels or too large");
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest("invalid_json", "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw ApiException.badRequest("invalid_json", "unreadable JSON: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw ApiException.badRequest("invalid_json", "the request body must be a JSON object");
    }
    return (ObjectNode) node;
  }

  /** A remember body: one memory, or {@code {"memories": [...]}}. */
  public List<NewMemory> memories(ObjectNode body) {
    if (body.has("memories")) {
      onlyFields(body, BATCH_FIELDS, "");
      JsonNode list = body.get("memories");
      if (!list.isArray() || list.isEmpty()) {
        throw invalid("\"memories\" must be a non-empty array");
      }
      if (list.size() > limits.maxBatch()) {
        throw new ApiException(422, "batch_too_large", "a batch holds at most " + limits.maxBatch() + " memories, got " + list.size());
      }
      List<NewMemory> out = new ArrayList<>(list.size());
      for (int i = 0; i < list.size(); i++) {
        if (!list.get(i).isObject()) {
          throw invalid("memories[" + i + "] must be an object");
        }
        out.add(memory((ObjectNode) list.get(i), "memories[" + i + "].", MEMORY_FIELDS));
      }
      return out;
    }
    return List.of(memory(body, "", SINGLE_MEMORY_FIELDS));
  }

  /** A remember body's {@code dedup} ("exact", "near" or "none"), for the whole request; null when absent. */
  public RememberRequest.Dedup dedup(ObjectNode body) {
    JsonNode dedup = body.get("dedup");
    if (dedup == null) {
      return null;
    }
    try {
      if (dedup.isTextual()) {
        return RememberRequest.Dedup.parse(dedup.asText());
      }
    } catch (IllegalArgumentException e) {
      // said below
    }
    throw invalid("dedup must be \"exact\", \"near\" or \"none\"");
  }

  private NewMemory memory(ObjectNode node, String at, Set<String> fields) {
    onlyFields(node, fields, at);
    JsonNode text = node.get("text");
    if (text == null || !text.isTextual()) {
      throw invalid(at + "text is required and must be a string");
    }
    if (text.asText().isBlank()) {
      throw invalid(at + "text must not be blank");
    }
    requireUnicode(text.asText(), at + "text");
    if (text.asText().length() > limits.maxTextChars()) {
      throw new ApiException(422, "text_too_long", at + "text has " + text.asText().length()
          + " characters; the limit is " + limits.maxTextChars());
    }
    Map<String, Object> metadata = metadata(node.get("metadata"), at + "metadata");
    List<String> tags = tags(node.get("tags"), at + "tags");
    float[] vector = node.has("vector") ? vector(node.get("vector"), at + "vector") : null;
    Long ts = null;
    if (node.has("ts")) {
      if (!node.get("ts").isIntegralNumber() || !node.get("ts").canConvertToLong() || node.get("ts").asLong() < 0) {
        throw invalid(at + "ts must be a non-negative integer (epoch milliseconds)");
      }
      ts = node.get("ts").asLong();
    }
    Cid prev = node.has("prev") ? cid(node.get("prev"), at + "prev") : null;
    Long validFrom = instant(node.get("validFrom"), at + "validFrom");
    Long validTo = instant(node.get("validTo"), at + "validTo");
    if (validFrom != null && validTo != null && validFrom >= validTo) {
      throw invalid(at + "validFrom must be before validTo (the fact holds from validFrom up to, not including, validTo)");
    }
    EmbedContext context = node.hasNonNull("embedContext") ? embedContext(node.get("embedContext"), vector != null, at + "embedContext") : null;
    return new NewMemory(text.asText(), metadata, tags, vector, ts, prev, validFrom, validTo, context);
  }

  /**
   * A time in the world (validFrom, validTo, validAt, an invalidate's at): epoch milliseconds, an
   * integer as {@code ts} is, or an ISO-8601 instant string ({@code 2024-03-02T10:00:00Z}, an
   * offset such as {@code +01:00} allowed). Null when absent.
   */
  static Long instant(JsonNode node, String at) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isIntegralNumber()) {
      if (!node.canConvertToLong()) {
        throw invalid(at + " is outside the 64-bit range of epoch milliseconds");
      }
      return node.asLong();
    }
    if (node.isTextual()) {
      try {
        return java.time.Instant.parse(node.asText()).toEpochMilli();
      } catch (java.time.format.DateTimeParseException | ArithmeticException e) {
        throw invalid(at + " is not an ISO-8601 instant such as 2024-03-02T10:00:00Z: \"" + node.asText() + "\"");
      }
    }
    throw invalid(at + " must be epoch milliseconds (an integer) or an ISO-8601 instant string");
  }

  /** An invalidate's body: none, or {@code {"at": time}} (absent: now). */
  public Long invalidation(byte[] body) {
    if (body == null || body.length == 0) {
      return null;
    }
    ObjectNode node = parseObject(body);
    onlyFields(node, Set.of("at"), "");
    return instant(node.get("at"), "at");

  }

  /** Distinct metadata keys; {@code []} embeds the text alone whatever the node's default. */
  private EmbedContext embedContext(JsonNode node, boolean hasVector, String at) {
    if (hasVector) {
      throw invalid(at + " applies only to text the node embeds; this memory brings its vector");
    }
    if (!node.isArray() || node.size() > limits.maxMetadataKeys()) {
      throw invalid(at + " must be an array of at most " + limits.maxMetadataKeys() + " metadata keys");
    }
    List<String> keys = new ArrayList<>(node.size());
    for (JsonNode key : node) {
      if (!key.isTextual()) {
        throw invalid(at + " must hold metadata key strings");
      }
      requireMetadataKey(key.asText(), at);
      if (keys.contains(key.asText())) {
        throw invalid(at + " repeats " + key.asText());
      }
      keys.add(key.asText());
    }
    return new EmbedContext(keys);
  }

  private Map<String, Object> metadata(JsonNode node, String at) {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw invalid(at + " must be an object of string, number or boolean values");
    }
    if (node.size() > limits.maxMetadataKeys()) {
      throw invalid(at + " has " + node.size() + " keys; the limit is " + limits.maxMetadataKeys());
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      requireMetadataKey(key, at);
      out.put(key, scalar(e.getValue(), at + "." + key));
    }
    return out;
  }

  /**
   * Refuses a string holding half a surrogate pair, which JSON can write ({@code "\ud800"}) but
   * UTF-8, and so a stored block, cannot: it failed deep in the encoder, as a 500.
   */
  static void requireUnicode(String s, String at) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw invalid(at + " holds a lone surrogate (\\u" + Integer.toHexString(c)
            + " without its pair), which is not Unicode text");
      }
    }
  }

  /** '#' marks the index's own fields for numbers and booleans ({@code key#n}), so keys may not hold it. */
  private void requireMetadataKey(String key, String at) {
    requireUnicode(key, at + " key");
    if (key.isEmpty() || key.length() > limits.maxKeyChars()) {
      throw invalid(at + " keys must be 1-" + limits.maxKeyChars() + " characters");
    }
    if (key.indexOf('#') >= 0) {
      throw invalid(at + " keys may not contain '#' (" + key + ")");
    }
  }

  private Object scalar(JsonNode value, String at) {
    if (value.isTextual()) {
      if (value.asText().length() > limits.maxValueChars()) {
        throw invalid(at + " is longer than " + limits.maxValueChars() + " characters");
      }
      requireUnicode(value.asText(), at);
      return value.asText();
    }
    if (value.isBoolean()) {
      return value.asBoolean();
    }
    if (value.isIntegralNumber()) {
      if (!value.canConvertToLong()) {
        throw invalid(at + " is outside the 64-bit integer range");
      }
      return value.asLong();
    }
    if (value.isNumber()) {
      double d = value.asDouble();
      if (!Double.isFinite(d)) {
        throw invalid(at + " must be a finite number");
      }
      return wholeAsInteger(d);
    }
    throw invalid(at + " must be a string, number or boolean");
  }

  /** 2^53 - 1: every whole number up to it is exact in a double, and JavaScript calls it safe. */
  static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

  /**
   * A JSON number written with a fraction or exponent ({@code 5.0}, {@code 1e3}) whose value is
   * whole and within +-(2^53 - 1) becomes an integer ({@code -0.0} becomes 0); any other stays a
   * double. JSON does not tell 5.0 from 5, and JavaScript cannot: {@code JSON.parse} gives the
   * number 5, which @ipld/dag-cbor encodes as a CBOR integer. Stored as a float, the block had a
   * CID no JavaScript client could compute from what it sent, and a JavaScript IPLD tool that
   * decoded and re-encoded it got another CID. Past 2^53 that codec writes whole numbers as
   * floats too, hence the bound. Blocks already stored keep their floats (and CIDs): this shapes
   * only what a request writes.
   */
  static Object wholeAsInteger(double d) {
    if (d == Math.rint(d) && Math.abs(d) <= MAX_SAFE_INTEGER) {
      return (long) d;
    }
    return d;
  }

  private List<String> tags(JsonNode node, String at) {
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw invalid(at + " must be an array of strings");
    }
    if (node.size() > limits.maxTags()) {
      throw invalid(at + " has " + node.size() + " tags; the limit is " + limits.maxTags());
    }
    List<String> out = new ArrayList<>();
    for (JsonNode tag : node) {
      if (!tag.isTextual() || tag.asText().isEmpty() || tag.asText().length() > limits.maxTagChars()) {
        throw invalid(at + " must hold strings of 1-" + limits.maxTagChars() + " characters");
      }
      requireUnicode(tag.asText(), at);
      out.add(tag.asText());
    }
    return out;
  }

  /**
   * A vector of the node's dimension, finite, not all zero: an array of numbers, or a string of
   * base64 little-endian float32 (what OpenAI's embeddings API returns with
   * {@code encoding_format: "base64"}), which is a third of the size and far cheaper to parse than
   * decimal numbers.
   */
  public float[] vector(JsonNode node, String at) {
    float[] out = node.isTextual() ? base64Vector(node.asText(), at) : arrayVector(node, at);
    boolean nonZero = false;
    for (int i = 0; i < out.length; i++) {
      if (!Float.isFinite(out[i])) {
        throw new ApiException(422, "invalid_vector", at + "[" + i + "] is not a finite 32-bit float");
      }
      nonZero |= out[i] != 0;
    }
    if (!nonZero) {
      throw new ApiException(422, "invalid_vector", at + " is all zeros and has no direction");
    }
    return out;
  }

  private float[] arrayVector(JsonNode node, String at) {
    if (!node.isArray()) {
      throw new ApiException(422, "invalid_vector", at + " must be an array of numbers or a base64 string of float32");
    }
    if (node.size() != dimension) {
      throw new ApiException(422, "invalid_vector", at + " has " + node.size() + " dimensions; this node uses " + dimension);
    }
    float[] out = new float[dimension];
    for (int i = 0; i < dimension; i++) {
      JsonNode v = node.get(i);
      if (!v.isNumber()) {
        throw new ApiException(422, "invalid_vector", at + "[" + i + "] is not a number");
      }
      out[i] = (float) v.asDouble();
    }
    return out;
  }

  private float[] base64Vector(String text, String at) {
    byte[] bytes;
    try {
      bytes = java.util.Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new ApiException(422, "invalid_vector", at + " is neither an array of numbers nor valid base64");
    }
    if (bytes.length != dimension * Float.BYTES) {
      throw new ApiException(422, "invalid_vector", at + " holds " + bytes.length + " bytes of base64 float32; this node uses "
          + dimension + " dimensions (" + dimension * Float.BYTES + " bytes)");
    }
    float[] out = new float[dimension];
    java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  public static Cid cid(JsonNode node, String at) {
    if (!node.isTextual()) {
      throw invalid(at + " must be a CID string");
    }
    return cid(node.asText());
  }

  public static Cid cid(String text) {
    try {
      return Cid.parse(text);
    } catch (InvalidFormatException e) {
      throw ApiException.badRequest("invalid_cid", e.getMessage());
    }
  }

  /** A grant or revoke body: who, and which abilities. */
  public record AclChange(DidKey to, Set<Ability> can) {}

  /** {@code {"to": "did:key:…", "can": ["remember", …]}}: a known did and at least one ability, none twice. */
  public AclChange aclChange(ObjectNode body) {
    onlyFields(body, ACL_CHANGE_FIELDS, "");
    JsonNode to = body.get("to");
    if (to == null || !to.isTextual()) {
      throw invalid("to is required and must be a did:key string");
    }
    DidKey did;
    try {
      did = DidKey.parse(to.asText());
    } catch (InvalidFormatException e) {
      throw invalid("to is not a did:key: " + e.getMessage());
    }
    JsonNode can = body.get("can");
    if (can == null || !can.isArray() || can.isEmpty()) {
      throw invalid("can is required and must be a non-empty array of abilities (" + ABILITIES + ")");
    }
    Set<Ability> abilities = EnumSet.noneOf(Ability.class);
    for (int i = 0; i < can.size(); i++) {
      JsonNode name = can.get(i);
      Ability ability = null;
      if (name.isTextual()) {
        try {
          ability = Ability.fromWire(name.asText());
        } catch (IllegalArgumentException e) {
          // said below
        }
      }
      if (ability == null) {
        throw invalid("can[" + i + "] is not an ability (" + ABILITIES + ")");
      }
      if (!abilities.add(ability)) {
        throw invalid("can[" + i + "] repeats " + ability.wire());
      }
    }
    return new AclChange(did, Set.copyOf(abilities));
  }

  /** A list call's query parameters; {@code limit} absent means 100. */
  public ListRequest list(String ns, String cursor, String limit) {
    if (limit == null) {
      return new ListRequest(ns, cursor, 100);
    }
    int n;
    try {
      n = Integer.parseInt(limit);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 1 || n > limits.maxListLimit()) {
      throw ApiException.badRequest("invalid_limit", "limit must be an integer from 1 to " + limits.maxListLimit());
    }
    return new ListRequest(ns, cursor, n);
  }

  /**
   * A recall body, validated and nothing more: a query whose text is to be embedded comes back
   * without a vector ({@link RecallRequest#needsEmbedding}), and the service embeds it.
   */
  public RecallRequest recall(String ns, ObjectNode body) {
    onlyFields(body, RECALL_FIELDS, "");
    String text = null;
    if (body.has("query")) {
      if (!body.get("query").isTextual() || body.get("query").asText().isBlank()) {
        throw invalid("query must be a non-blank string");
      }
      text = body.get("query").asText();
      requireUnicode(text, "query");
      if (text.length() > limits.maxTextChars()) {
        throw new ApiException(422, "text_too_long", "query is longer than " + limits.maxTextChars() + " characters");
      }
    }
    float[] vector = body.has("vector") ? vector(body.get("vector"), "vector") : null;
    if (text == null && vector == null) {
      throw invalid("send \"query\" text, a \"vector\", or both");
    }
    RecallMode mode;
    if (body.has("mode")) {
      if (!body.get("mode").isTextual()) {
        throw invalid("mode must be \"keyword\", \"vector\" or \"hybrid\"");
      }
      try {
        mode = RecallMode.parse(body.get("mode").asText());
      } catch (IllegalArgumentException e) {
        throw invalid(e.getMessage());
      }
    } else {
      mode = text == null ? RecallMode.VECTOR : RecallMode.HYBRID;
    }
    if (mode == RecallMode.KEYWORD && text == null) {
      throw invalid("keyword recall needs \"query\" text");
    }
    int k = 10;
    if (body.has("k")) {
      JsonNode kn = body.get("k");
      if (!kn.isIntegralNumber() || !kn.canConvertToInt() || kn.asInt() < 1 || kn.asInt() > limits.maxK()) {
        throw invalid("k must be an integer from 1 to " + limits.maxK());
      }
      k = kn.asInt();
    }
    RecallFilter filter = filter(body.get("filter"));
    boolean includeSuperseded = false;
    if (body.has("includeSuperseded")) {
      if (!body.get("includeSuperseded").isBoolean()) {
        throw invalid("includeSuperseded must be true or false");
      }
      includeSuperseded = body.get("includeSuperseded").asBoolean();
    }
    double weight = 0;
    long halfLife = RecallQuery.DEFAULT_HALF_LIFE;
    if (body.has("recency")) {
      JsonNode r = body.get("recency");
      if (!r.isObject()) {
        throw invalid("recency must be an object {\"weight\", \"halfLifeDays\"}");
      }
      onlyFields((ObjectNode) r, RECENCY_FIELDS, "recency.");
      if (r.has("weight")) {
        if (!r.get("weight").isNumber() || r.get("weight").asDouble() < 0 || r.get("weight").asDouble() > 1) {
          throw invalid("recency.weight must be a number from 0 to 1");
        }
        weight = r.get("weight").asDouble();
      }
      if (r.has("halfLifeDays")) {
        if (!r.get("halfLifeDays").isNumber() || !(r.get("halfLifeDays").asDouble() > 0)) {
          throw invalid("recency.halfLifeDays must be a positive number");
        }
        halfLife = (long) (r.get("halfLifeDays").asDouble() * 24 * 3600 * 1000);
      }
    }
    return new RecallRequest(ns, text, vector, k, mode, filter, weight, Math.max(halfLife, 1), fusion(body.get("fusion")),
        includeSuperseded);
  }

  /** The recall's own fusion settings, each absent one left to the node's configuration. */
  private RecallRequest.FusionChoice fusion(JsonNode node) {
    if (node == null) {
      return RecallRequest.FusionChoice.NODE_DEFAULTS;
    }
    if (!node.isObject()) {
      throw invalid("fusion must be an object {\"keyword\", \"context\", \"depth\"}");
    }
    onlyFields((ObjectNode) node, FUSION_FIELDS, "fusion.");
    return new RecallRequest.FusionChoice(share(node, "keyword"), share(node, "context"), depth(node));
  }

  private Double share(JsonNode fusion, String field) {
    if (!fusion.has(field)) {
      return null;
    }
    JsonNode n = fusion.get(field);
    if (!n.isNumber() || !(n.asDouble() >= 0 && n.asDouble() <= 1)) {
      throw invalid("fusion." + field + " must be a number from 0 to 1");
    }
    return n.asDouble();
  }

  private Integer depth(JsonNode fusion) {
    if (!fusion.has("depth")) {
      return null;
    }
    JsonNode n = fusion.get("depth");
    if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1 || n.asInt() > dev.mnemo.index.Fusion.MAX_DEPTH) {
      throw invalid("fusion.depth must be an integer from 1 to " + dev.mnemo.index.Fusion.MAX_DEPTH);
    }
    return n.asInt();
  }

  private RecallFilter filter(JsonNode node) {
    if (node == null || node.isNull()) {
      return RecallFilter.NONE;
    }
    if (!node.isObject()) {
      throw invalid("filter must be an object");
    }
    onlyFields((ObjectNode) node, FILTER_FIELDS, "filter.");
    Map<String, Object> equals = new LinkedHashMap<>();
    Map<String, RecallFilter.NumericRange> ranges = new LinkedHashMap<>();
    JsonNode metadata = node.get("metadata");
    if (metadata != null) {
      if (!metadata.isObject()) {
        throw invalid("filter.metadata must be an object");
      }
      // A memory holds at most this many keys, so a filter on more matches nothing anyway; and
      // each key is a clause of the search, of which Lucene takes at most 1,024.
      if (metadata.size() > limits.maxMetadataKeys()) {
        throw invalid("filter.metadata has " + metadata.size() + " keys; the limit is " + limits.maxMetadataKeys());
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = metadata.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        requireMetadataKey(e.getKey(), "filter.metadata");
        if (e.getValue().isObject()) {
          ranges.put(e.getKey(), range((ObjectNode) e.getValue(), "filter.metadata." + e.getKey()));
        } else {
          equals.put(e.getKey(), scalar(e.getValue(), "filter.metadata." + e.getKey()));
        }
      }
    }
    List<String> tags = tags(node.get("tags"), "filter.tags");
    Long after = time(node.get("after"), "filter.after");
    Long before = time(node.get("before"), "filter.before");
    Long validAt = instant(node.get("validAt"), "filter.validAt");
    return new RecallFilter(equals, ranges, tags, after, before, validAt);
  }

  private static RecallFilter.NumericRange range(ObjectNode node, String at) {
    onlyFields(node, Set.of("gte", "lte"), at + ".");
    Double gte = null;
    Double lte = null;
    for (String bound : List.of("gte", "lte")) {
      JsonNode v = node.get(bound);
      if (v == null) {
        continue;
      }
      if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
        throw invalid(at + "." + bound + " must be a finite number");
      }
      if (bound.equals("gte")) {
        gte = v.asDouble();
      } else {
        lte = v.asDouble();
      }
    }
    if (gte == null && lte == null) {
      throw invalid(at + " must have \"gte\" and/or \"lte\"");
    }
    return new RecallFilter.NumericRange(gte, lte);
  }

  private static Long time(JsonNode node, String at) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw invalid(at + " must be an integer (epoch milliseconds)");
    }
    return node.asLong();
  }

  private static void onlyFields(ObjectNode node, Set<String> allowed, String at) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!allowed.contains(name)) {
        throw invalid("unknown field \"" + at + name + "\"; allowed: " + new java.util.TreeSet<>(allowed));
      }
    }
  }

  private static ApiException invalid(String message) {
    return ApiException.unprocessable("validation_failed", message);
  }
}
