"""``vpt demo``: an offline end-to-end run on synthetic parts."""


def register(commands) -> None:
    return None
