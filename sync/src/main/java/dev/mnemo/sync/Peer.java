package dev.mnemo.sync;

import java.util.Set;

/**
 * Another node as membership sees it: its member id, the HTTP base URL it serves blocks on, and
 * the namespaces it replicates ({@link #ALL} for every namespace).
 */
public record Peer(String id, String http, Set<String> namespaces) {
  public static final String ALL = "*";

  public boolean replicates(String ns) {
    return namespaces.contains(ALL) || namespaces.contains(ns);
  }
}
