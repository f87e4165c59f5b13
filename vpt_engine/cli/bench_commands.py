"""``vpt bench`` and ``vpt analyze`` (accuracy grid and prompt diagnostics)."""


def register(commands) -> None:
    return None
