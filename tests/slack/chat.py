"""A person's side of the conversation with the bot, through the emulator."""

from __future__ import annotations

from tests.emulators.slack import Message, SlackEmulator, visible_text


async def say(slack: SlackEmulator, text: str, user: str = "U1", channel: str = "C1") -> str:
    """Type ``/retro <text>`` and return what the person sees in answer."""
    before = len(slack.replies_to(user))
    delivery = await slack.command(text, user=user, channel=channel)
    assert delivery.status == 200
    replies = await slack.wait_for(lambda: slack.replies_to(user)[before:])
    return "\n".join(visible_text(r.blocks) for r in replies)


async def last_reply(slack: SlackEmulator, text: str, user: str = "U1") -> Message:
    """Type ``/retro <text>`` and return the answer as a message (to click its buttons)."""
    before = len(slack.replies_to(user))
    await slack.command(text, user=user)
    replies = await slack.wait_for(lambda: slack.replies_to(user)[before:])
    return replies[-1]


async def reply_with(slack: SlackEmulator, words: str, user: str = "U1") -> Message:
    """Wait for an answer to `user` that says `words`."""
    found = await slack.wait_for(
        lambda: [r for r in slack.replies_to(user) if words in visible_text(r.blocks)]
    )
    return found[0]


async def form_opened(slack: SlackEmulator) -> str:
    """Wait for a retro form in a modal; its view id."""
    return await slack.wait_for(
        lambda: next((v for v, view in slack.views.items() if view.get("callback_id") == "retro_form"), None)
    )


async def open_form(slack: SlackEmulator, text: str, user: str = "U1") -> str:
    """Type a command that asks for a form; the modal's id once the form is in it."""
    await slack.command(text, user=user)
    return await form_opened(slack)
