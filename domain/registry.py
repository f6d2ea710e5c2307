"""How a key's status follows from the measures a case applies, and what each status permits."""

from collections.abc import Collection

from domain.effects import KeyMeasure
from domain.keys import KeyStatus, Permission

# A restricted key can still be read from, so its owner can see positions and withdraw nothing.
_RESTRICTED_KEEPS = frozenset({Permission.READ})

_OPEN = frozenset({KeyStatus.ACTIVE, KeyStatus.MONITORED, KeyStatus.RESTRICTED})

# measure -> (statuses it applies to, status it leads to)
_TRANSITIONS: dict[KeyMeasure, tuple[frozenset[KeyStatus], KeyStatus]] = {
    KeyMeasure.MONITOR: (frozenset({KeyStatus.ACTIVE}), KeyStatus.MONITORED),
    KeyMeasure.UNFLAG: (frozenset({KeyStatus.MONITORED, KeyStatus.RESTRICTED}), KeyStatus.ACTIVE),
    KeyMeasure.RESTRICT: (frozenset({KeyStatus.ACTIVE, KeyStatus.MONITORED}), KeyStatus.RESTRICTED),
    KeyMeasure.RESTORE: (frozenset({KeyStatus.MONITORED, KeyStatus.RESTRICTED}), KeyStatus.ACTIVE),
    KeyMeasure.EXPIRE: (_OPEN, KeyStatus.EXPIRED),
}


def status_after(current: KeyStatus, measure: KeyMeasure) -> KeyStatus:
    """The status after `measure`; unchanged when it does not apply (expiry is final).

    Monitoring never loosens a restriction, and nothing leaves EXPIRED.
    """
    applies_to, target = _TRANSITIONS[measure]
    return target if current in applies_to else current


def usable_permissions(granted: Collection[Permission], status: KeyStatus) -> list[Permission]:
    """The granted permissions the key may use in `status`, in their canonical order."""
    if status is KeyStatus.EXPIRED:
        return []
    keep = _RESTRICTED_KEEPS if status is KeyStatus.RESTRICTED else frozenset(granted)
    return [p for p in Permission if p in granted and p in keep]
