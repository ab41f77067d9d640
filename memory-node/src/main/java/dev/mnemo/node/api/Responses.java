package dev.mnemo.node.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mnemo.node.Recalled;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.NamespaceAcl;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Memory;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** JSON shapes of responses; field names here are part of the API contract (README). */
final class Responses {
  private final ObjectMapper json;

  Responses(ObjectMapper json) {
    this.json = json;
  }

  ObjectNode object() {
    return json.createObjectNode();
  }

  ObjectNode memory(Cid cid, Memory memory) {
    ObjectNode node = object();
    node.put("cid", cid.toString());
    node.put("ns", memory.ns());
    node.put("text", memory.text());
    node.set("metadata", metadata(memory.metadata()));
    ArrayNode tags = node.putArray("tags");
    memory.tags().forEach(tags::add);
    node.put("ts", memory.ts());
    if (memory.prev() != null) {
      node.put("prev", memory.prev().toString());
    }
    if (memory.embedding() != null) {
      ObjectNode embedding = node.putObject("embedding");
      embedding.put("model", memory.embedding().model());
      embedding.put("dim", memory.embedding().dim());
    }
    return node;
  }

  /** A memory as {@link #memory(Cid, Memory)}, with its validity: validFrom, validTo, invalidatedAt where set. */
  ObjectNode memory(Cid cid, Memory memory, Long invalidatedAt) {
    return validity(memory(cid, memory), memory, invalidatedAt);
  }

  /**
   * Adds what the API says of when a memory's fact holds: its own {@code validFrom} and
   * {@code validTo}, and {@code invalidatedAt}, the earliest invalidate of it; each only when set.
   * It holds at t when validFrom <= t < min(validTo, invalidatedAt).
   */
  private static ObjectNode validity(ObjectNode node, Memory memory, Long invalidatedAt) {
    if (memory.validFrom() != null) {
      node.put("validFrom", memory.validFrom());
    }
    if (memory.validTo() != null) {
      node.put("validTo", memory.validTo());
    }
    if (invalidatedAt != null) {
      node.put("invalidatedAt", invalidatedAt);
    }
    return node;
  }

  ObjectNode metadata(Map<String, Object> metadata) {
    ObjectNode node = object();
    metadata.forEach((k, v) -> {
      switch (v) {
        case String s -> node.put(k, s);
        case Long l -> node.put(k, l);
        case Double d -> node.put(k, d);
        case Boolean b -> node.put(k, b);
        default -> node.put(k, String.valueOf(v));
      }
    });
    return node;
  }

  ObjectNode recalled(Recalled r) {
    ObjectNode node = object();
    node.put("cid", r.hit().cid().toString());
    node.put("text", r.memory().text());
    node.put("score", r.hit().score());
    ObjectNode scores = node.putObject("scores");
    if (r.hit().keyword() != null) {
      scores.put("keyword", r.hit().keyword());
    } else {
      scores.putNull("keyword");
    }
    if (r.hit().vector() != null) {
      scores.put("vector", r.hit().vector());
    } else {
      scores.putNull("vector");
    }
    node.set("metadata", metadata(r.memory().metadata()));
    ArrayNode tags = node.putArray("tags");
    r.memory().tags().forEach(tags::add);
    node.put("ts", r.memory().ts());
    if (r.supersededBy() != null) {
      node.put("superseded", !r.supersededBy().isEmpty());
      if (!r.supersededBy().isEmpty()) {
        node.set("supersededBy", strings(r.supersededBy().stream().sorted().toList()));
      }
    }
    return validity(node, r.memory(), r.invalidatedAt());
  }

  /** {@code {"entry": cid}}: the log entry a grant or revoke wrote. */
  ObjectNode entry(Cid entry) {
    ObjectNode node = object();
    node.put("entry", entry.toString());
    return node;
  }

  /** {@code {"ns", "owners": [did…], "grants": {did: [ability…]}}}, sorted so that equal ACLs read the same. */
  ObjectNode acl(NamespaceAcl acl) {
    ObjectNode node = object();
    node.put("ns", acl.ns());
    ArrayNode owners = node.putArray("owners");
    acl.owners().stream().map(DidKey::toString).sorted().forEach(owners::add);
    ObjectNode grants = node.putObject("grants");
    new java.util.TreeMap<String, Set<Ability>>(acl.grants().entrySet().stream()
        .collect(java.util.stream.Collectors.toMap(e -> e.getKey().toString(), Map.Entry::getValue)))
        .forEach((did, abilities) -> {
          ArrayNode list = grants.putArray(did);
          Ability.wireList(abilities).forEach(list::add);
        });
    return node;
  }

  ObjectNode error(String code, String message) {
    ObjectNode node = object();
    ObjectNode error = node.putObject("error");
    error.put("code", code);
    error.put("message", message);
    return node;
  }

  ArrayNode strings(List<?> values) {
    ArrayNode array = json.createArrayNode();
    values.forEach(v -> array.add(String.valueOf(v)));
    return array;
  }
}
