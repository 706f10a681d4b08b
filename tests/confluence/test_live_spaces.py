"""The conversion of raw space reads to ``LiveSpace``: principals shared across spaces, in principal order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.confluence.read_spaces import RawSpace, to_live_spaces
from reconciler.live_state import SpaceInfo
from reconciler.model import PrincipalKind

REFS = st.tuples(st.sampled_from(list(PrincipalKind)), st.text("abcAB:-~0", min_size=1, max_size=4))


@given(st.dictionaries(REFS, st.sampled_from(["Viewer", "Admin"]), max_size=12),
       st.dictionaries(st.text("abc", min_size=1, max_size=3), st.text("xyz", max_size=2), max_size=4))
def test_assignments_come_in_the_principals_own_order_and_each_principal_is_built_once(
    assignments: dict[tuple[PrincipalKind, str], str], group_names: dict[str, str]
) -> None:
    def raw(key: str) -> RawSpace:
        return RawSpace(SpaceInfo(key=key, id=key, name=key, type="global"), dict(assignments), {}, {}, {})

    live = to_live_spaces([raw("A"), raw("B")], {k: v or None for k, v in group_names.items()}, {})

    first, second = list(live["A"].assignments), list(live["B"].assignments)
    assert first == sorted(first)  # the dataclass order: (kind, id)
    assert all(a is b for a, b in zip(first, second, strict=True))  # shared, not built per space
