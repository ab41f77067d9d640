package dev.mnemo.store.model;

/** What a log entry does to the memories it references. */
public enum Op {
  ADD("add"),
  FORGET("forget");

  private final String wire;

  Op(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static Op fromWire(String wire) {
    for (Op op : values()) {
      if (op.wire.equals(wire)) {
        return op;
      }
    }
    throw new IllegalArgumentException("unknown op '" + wire + "'");
  }
}
