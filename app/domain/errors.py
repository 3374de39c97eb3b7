"""Errors a delegate or co-facilitator can read. The web layer maps each kind to one HTTP status."""


class DomainError(Exception):
    """Base: the message is shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to this user)."""


class NotAllowed(DomainError):
    """The user's role or delegation does not permit this action."""


class Conflict(DomainError):
    """Someone changed the thing first: reload and decide again."""


class Invalid(DomainError):
    """The request breaks a rule of the negotiation or is malformed."""


class NotAuthenticated(DomainError):
    """No valid session or API token."""
