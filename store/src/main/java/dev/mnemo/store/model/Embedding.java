package dev.mnemo.store.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A memory's vector and the model that made it, stored in the memory block so replicas need not
 * re-embed. In IPLD: {@code {model, dim, vec}} with {@code vec} as little-endian float32 bytes
 * (4 bytes a dimension, a quarter of the size of a list of floats).
 */
public record Embedding(String model, float[] vector) {
  public static final int MAX_DIM = 4096;

  public Embedding {
    if (model == null || model.isEmpty() || model.length() > 256) {
      throw new IllegalArgumentException("embedding model name must be 1-256 characters");
    }
    if (vector == null || vector.length == 0 || vector.length > MAX_DIM) {
      throw new IllegalArgumentException("embedding must have 1-" + MAX_DIM + " dimensions");
    }
    for (float f : vector) {
      if (!Float.isFinite(f)) {
        throw new IllegalArgumentException("embedding holds NaN or Infinity");
      }
    }
    vector = vector.clone();
  }

  public int dim() {
    return vector.length;
  }

  @Override
  public float[] vector() {
    return vector.clone();
  }

  Map<String, Object> toIpld() {
    ByteBuffer buf = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(vector);
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("model", model);
    map.put("dim", (long) vector.length);
    map.put("vec", buf.array());
    return map;
  }

  static Embedding fromIpld(IpldFields fields) throws dev.mnemo.store.InvalidFormatException {
    String model = fields.string("model");
    long dim = fields.integer("dim");
    byte[] vec = fields.bytes("vec");
    if (dim < 1 || dim > MAX_DIM || vec.length != dim * 4) {
      throw fields.invalid("embedding dim " + dim + " does not match " + vec.length + " vector bytes");
    }
    float[] vector = new float[(int) dim];
    ByteBuffer.wrap(vec).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
    try {
      return new Embedding(model, vector);
    } catch (IllegalArgumentException e) {
      throw fields.invalid(e.getMessage());
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Embedding e && e.model.equals(model) && Arrays.equals(e.vector, vector);
  }

  @Override
  public int hashCode() {
    return model.hashCode() * 31 + Arrays.hashCode(vector);
  }

  @Override
  public String toString() {
    return "Embedding[" + model + ", dim=" + vector.length + "]";
  }
}
