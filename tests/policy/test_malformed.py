"""Malformed policies: each case is a small policy directory and the WHOLE list of messages it must give.

Every case starts from a minimal valid base (``p/site.yaml``, ``p/people.yaml``: people ``bot``, ``ann``
and the guest ``gus``) and adds or replaces files. Messages are ``file:line:column: path: message``.
"""
# ruff: noqa: E501 - expected messages are compared whole, one per line

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconciler.errors import PolicyError
from reconciler.policy.loader import load_policy_with_warnings

from .conftest import write_policy

TODAY = dt.date(2026, 11, 23)
BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
OVER_1_MIB = "# " + "x" * (1024 * 1024) + "\n"
ELEVEN_ROLES = "roles:\n" + "".join(f"  R{i}: {{permissions: [read/space]}}\n" for i in range(11))

CASES = [
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      user:ann: Viewer\n      user:ann: Admin\n'},
        [
            "p/spaces/ENG.yaml:5:7: duplicate key 'user:ann' (first at line 4)",
        ],
        id='duplicate key in one mapping',
    ),
    pytest.param(
        {'roles.yaml': b'roles:\n  Caf\xe9: {permissions: [read/space]}\n'},
        [
            'p/roles.yaml:2:6: not valid UTF-8 (byte 0xe9); save the file as UTF-8',
        ],
        id='bytes that are not UTF-8',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n\tR: {permissions: [read/space]}\n'},
        [
            'p/roles.yaml:2:1: tab character in indentation; indent with spaces',
        ],
        id='tab indentation',
    ),
    pytest.param(
        {'roles.yaml': '- roles\n- spaces\n'},
        [
            'p/roles.yaml:1:1: expected a mapping of top-level keys (version, site, safety, people, roles, defaults, spaces, data_security, guests, drift), got a list',
        ],
        id='top-level list',
    ),
    pytest.param(
        {'roles.yaml': 'just some text\n'},
        [
            'p/roles.yaml:1:1: expected a mapping of top-level keys (version, site, safety, people, roles, defaults, spaces, data_security, guests, drift), got a single value',
        ],
        id='top-level scalar',
    ),
    pytest.param(
        {'big.yaml': OVER_1_MIB},
        [
            'p/big.yaml:1:1: file is larger than 1 MiB (1048579 bytes); split it',
        ],
        id='file over 1 MiB',
    ),
    pytest.param(
        {'laughs.yaml': BILLION_LAUGHS},
        [
            'p/laughs.yaml:1:1: YAML aliases expand to more than 10000 extra values; write the values out instead',
        ],
        id='billion laughs',
    ),
    pytest.param(
        {'loop.yaml': 'roles: &r\n  R: *r\n'},
        [
            'p/loop.yaml:2:6: recursive YAML alias: an anchor refers to itself',
        ],
        id='recursive alias',
    ),
    pytest.param(
        {'roles.yaml': 'base: &b {permissions: [read/space]}\nroles:\n  R:\n    <<: *b\n'},
        [
            "p/roles.yaml:4:5: YAML merge keys ('<<') are not supported; write the keys out",
        ],
        id='merge key',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  R: !role {permissions: [read/space]}\n'},
        [
            "p/roles.yaml:2:6: unsupported YAML tag '!role'",
        ],
        id='custom tag',
    ),
    pytest.param(
        {'roles.yaml': 'roles: !!python/object:os.system {}\n'},
        [
            "p/roles.yaml:1:8: unsupported YAML tag '!!python/object:os.system'",
        ],
        id='python tag',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  R: {permissions: [read/space}\n'},
        [
            "p/roles.yaml:2:31: invalid YAML: expected ',' or ']', but got '}' (while parsing a flow sequence)",
        ],
        id='broken YAML syntax',
    ),
    pytest.param(
        {'roles.yaml': 'roles: {}\n---\nspaces: {}\n'},
        [
            'p/roles.yaml:2:1: invalid YAML: expected a single document in the stream but found another document',
        ],
        id='two documents in one file',
    ),
    pytest.param(
        {'drift.yaml': 'drift:\n  ignore:\n    - {space: X, principal: group:g, reason: r, until: 2027-13-45}\n'},
        [
            "p/drift.yaml:3:56: invalid value '2027-13-45': month must be in 1..12",
        ],
        id='impossible date',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  ? [a, b]\n  : {permissions: [read/space]}\n'},
        [
            'p/roles.yaml:2:5: a mapping key must be plain text, not a list or mapping',
        ],
        id='list as a mapping key',
    ),
    pytest.param(
        {'a.yaml': 'roles:\n  Auditor: {permissions: [read/space]}\n', 'b.yaml': 'roles:\n  Auditor: {permissions: [read/space]}\n'},
        [
            "p/b.yaml:2:3: roles: role 'Auditor' is already declared at p/a.yaml:2:3",
        ],
        id='same role in two files',
    ),
    pytest.param(
        {'legacy.yaml': 'spaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n', 'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign: {user:ann: Admin}\n'},
        [
            "p/spaces/ENG.yaml:2:3: spaces: space 'ENG' is already declared at p/legacy.yaml:2:3",
        ],
        id='same space in two files',
    ),
    pytest.param(
        {'more-people.yaml': 'people:\n  ann: 5b10ac8d82e05b22cc7d4e09\n'},
        [
            "p/people.yaml:3:3: people: person 'ann' is already declared at p/more-people.yaml:2:3",
        ],
        id='same person in two files',
    ),
    pytest.param(
        {'d1.yaml': "defaults:\n  - name: base\n    spaces: {keys: ['*']}\n    assign: {group:space-admins: Admin}\n", 'd2.yaml': "defaults:\n  - name: base\n    spaces: {keys: ['*']}\n    assign: {user:ann: Viewer}\n"},
        [
            "p/d2.yaml:2:11: defaults[0].name: defaults rule 'base' is already declared at p/d1.yaml:2:5",
        ],
        id='same defaults name in two files',
    ),
    pytest.param(
        {'site2.yaml': 'site:\n  url: sandbox:other\n  actor: bot\n  default_authority: additive\n'},
        [
            "p/site2.yaml:1:1: 'site' is already declared at p/site.yaml:2:1",
        ],
        id='site declared in two files',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'roles:\n  R: {permissions: [read/space]}\nspaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n'},
        [
            "p/spaces/ENG.yaml:1:1: files under spaces/ may only declare 'spaces:', not 'roles'",
        ],
        id='spaces file declaring roles',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n  OPS:\n    assign: {group:space-admins: Admin}\n'},
        [
            "p/spaces/ENG.yaml:4:3: spaces: spaces/ENG.yaml may only declare space 'ENG', not 'OPS'",
        ],
        id='spaces file declaring another space',
    ),
    pytest.param(
        {'roles.yaml': 'rolse:\n  R: {permissions: [read/space]}\n'},
        [
            "p/roles.yaml:1:1: unknown top-level key 'rolse' (did you mean 'roles'?)",
        ],
        id='unknown top-level key',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\nsite:\n  url: sandbox:test\n  acter: bot\n  default_authority: exact\n'},
        [
            "p/site.yaml:2:1: site: missing required key 'actor'",
            "p/site.yaml:4:3: site: unknown key 'acter' (did you mean 'actor'?)",
        ],
        id='misspelt site key',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\nsite:\n  url: sandbox:test\n  actor: bot\n'},
        [
            "p/site.yaml:2:1: site: missing required key 'default_authority'",
        ],
        id='site without default_authority',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\nsite:\n  url: sandbox:test\n  actor: bot\n  default_authority: exakt\n'},
        [
            "p/site.yaml:5:22: site.default_authority: expected 'exact' or 'additive', got 'exakt' (did you mean 'exact'?)",
        ],
        id='misspelt default_authority',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\nsite:\n  url: sandbox:test\n  actor: bot\n  default_authority: exact\n  model: rbac\n'},
        [
            "p/site.yaml:6:10: site.model: expected 'roles', 'legacy' or 'auto', got 'rbac'",
        ],
        id='unknown site model',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\nsite:\n  url: sandbox:test\n  actor: bot\n  default_authority: exact\n  custom_role_limit: -1\n'},
        [
            'p/site.yaml:6:22: site.custom_role_limit: must be >= 0, got the number -1',
        ],
        id='negative custom_role_limit',
    ),
    pytest.param(
        {'safety.yaml': 'safety:\n  max_removal_fraction: 1.5\n'},
        [
            'p/safety.yaml:2:25: safety.max_removal_fraction: must be <= 1.0, got the number 1.5',
        ],
        id='removal fraction above 1',
    ),
    pytest.param(
        {'site.yaml': 'version: 2\nsite:\n  url: sandbox:test\n  actor: bot\n  default_authority: exact\n'},
        [
            'p/site.yaml:1:10: version: expected 1, got the number 2',
        ],
        id='version 2',
    ),
    pytest.param(
        {'site.yaml': 'version: "a\\nb\\x1b[31m"\nsite:\n  url: sandbox:test\n  actor: bot\n  default_authority: exact\n'},
        [
            "p/site.yaml:1:10: version: expected 1, got 'a\\nb\\x1b[31m'",
        ],
        id='control characters in a value are shown escaped, on one line',
    ),
    pytest.param(
        {'more-people.yaml': 'people:\n  zoe: {account_id: 5b10ac8d82e05b22cc7d4e09, gest: true}\n'},
        [
            "p/more-people.yaml:2:47: people.zoe: unknown key 'gest' (did you mean 'guest'?)",
        ],
        id='person mapping with unknown key',
    ),
    pytest.param(
        {'more-people.yaml': 'people:\n  zoe: 557058123456789012345678\n'},
        [
            'p/more-people.yaml:2:8: people.zoe: expected text or a mapping, got the number 557058123456789012345678',
        ],
        id='account id written as a number',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  Old Auditor: delete\n'},
        [
            "p/roles.yaml:2:16: roles.Old Auditor: expected 'none' or a mapping, got 'delete'",
        ],
        id='role value that is neither a role nor none',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  Auditor: {description: reads, permissions: []}\n'},
        [
            'p/roles.yaml:2:46: roles.Auditor.permissions: must not be empty',
        ],
        id='custom role without permissions',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    authority: exakt\n    assign: {group:space-admins: Admin}\n'},
        [
            "p/spaces/ENG.yaml:3:16: spaces.ENG.authority: expected 'exact' or 'additive', got 'exakt' (did you mean 'exact'?)",
        ],
        id='misspelt space authority',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n    apps: block\n'},
        [
            "p/spaces/ENG.yaml:4:5: spaces.ENG: 'apps: block' is replaced by 'data_security: {app_access: block|allow}' in the space's entry; see docs/data-security.md",
        ],
        id='the replaced apps: key with another value',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n    grants:\n      group:g: all\n'},
        [
            "p/spaces/ENG.yaml:5:16: spaces.ENG.grants.group:g: expected 'none' or a list of permission ids, got 'all'",
        ],
        id='grants value that is neither a list nor none',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG: [user:bot]\n'},
        [
            'p/spaces/ENG.yaml:2:8: spaces.ENG: expected a mapping, got a list',
        ],
        id='space entry given as a list',
    ),
    pytest.param(
        {'defaults.yaml': "defaults:\n  - name: base\n    spaces: {keys: ['*'], type: [globel]}\n    assign: {group:space-admins: Admin}\n"},
        [
            "p/defaults.yaml:3:34: defaults[0].spaces.type[0]: expected 'global', 'collaboration', 'knowledge_base' or 'personal', got 'globel' (did you mean 'global'?)",
        ],
        id='misspelt space type in a selector',
    ),
    pytest.param(
        {'defaults.yaml': "defaults:\n  - spaces: {keys: ['*']}\n    assign: {group:space-admins: Admin}\n"},
        [
            "p/defaults.yaml:2:5: defaults[0]: missing required key 'name'",
        ],
        id='defaults rule without a name',
    ),
    pytest.param(
        {'ds.yaml': 'data_security:\n  org_id: org-1\n  defaults: {export: blocked}\n'},
        [
            "p/ds.yaml:3:22: data_security.defaults.export: expected 'block' or 'allow', got 'blocked' (did you mean 'block'?)",
        ],
        id='a control set to something other than block or allow',
    ),
    pytest.param(
        {'ds.yaml': 'data_security:\n  org_id: org-1\n  defaults: {exprot: block}\n'},
        [
            "p/ds.yaml:3:14: data_security.defaults: unknown key 'exprot' (did you mean 'export'?)",
        ],
        id='a misspelt control',
    ),
    pytest.param(
        {'drift.yaml': 'drift:\n  ignore:\n    - {space: X, principal: group:g, reason: r, until: soon}\n'},
        [
            "p/drift.yaml:3:56: drift.ignore[0].until: expected a date (YYYY-MM-DD), got 'soon'",
        ],
        id='drift until that is not a date',
    ),
    pytest.param(
        {'drift.yaml': 'drift:\n  ignore:\n    - {space: X, principal: group:g, until: 2099-01-01}\n'},
        [
            "p/drift.yaml:3:7: drift.ignore[0]: missing required key 'reason'",
        ],
        id='drift entry without a reason',
    ),
    pytest.param(
        {'site.yaml': 'site:\n  url: sandbox:test\n  actor: bot\n  default_authority: exact\n'},
        [
            "p:1:1: no file declares 'version: 1'",
        ],
        id='no version anywhere',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\n'},
        [
            "p:1:1: no file declares 'site:' (url, actor and default_authority are required)",
        ],
        id='no site anywhere',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\nsite:\n  url: acme.atlassian.net\n  actor: bot\n  default_authority: exact\n'},
        [
            "p/site.yaml:3:8: site.url: expected https://<site>.atlassian.net, https://api.atlassian.com/ex/confluence/<cloudId> or sandbox:<name>, got 'acme.atlassian.net'",
        ],
        id='site url that is not a URL',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\nsite:\n  url: sandbox:test\n  actor: bott\n  default_authority: exact\n'},
        [
            "p/site.yaml:4:10: site.actor: unknown person 'bott' (did you mean 'bot'?); the actor must be listed under people:",
        ],
        id='actor not among people',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    owners: [eng-leads]\n    assign: {group:space-admins: Admin}\n'},
        [
            "p/spaces/ENG.yaml:3:14: spaces.ENG.owners[0]: owner 'eng-leads' is not @user, @org/team or an email address",
        ],
        id='owner that is not a team',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      group:engineering: Colaborator\n'},
        [
            "p/spaces/ENG.yaml:5:26: spaces.ENG.assign: unknown role 'Colaborator' (did you mean 'Collaborator'?)",
        ],
        id='misspelt role',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      user:anne: Viewer\n'},
        [
            "p/spaces/ENG.yaml:5:7: spaces.ENG.assign: unknown person 'anne' (did you mean 'ann'?)",
        ],
        id='misspelt person',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      class:anonymous: none\n'},
        [
            "p/spaces/ENG.yaml:5:7: spaces.ENG.assign: unknown access class 'anonymous' (did you mean 'anonymous-users'?)",
        ],
        id='misspelt access class',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      usr:ann: Viewer\n'},
        [
            "p/spaces/ENG.yaml:5:7: spaces.ENG.assign: invalid principal 'usr:ann': expected user:<handle or account id>, group:<name> or class:<access class> (did you mean 'user:ann'?)",
        ],
        id='misspelt principal kind',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      engineering: Viewer\n'},
        [
            "p/spaces/ENG.yaml:5:7: spaces.ENG.assign: invalid principal 'engineering': expected user:<handle or account id>, group:<name> or class:<access class>",
        ],
        id='principal without a kind',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  Auditor: {permissions: [read/space, create/coment]}\n'},
        [
            "p/roles.yaml:2:39: roles.Auditor.permissions[1]: unknown permission 'create/coment' (did you mean 'create/comment'?)",
        ],
        id='misspelt permission in a role',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  Auditor: {permissions: [read/space, read/space]}\n'},
        [
            "p/roles.yaml:2:39: roles.Auditor.permissions[1]: permission 'read/space' is listed twice",
        ],
        id='permission listed twice',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  Admin: {permissions: [read/space]}\n'},
        [
            "p/roles.yaml:2:3: roles: 'Admin' is a built-in role name; default roles are never declared",
        ],
        id='custom role named like a default role',
    ),
    pytest.param(
        {'roles.yaml': ELEVEN_ROLES},
        [
            "p/roles.yaml:12:3: roles: custom role 'R10' is one more than site.custom_role_limit (10)",
        ],
        id='more custom roles than the limit',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  Old Auditor: none\n', 'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      user:ann: Old Auditor\n'},
        [
            "p/spaces/ENG.yaml:5:17: spaces.ENG.assign: role 'Old Auditor' is set to none under roles: (to be deleted) and cannot be assigned",
        ],
        id='assigning a role set to none',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      user:ann: Viewer\n      user:5b10ac8d82e05b22cc7d4e01: Manager\n'},
        [
            'p/spaces/ENG.yaml:6:7: spaces.ENG.assign: user:5b10ac8d82e05b22cc7d4e01 is the same as user:ann at p/spaces/ENG.yaml:5:7',
        ],
        id='same person by handle and by account id',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  Reader: {permissions: [read/space]}\nguests:\n  max_role: Reader\n', 'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      user:gus: Viewer\n'},
        [
            "p/spaces/ENG.yaml:5:17: spaces.ENG.assign: guest 'gus' may hold at most Reader (guests.max_role), not Viewer",
        ],
        id='guest above guests.max_role',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      user:gus: Manager\n'},
        [
            "p/spaces/ENG.yaml:5:17: spaces.ENG.assign: guest 'gus' cannot hold Manager: it includes export/space, restrict_content/space (guests may never administer, export or restrict)",
        ],
        id='guest given Manager',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      user:gus: Collaborator\n'},
        [
            "p/spaces/ENG.yaml:5:17: spaces.ENG.assign: guest 'gus' cannot have write access: Collaborator includes create/attachment, create/blogpost, create/page, delete/space",
        ],
        id='guest given write access',
    ),
    pytest.param(
        {'spaces/OPS.yaml': 'spaces:\n  OPS:\n    assign: {group:space-admins: Admin}\n    grants:\n      user:gus: [read/space, administer/space]\n'},
        [
            "p/spaces/OPS.yaml:5:17: spaces.OPS.grants: guest 'gus' cannot hold the grants: they include administer/space (guests may never administer, export or restrict)",
        ],
        id='guest granted space admin',
    ),
    pytest.param(
        {'roles.yaml': 'roles:\n  Reader: {permissions: [read/space]}\nguests: {max_role: Reader}\n', 'defaults.yaml': "defaults:\n  - name: base\n    spaces: {keys: ['*']}\n    assign: {user:gus: Viewer}\n"},
        [
            "p/defaults.yaml:4:24: defaults[0].assign: guest 'gus' may hold at most Reader (guests.max_role), not Viewer",
        ],
        id='guest given Viewer by a defaults rule over max_role',
    ),
    pytest.param(
        {'spaces/PUBLIC.yaml': 'spaces:\n  PUBLIC:\n    assign:\n      group:space-admins: Admin\n      class:anonymous-users: Collaborator\n'},
        [
            'p/spaces/PUBLIC.yaml:5:30: spaces.PUBLIC.assign: anonymous users cannot have write access: Collaborator includes create/attachment, create/blogpost, create/page, delete/space',
        ],
        id='anonymous users given Collaborator',
    ),
    pytest.param(
        {'spaces/PUBLIC.yaml': 'spaces:\n  PUBLIC:\n    assign: {group:space-admins: Admin}\n    grants:\n      class:anonymous-users: [read/space, create/page]\n'},
        [
            'p/spaces/PUBLIC.yaml:5:30: spaces.PUBLIC.grants: anonymous users cannot have write access: the grants include create/page',
        ],
        id='anonymous users granted create/page',
    ),
    pytest.param(
        {'site.yaml': 'version: 1\nsite:\n  url: sandbox:test\n  actor: bot\n  default_authority: exact\n  model: roles\n', 'spaces/OPS.yaml': 'spaces:\n  OPS:\n    assign: {group:space-admins: Admin}\n    grants:\n      group:g: [read/space]\n'},
        [
            "p/spaces/OPS.yaml:4:5: spaces.OPS: grants (individual permissions) need a site on legacy permissions; site.model is 'roles'",
        ],
        id='grants on a roles-only site',
    ),
    pytest.param(
        {'spaces/OPS.yaml': 'spaces:\n  OPS:\n    assign: {group:space-admins: Admin}\n    grants:\n      group:g: [create/page, create/comment]\n      group:h: none\n      group:k: [read/space]\n'},
        [
            'p/spaces/OPS.yaml:5:16: spaces.OPS.grants.group:g: grants without read/space cannot be kept: Confluence drops every permission of a principal that lacks read/space; add read/space',
        ],
        id='grants without read/space',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign:\n      group:engineering: Collaborator\n'},
        [
            "p/spaces/ENG.yaml:2:3: spaces: space 'ENG' has 0 admin(s) besides the actor under exact authority, fewer than safety.min_admins_per_space (1)",
        ],
        id='exact space without an admin',
    ),
    pytest.param(
        {'defaults.yaml': "defaults:\n  - name: base\n    spaces: {keys: ['*'], exclude: [ENG]}\n    assign: {group:space-admins: Admin}\n", 'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign: {user:ann: Manager}\n'},
        [
            "p/spaces/ENG.yaml:2:3: spaces: space 'ENG' has 0 admin(s) besides the actor under exact authority, fewer than safety.min_admins_per_space (1)",
        ],
        id='exact space whose only admin is excluded from the defaults',
    ),
    pytest.param(
        {'apps.yaml': 'app_access:\n  org_id: org-1\n  rules:\n    - {name: R, block: all, spaces: [A]}\n'},
        [
            "p/apps.yaml:1:1: 'app_access:' is replaced by 'data_security:' (org_id, and defaults: {app_access: block|allow, apps: {<app ARI>: block|allow}, export: ..., ...}); see docs/data-security.md",
        ],
        id='the replaced app_access section names data_security',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n    apps: blocked\n'},
        [
            "p/spaces/ENG.yaml:4:5: spaces.ENG: 'apps: blocked' is replaced by 'data_security: {app_access: block}' in the space's entry; see docs/data-security.md",
        ],
        id='the replaced apps: blocked names data_security: {app_access: block}',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n    data_security: {export: block}\n'},
        [
            'p/spaces/ENG.yaml:4:5: spaces.ENG.data_security: space controls need a data_security: section (org_id and the org-wide defaults) in an org-level policy file',
        ],
        id='space controls without the org data_security section',
    ),
    pytest.param(
        {'ds.yaml': 'data_security:\n  org_id: org-1\n  defaults: {export: allow}\n', 'spaces/ENG.yaml': 'spaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n    data_security: {public_links: block}\n'},
        [
            'p/spaces/ENG.yaml:4:21: spaces.ENG.data_security.public_links: public_links has no org-wide default: add data_security.defaults.public_links in p/ds.yaml:3:3 (a space override needs the org default)',
        ],
        id='a space override of a control without an org default',
    ),
    pytest.param(
        {'ds.yaml': 'data_security:\n  org_id: org-1\n  defaults:\n    app_access: allow\n    apps: {com.example.ai: block}\n'},
        [
            "p/ds.yaml:5:12: data_security.defaults.apps.com.example.ai: app 'com.example.ai' is not an app ARI (ari:cloud:ecosystem::app/<id>, as admin.atlassian.com shows it)",
        ],
        id='an app named by key instead of ARI',
    ),
    pytest.param(
        {'guests.yaml': 'guests:\n  max_role: Veiwer\n'},
        [
            "p/guests.yaml:2:13: guests.max_role: unknown role 'Veiwer' (did you mean 'Viewer'?)",
        ],
        id='unknown guests.max_role',
    ),
    pytest.param(
        {'guests.yaml': 'guests:\n  max_role: Manager\n'},
        [
            'p/guests.yaml:2:13: guests.max_role: Manager includes export/space, restrict_content/space, which guests may never hold',
        ],
        id='guests.max_role with admin rights',
    ),
    pytest.param(
        {'drift.yaml': 'drift:\n  ignore:\n    - {space: X, principal: team:x, reason: r, until: 2099-01-01}\n'},
        [
            "p/drift.yaml:3:29: drift.ignore[0].principal: invalid principal 'team:x': expected user:<handle or account id>, group:<name> or class:<access class>",
        ],
        id='drift entry with a bad principal',
    ),
    pytest.param(
        {'more-people.yaml': "people:\n  'zoe:x': 5b10ac8d82e05b22cc7d4e09\n"},
        [
            "p/more-people.yaml:2:3: people: handle 'zoe:x' may use only letters, digits, '.', '_' and '-'",
        ],
        id='handle with a colon',
    ),
    pytest.param(
        {'more-people.yaml': 'people:\n  zoe: 5b10ac8d82e05b22cc7d4e01\n'},
        [
            "p/people.yaml:3:8: people.ann: account id '5b10ac8d82e05b22cc7d4e01' is already used by 'zoe' at p/more-people.yaml:2:3",
        ],
        id='two people with one account id',
    ),
    pytest.param(
        {'spaces/OPS.yaml': 'spaces:\n  OPS:\n    assign: {group:space-admins: Admin}\n    grants:\n      group:g: [read/space, create/pages]\n'},
        [
            "p/spaces/OPS.yaml:5:29: spaces.OPS.grants.group:g[1]: unknown permission 'create/pages' (did you mean 'create/page'?)",
        ],
        id='misspelt permission in grants',
    ),
    pytest.param(
        {'safety.yaml': 'safety:\n  protected: [grp:admins]\n'},
        [
            "p/safety.yaml:2:15: safety.protected[0]: invalid principal 'grp:admins': expected user:<handle or account id>, group:<name> or class:<access class> (did you mean 'group:admins'?)",
        ],
        id='protected principal misspelt',
    ),
    pytest.param(
        {'defaults.yaml': 'defaults:\n  - name: base\n    spaces: {keys: []}\n    assign: {group:space-admins: Admin}\n'},
        [
            'p/defaults.yaml:3:20: defaults[0].spaces.keys: must not be empty',
        ],
        id='empty selector keys',
    ),
    pytest.param(
        {'spaces/ENG.yaml': 'spaces:\n  ENG:\n'},
        [
            'p/spaces/ENG.yaml:2:7: spaces.ENG: expected a mapping, got nothing (null)',
        ],
        id='null space entry',
    ),]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_malformed_policy_gives_every_problem_at_its_position(
    in_tmp: Path, files: dict[str, str | bytes], expected: list[str]
) -> None:
    write_policy(in_tmp / "p", files)
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings("p", today=TODAY)
    assert [str(problem) for problem in caught.value.problems] == expected


def test_there_are_at_least_sixty_malformed_cases() -> None:
    assert len(CASES) >= 60
