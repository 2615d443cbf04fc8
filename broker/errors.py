"""The error tree: each class says what the bot does when it is raised.

Caught in one place (bot.engine); anything else is a bug and stops the daemon.
"""


class AlvhError(Exception):
    """Base of every error the bot expects."""


class ConfigError(AlvhError):
    """The configuration is invalid: the daemon refuses to start and prints every problem."""


class BrokerUnavailable(AlvhError):
    """The venue cannot be reached right now: the cycle is skipped and retried with backoff."""


class OrderRejected(AlvhError):
    """The venue refused an order: the rejection is journaled and the loop goes on."""


class LiveTradingRefused(AlvhError):
    """A live account or port was about to be used without a double opt-in: stop at once."""


class MarketDataEnded(AlvhError):
    """The simulated history has no more days: the daemon stops cleanly."""
