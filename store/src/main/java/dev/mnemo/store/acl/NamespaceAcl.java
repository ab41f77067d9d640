package dev.mnemo.store.acl;

import dev.mnemo.store.identity.DidKey;
import java.util.Map;
import java.util.Set;

/**
 * Who may do what in one namespace, as of the entries this node holds (its heads' causal past,
 * with revoke-wins applied). A namespace with no entries here has no owner and grants nothing.
 *
 * @param owners the authors of the namespace's root entry (one, except for namespaces written
 *     before authorization existed, whose several roots each name one)
 * @param grants every holder's abilities that are in force, owners left out: each ability it holds
 *     is listed, also those an admin grant gives it (admin implies every ability, but a revoke of
 *     one ability takes that one from an admin too, so the implied ones are spelled out)
 */
public record NamespaceAcl(String ns, Set<DidKey> owners, Map<DidKey, Set<Ability>> grants) {
  public NamespaceAcl {
    owners = Set.copyOf(owners);
    grants = Map.copyOf(grants);
  }

  public static NamespaceAcl empty(String ns) {
    return new NamespaceAcl(ns, Set.of(), Map.of());
  }

  /** Whether the namespace exists on this node (it has a root entry). */
  public boolean exists() {
    return !owners.isEmpty();
  }

  public boolean isOwner(DidKey who) {
    return owners.contains(who);
  }

  /** Whether {@code who} holds {@code ability}: as an owner, or as {@link #grants()} lists it (admin's implied abilities included). */
  public boolean can(DidKey who, Ability ability) {
    return owners.contains(who) || grants.getOrDefault(who, Set.of()).contains(ability);
  }
}
