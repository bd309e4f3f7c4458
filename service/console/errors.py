"""Console failures rendered as pages, so a browser never lands on a JSON error body."""

from __future__ import annotations


class ConsoleError(Exception):
    """A request the console refuses: ``status`` and a sentence the analyst can act on."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SignInRequiredError(Exception):
    """No live session: the browser is sent to the sign-in page, then back to ``next_url``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url
