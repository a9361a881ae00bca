"""The misstep → lesson → check commands: their values, grammar and help."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.commands.base import (
    CommandSpec,
    UsageError,
    clean_text,
    form_field,
    is_number_token,
    limit,
    parse_number,
    split_first,
)
from bot.core.model import CheckAnswer, Depth

MAX_WHAT = 2_000
MAX_GOAL = 500
MAX_LESSON = 2_000
MAX_COMMITMENT = 500
MAX_TAGS = 10
MAX_TAG = 32
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class Oops:
    what: str
    goal: str | None = None
    depth: Depth = Depth.STUMBLE
    tags: tuple[str, ...] = ()
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class OopsForm:
    """`/retro oops` with nothing after it: open the form where the platform has one."""


@dataclass(frozen=True, slots=True)
class Learned:
    lesson: str
    commitment: str | None = None
    number: int | None = None


@dataclass(frozen=True, slots=True)
class LearnedForm:
    """Open the lesson form for misstep `number` (the "Add the lesson" button)."""

    number: int


@dataclass(frozen=True, slots=True)
class Lessons:
    words: str = ""


@dataclass(frozen=True, slots=True)
class Status:
    number: int | None = None


@dataclass(frozen=True, slots=True)
class Check:
    number: int
    answer: CheckAnswer


@dataclass(frozen=True, slots=True)
class Same:
    number: int
    earlier: int


@dataclass(frozen=True, slots=True)
class Dismiss:
    number: int
    earlier: int


@dataclass(frozen=True, slots=True)
class Export:
    format: str = "csv"


@dataclass(frozen=True, slots=True)
class Announce:
    on: bool | None = None


_ANON = {"anon", "anonymous"}
_DEPTHS = {d.value for d in Depth}
_TAG = re.compile(r"(?<![\w#])#([^\W\d_][\w-]*)")
_GOAL = re.compile(r"(?i)(?:^|\s)goal:\s*")
_NEXT_TIME = re.compile(r"(?i)(?:^|\s)next time:\s*")


def _tags(text: str) -> tuple[str, tuple[str, ...]]:
    tags = tuple(dict.fromkeys(tag.lower() for tag in _TAG.findall(text)))
    if len(tags) > MAX_TAGS:
        raise UsageError(f"That's {len(tags)} tags; {MAX_TAGS} at most, please.", "oops")
    for tag in tags:
        if len(tag) > MAX_TAG:
            raise UsageError(f"Tags are short words like `#deploys`; `#{tag[:20]}…` is too long.", "oops")
    return clean_text(_TAG.sub(" ", text)), tags


def parse_oops(args: str) -> Oops | OopsForm:
    args = clean_text(args)
    if not args:
        return OopsForm()
    words = args.split(" ")
    depth, anonymous = Depth.STUMBLE, False
    while words:
        word = words[0].lower()
        if word in _DEPTHS:
            depth = Depth(word)
        elif word in _ANON:
            anonymous = True
        else:
            break
        words.pop(0)
    what_part, goal_part = _split_at(_GOAL, " ".join(words))
    what, tags = _tags(what_part)
    goal, goal_tags = _tags(goal_part)
    return build_oops(what, goal, depth, tags + tuple(t for t in goal_tags if t not in tags), anonymous)


def build_oops(what: str, goal: str | None, depth: Depth, tags: tuple[str, ...], anonymous: bool) -> Oops:
    return Oops(what=_what(what), goal=_goal(goal), depth=depth, tags=tags, anonymous=anonymous)


def _what(text: str) -> str:
    what = limit(clean_text(text), "description", MAX_WHAT)
    if not what:
        raise UsageError(
            "Say what happened after `oops`, for example: "
            "`/retro oops the deploy script skipped the migrations #deploys`.",
            "oops",
        )
    return what


def _goal(text: str | None) -> str | None:
    return limit(clean_text(text or ""), "goal", MAX_GOAL) or None


def _depth(text: str | None) -> Depth:
    depth = (text or Depth.STUMBLE.value).strip().lower()
    if depth not in _DEPTHS:
        raise UsageError("Depth is one of `stumble`, `setback` or `fall`.", "oops")
    return Depth(depth)


def oops_from_values(args: str, values: Mapping[str, str]) -> Oops:
    with form_field("what"):
        what = _what(values.get("what", ""))
    with form_field("goal"):
        goal = _goal(values.get("goal"))
    with form_field("depth"):
        depth = _depth(values.get("depth"))
    with form_field("tags"):
        words = re.split(r"[\s,]+", values.get("tags", ""))
        _, tags = _tags(" ".join(f"#{word.lstrip('#')}" for word in words if word))
    anonymous = values.get("anonymous", "").strip().lower() in {"true", "yes", "on", "1", "anon", "anonymous"}
    return Oops(what=what, goal=goal, depth=depth, tags=tags, anonymous=anonymous)


def parse_learned(args: str) -> Learned | LearnedForm:
    args = clean_text(args)
    number = None
    head, rest = split_first(args)
    if head and is_number_token(head):
        number = parse_number(head, "learned")
        args = rest
    if not args and number is not None:
        return LearnedForm(number)
    lesson, commitment = _split_at(_NEXT_TIME, args)
    return build_learned(number, lesson, commitment)


def _split_at(marker: re.Pattern[str], text: str) -> tuple[str, str]:
    """The text before the first marker (``goal:``, ``next time:``) and after it."""
    parts = marker.split(text, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (text, "")


def build_learned(number: int | None, lesson: str, commitment: str | None) -> Learned:
    return Learned(lesson=_lesson(lesson), commitment=_commitment(commitment), number=number)


def _lesson(text: str) -> str:
    lesson = limit(clean_text(text), "lesson", MAX_LESSON)
    if not lesson:
        raise UsageError(
            "Say what it taught you after `learned`, for example: "
            "`/retro learned #3 staging data is not production data next time: test with a real export`.",
            "learned",
        )
    return lesson


def _commitment(text: str | None) -> str | None:
    return limit(clean_text(text or ""), "commitment", MAX_COMMITMENT) or None


def learned_from_values(args: str, values: Mapping[str, str]) -> Learned:
    with form_field("misstep"):
        reference = clean_text(values.get("misstep") or args)
        number = parse_number(reference, "learned") if reference else None
    with form_field("lesson"):
        lesson = _lesson(values.get("lesson", ""))
    with form_field("next_time"):
        commitment = _commitment(values.get("next_time"))
    return Learned(lesson=lesson, commitment=commitment, number=number)


def parse_lessons(args: str) -> Lessons:
    return Lessons(limit(clean_text(args), "search", MAX_QUERY))


def parse_status(args: str) -> Status:
    args = clean_text(args)
    if not args:
        return Status()
    head, rest = split_first(args)
    if rest:
        raise UsageError("`/retro status` takes one misstep number, like `/retro status #4`.", "status")
    return Status(parse_number(head, "status"))


_ANSWERS = {
    "stuck": CheckAnswer.STUCK,
    "it-stuck": CheckAnswer.STUCK,
    "recurred": CheckAnswer.RECURRED,
    "again": CheckAnswer.RECURRED,
    "recur": CheckAnswer.RECURRED,
    "unsure": CheckAnswer.UNSURE,
    "not-sure": CheckAnswer.UNSURE,
}


def parse_check(args: str) -> Check:
    words = clean_text(args).split()
    if len(words) != 2:
        raise UsageError("Answer a check like `/retro check #4 stuck` (or `recurred`, or `unsure`).", "check")
    number = parse_number(words[0], "check")
    answer = _ANSWERS.get(words[1].lower())
    if answer is None:
        raise UsageError(
            f"`{words[1][:20]}` isn't an answer I know: use `stuck`, `recurred` or `unsure`.", "check"
        )
    return Check(number, answer)


def _pair(args: str, topic: str) -> tuple[int, int]:
    words = clean_text(args).split()
    if len(words) != 2:
        raise UsageError(f"Name two missteps, the new one first: `/retro {topic} #5 #4`.", topic)
    number, earlier = (parse_number(w, topic) for w in words)
    if number == earlier:
        raise UsageError("A misstep can't repeat itself; name two different ones.", topic)
    return number, earlier


def parse_same(args: str) -> Same:
    return Same(*_pair(args, "same"))


def parse_dismiss(args: str) -> Dismiss:
    return Dismiss(*_pair(args, "dismiss"))


EXPORT_FORMATS = {"csv": "csv", "json": "json", "md": "md", "markdown": "md"}


def parse_export(args: str) -> Export:
    word = clean_text(args).lower() or "csv"
    if word not in EXPORT_FORMATS:
        raise UsageError("Export as `csv`, `json` or `md`, e.g. `/retro export md`.", "export")
    return Export(EXPORT_FORMATS[word])


def parse_announce(args: str) -> Announce:
    word = clean_text(args).lower()
    if word in {"", "status"}:
        return Announce(None)
    if word not in {"on", "off"}:
        raise UsageError("Use `/retro announce on` or `/retro announce off`.", "announce")
    return Announce(word == "on")


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="oops",
        aliases=("misstep",),
        usage="[stumble|setback|fall] [anon] <what happened> [goal: <what you were trying to do>] [#tag ...]",
        summary="Log a misstep. The bot will ask what it taught you after a cool-down.",
        parse=parse_oops,
        from_values=oops_from_values,
        details=(
            "Depth and `anon` go first, in any order; depth is `stumble` unless you say otherwise.",
            "`goal:` starts what you were trying to do; `#words` anywhere become tags.",
            "`anon` keeps your name out of every message, digest and export.",
            "With nothing after `oops`, a form opens where your chat has forms.",
        ),
        examples=(
            "/retro oops the deploy script skipped the migrations #deploys",
            "/retro oops setback anon the ScoopIt import lost our tags goal: set up the account #onboarding",
        ),
        completions=("stumble", "setback", "fall", "anon", "goal:"),
    ),
    CommandSpec(
        name="learned",
        usage="[#N] <lesson> [next time: <commitment>]",
        summary="Record what a misstep taught you, and what you will do next time.",
        parse=parse_learned,
        from_values=learned_from_values,
        details=(
            "Without `#N` it goes to your most recent misstep that has no lesson yet.",
            "A misstep has one lesson: saying it again updates it.",
            "You own the `next time:` commitment, even when the misstep was anonymous.",
        ),
        examples=(
            "/retro learned #3 staging data is not production data next time: test with a real export",
        ),
        completions=("next time:",),
    ),
    CommandSpec(
        name="lessons",
        usage="[words]",
        summary="The team's lessons, best matches first (most recent without words).",
        parse=parse_lessons,
        examples=("/retro lessons deploy migrations",),
    ),
    CommandSpec(
        name="status",
        usage="[#N]",
        summary="The whole story of misstep #N, or the team's open items.",
        parse=parse_status,
        examples=("/retro status", "/retro status #4"),
    ),
    CommandSpec(
        name="check",
        usage="#N stuck|recurred|unsure",
        summary="Answer the follow-up: did the lesson of #N stick?",
        parse=parse_check,
        details=("`stuck`: it hasn't happened again. `recurred`: it did. `unsure`: ask me again later.",),
        examples=("/retro check #4 stuck",),
        completions=("stuck", "recurred", "unsure"),
    ),
    CommandSpec(
        name="same",
        usage="#NEW #EARLIER",
        summary="Confirm that a new misstep repeats an earlier one (its lesson did not stick).",
        parse=parse_same,
        examples=("/retro same #5 #4",),
    ),
    CommandSpec(
        name="dismiss",
        usage="#NEW #EARLIER",
        summary="Say a suggested repeat is a different thing after all.",
        parse=parse_dismiss,
        examples=("/retro dismiss #5 #4",),
    ),
    CommandSpec(
        name="export",
        usage="[csv|json|md]",
        summary="The team's whole history as a file.",
        parse=parse_export,
        group="team",
        completions=("csv", "json", "md"),
    ),
    CommandSpec(
        name="announce",
        usage="[on|off]",
        summary="Also post new missteps in the channel (anonymous ones without any name).",
        parse=parse_announce,
        group="team",
        completions=("on", "off"),
    ),
)
