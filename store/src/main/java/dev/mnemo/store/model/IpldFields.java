package dev.mnemo.store.model;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Typed reads of a decoded block's fields, each failure naming the block type and field. */
final class IpldFields {
  private final String format;
  private final Map<String, Object> map;

  IpldFields(String format, Map<String, Object> map, Set<String> allowed) throws InvalidFormatException {
    this.format = format;
    this.map = map;
    for (String key : map.keySet()) {
      if (!allowed.contains(key)) {
        throw new InvalidFormatException(format, "unknown field '" + key + "'");
      }
    }
  }

  void requireVersion(long version) throws InvalidFormatException {
    long v = integer("v");
    if (v != version) {
      throw new InvalidFormatException(format, "unsupported version " + v + " (this node reads " + version + ")");
    }
  }

  boolean has(String key) {
    return map.containsKey(key);
  }

  Object raw(String key) {
    return map.get(key);
  }

  String string(String key) throws InvalidFormatException {
    return typed(key, String.class, "string");
  }

  long integer(String key) throws InvalidFormatException {
    if (map.get(key) instanceof java.math.BigInteger) {
      throw new InvalidFormatException(format, "field '" + key + "' is outside the 64-bit signed integer range");
    }
    return typed(key, Long.class, "int");
  }

  byte[] bytes(String key) throws InvalidFormatException {
    return typed(key, byte[].class, "bytes");
  }

  Cid link(String key) throws InvalidFormatException {
    return typed(key, Cid.class, "link");
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> map(String key) throws InvalidFormatException {
    return typed(key, Map.class, "map");
  }

  List<Object> list(String key) throws InvalidFormatException {
    @SuppressWarnings("unchecked")
    List<Object> list = typed(key, List.class, "list");
    return list;
  }

  <T> List<T> listOf(String key, Class<T> type, String kind) throws InvalidFormatException {
    List<Object> list = list(key);
    for (Object item : list) {
      if (!type.isInstance(item)) {
        throw new InvalidFormatException(format, "field '" + key + "' must hold only " + kind + "s, found " + DagCbor.kind(item));
      }
    }
    @SuppressWarnings("unchecked")
    List<T> typed = (List<T>) list;
    return typed;
  }

  private <T> T typed(String key, Class<T> type, String kind) throws InvalidFormatException {
    Object value = map.get(key);
    if (value == null) {
      throw new InvalidFormatException(format, "missing field '" + key + "'");
    }
    if (!type.isInstance(value)) {
      throw new InvalidFormatException(format, "field '" + key + "' must be " + kind + ", found " + DagCbor.kind(value));
    }
    return type.cast(value);
  }

  InvalidFormatException invalid(String message) {
    return new InvalidFormatException(format, message);
  }
}
