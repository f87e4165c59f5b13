"""``vpt export``, ``vpt bundle``, ``vpt infer`` and ``vpt deploy``."""


def register(commands) -> None:
    return None
