"""Write space permissions on a Data Center site.

REST (9.1+): ``set_access`` sends the complete desired set of each changed subject in declarative POSTs of
at most 40 subjects (DC-1000), an emptied subject as ``"operations": []``; ``grant``/``revoke`` (additive
authority) use ``PUT …/grant|revoke``, except for groups whose name holds a '/', which never go into a path
(ONYX) and are written by POST with the name in the body. ``read/space`` is always kept with any other
permission (A.8; the UI requires View). JSON-RPC (only when allowed): add what is missing, remove what is
extra, one call per subject and per removed permission (A.11: not declarative).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.datacenter import wire
from reconciler.datacenter.read import ANONYMOUS, DcReader
from reconciler.errors import NotFoundError
from reconciler.model import READ_SPACE, Principal, PrincipalKind


def with_read(ops: Iterable[str]) -> frozenset[str]:
    held = frozenset(ops)
    return held | {READ_SPACE} if held else held


class DcWriter:
    def __init__(self, reader: DcReader) -> None:
        self.reader = reader
        self.client = reader.client

    # ------------------------------------------------------------------------------------ declarative
    def set_access(self, space: str, desired: Mapping[Principal, frozenset[str]]) -> None:
        """Each listed principal ends with exactly its set (empty: no access); others are untouched."""
        if not desired:
            return
        if not self.reader.uses_rest:
            self._rpc_set(space, desired)
            return
        entries = [wire.post_entry(self._subject(p, space), with_read(ops))
                   for p, ops in sorted(desired.items(), key=lambda item: item[0].ref)]
        for start in range(0, len(entries), wire.MAX_SUBJECTS_PER_POST):
            chunk = entries[start:start + wire.MAX_SUBJECTS_PER_POST]
            self.client.post_json(wire.permissions_path(space), chunk, space=space)

    # ------------------------------------------------------------------------------------ additive
    def grant(self, space: str, principal: Principal, ops: frozenset[str]) -> None:
        self._change(space, principal, ops, "grant")

    def revoke(self, space: str, principal: Principal, ops: frozenset[str]) -> None:
        self._change(space, principal, ops, "revoke")

    def _change(self, space: str, principal: Principal, ops: frozenset[str], verb: str) -> None:
        if not ops:
            return
        if not self.reader.uses_rest:
            current = self.reader.space_access(space).get(principal, frozenset())
            after = with_read(current | ops) if verb == "grant" else current - ops
            self._rpc_set(space, {principal: after})
            return
        subject = self._subject(principal, space)
        path = wire.grant_path(space, subject, verb)
        if path is None:  # a '/' in a group name: POST the whole set with the name in the body
            current = self.reader.space_access(space).get(principal, frozenset())
            after = with_read(current | ops) if verb == "grant" else current - ops
            body = [wire.post_entry(subject, after)]
            self.client.post_json(wire.permissions_path(space), body, space=space)
            return
        sent = with_read(ops) if verb == "grant" else ops
        self.client.put_json(path, [wire.operation(op) for op in sorted(sent)], space=space)

    # ------------------------------------------------------------------------------------ JSON-RPC
    def _rpc_set(self, space: str, desired: Mapping[Principal, frozenset[str]]) -> None:
        live = self.reader.space_access(space)
        for principal, wanted in sorted(desired.items(), key=lambda item: item[0].ref):
            target = with_read(wanted)
            have = live.get(principal, frozenset())
            add = sorted(wire.RPC_NAMES[op] for op in target - have)
            remove = sorted(wire.RPC_NAMES[op] for op in have - target)
            anonymous = principal == ANONYMOUS
            if add:
                if anonymous:
                    self.reader.rpc("addAnonymousPermissionsToSpace", [add, space], space=space)
                else:
                    self.reader.rpc("addPermissionsToSpace", [add, principal.id, space], space=space)
            for name in remove:
                if anonymous:
                    self.reader.rpc("removeAnonymousPermissionFromSpace", [name, space], space=space)
                else:
                    self.reader.rpc("removePermissionFromSpace", [name, principal.id, space], space=space)

    # ------------------------------------------------------------------------------------ subjects
    def _subject(self, principal: Principal, space: str) -> dict[str, str]:
        """``{"userKey"}``, ``{"groupName"}`` or ``{}`` (anonymous) for a POST entry or a path."""
        if principal == ANONYMOUS:
            return {}
        if principal.kind is PrincipalKind.GROUP:
            return {"groupName": principal.id}
        if principal.kind is PrincipalKind.USER:
            if principal.id.startswith("key:"):
                return {"userKey": principal.id.removeprefix("key:")}
            key = self.reader.user_key_for(principal.id)
            if key is None:
                detail = f"no user with username '{principal.id}' on the site"
                raise NotFoundError("GET", wire.USER, 404, detail, space=space)
            return {"userKey": key}
        raise NotFoundError("POST", wire.permissions_path(space), None,
                            f"{principal.ref} has no Data Center equivalent", space=space)
