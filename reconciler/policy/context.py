"""What the semantic checks need to know about the whole merged policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.model import DEFAULT_ROLES, Principal
from reconciler.permissions import DEFAULT_ROLE_PERMISSIONS
from reconciler.policy.document import Merged
from reconciler.policy.resolve import People, PrincipalRefError, accounts_of, parse_principal, person_account


@dataclass(frozen=True, slots=True)
class Context:
    """What the checks need to know about the whole policy."""

    merged: Merged
    accounts: People  # handle -> account id
    guests: frozenset[str]  # account ids of guests
    roles: Mapping[str, frozenset[str]]  # assignable role name -> permissions
    deleted: frozenset[str]  # custom roles set to none

    @classmethod
    def of(cls, merged: Merged) -> Context:
        roles = dict(DEFAULT_ROLE_PERMISSIONS)
        deleted = set()
        for name, entry in merged.roles.items():
            if isinstance(entry.value, str):  # none
                deleted.add(name)
            elif name not in DEFAULT_ROLES:
                roles[name] = frozenset(entry.value.permissions)
        guests = frozenset(person_account(e.value)[0] for e in merged.people.values()
                           if person_account(e.value)[1])
        return cls(merged, accounts_of(merged), guests, roles, frozenset(deleted))

    def principal(self, ref: str) -> Principal | None:
        try:
            return parse_principal(ref, self.accounts)
        except PrincipalRefError:
            return None


def role_permissions(ctx: Context, role: str) -> frozenset[str]:
    """The permissions of a default or custom role (empty for ``none`` and unknown roles)."""
    return ctx.roles.get(role, frozenset())
