package dev.mnemo.node.auth;

import dev.mnemo.store.identity.DidKey;

/**
 * What may be shown of an API token: never its secret, nor the secret's hash.
 *
 * @param id the public part of the token ({@code mnemo_<id>_<secret>})
 * @param agent the did of the agent the token acts as
 * @param created epoch milliseconds
 */
public record ApiToken(String id, DidKey agent, long created, boolean revoked) {}
