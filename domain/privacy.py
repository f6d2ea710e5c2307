"""Which keys name a contact or a secret: never in an alert's evidence nor in the audit log.

One rule for both: intake refuses such evidence (422 naming the path), and the audit chain
refuses such a payload. Keys are compared in lower case with separators dropped, so
`E-Mail`, `user_email`, `Phone_Number` and `apiSecret` all count.
"""

import re
from collections.abc import Mapping
from typing import Any

NAMED_LIKE = ("email", "phone", "password", "passwd", "secret")
_NOT_LETTERS = re.compile(r"[^a-z]")


def names_private(key: object) -> bool:
    """Whether a key is named like a contact or a secret."""
    squashed = _NOT_LETTERS.sub("", str(key).lower())
    return any(word in squashed for word in NAMED_LIKE)


def private_key_path(value: Any, root: str = "") -> str | None:
    """The path (`evidence.hits[0].Email`) of the first such key at any depth, or None."""
    stack: list[tuple[str, Any]] = [(root, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, Mapping):
            children = [(f"{path}.{k}" if path else str(k), k, v) for k, v in item.items()]
            for child_path, key, _ in children:
                if names_private(key):
                    return child_path
            stack.extend((p, v) for p, _, v in reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}[{n}]", v) for n, v in reversed(list(enumerate(item))))
    return None
