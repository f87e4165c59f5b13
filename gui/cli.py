"""``vpt gui``."""


def register(commands) -> None:
    return None
