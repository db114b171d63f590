"""One error type for every bad user input, so the CLI and the app can show one line."""

import re


def one_line(message: object) -> str:
    """Collapse whitespace and newlines: a user sees one readable line, never a dump."""
    return re.sub(r"\s+", " ", str(message)).strip()


class InputError(ValueError):
    """A problem with what the user gave (file, column, graph, setting, model folder).

    `str(err)` is a single line naming the offending thing; show it as is.
    """

    def __init__(self, message: object):
        super().__init__(one_line(message))
