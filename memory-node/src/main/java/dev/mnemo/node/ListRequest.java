package dev.mnemo.node;

/** A page of a namespace's live memories, from {@code cursor} (null: the first page) on. */
public record ListRequest(String ns, String cursor, int limit) {}
