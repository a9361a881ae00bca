"""The Slack adapter: a thin translator between Bolt and the engine (DESIGN.md §3).

`translate` holds the pure functions (payload -> Invocation, Message -> Block Kit, Form -> modal),
`service` the Bolt app and its listeners, `sender` the outbound side for the scheduler,
`installations` the OAuth stores on our database, `people` the cached ``users.info``.
"""

from adapters.slack.sender import SlackSender
from adapters.slack.service import SlackService

__all__ = ["SlackSender", "SlackService"]
