"""Errors raised by Tether's outside-service adapters and by misuse.

    TetherError
    ├── ConfigurationError      a setting or file is wrong: the operator's fault
    ├── ServiceError            an outside service failed at run time
    │   ├── LLMError            the language model (embedded or remote) failed
    │   ├── StoreError          the vector store failed
    │   └── DatabaseError       the conversation database failed
    ├── NotFoundError           an id that does not exist
    ├── ConflictError           the object is not in a state that allows the action (409)
    ├── ForbiddenError          the caller may not do this to this object (403)
    └── AuthenticationError     no key, an unknown key or a revoked key (401)

Failed *checks* (an ungrounded answer, an unknown issue) are never exceptions: they are verdicts.
"""


class TetherError(Exception):
    """Root of every error Tether raises on purpose."""


class ConfigurationError(TetherError):
    """A setting, a prompt file or a knowledge-base file is invalid."""


class ServiceError(TetherError):
    """An outside service failed; the message path turns it into an escalation."""


class LLMError(ServiceError):
    """The language model could not produce a completion."""


class StoreError(ServiceError):
    """The vector store could not be read or written."""


class DatabaseError(ServiceError):
    """The conversation database could not be read or written."""


class NotFoundError(TetherError):
    """The requested object does not exist."""


class ConflictError(TetherError):
    """The action does not fit the object's current state (a case already claimed, say)."""


class ForbiddenError(TetherError):
    """The caller is known but may not act on this object (another agent's case, say)."""


class AuthenticationError(TetherError):
    """The request carries no valid API key."""
