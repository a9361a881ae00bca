"""The weekly digest as words: pure functions from figures to a neutral `Message`.

It leads with learning, not activity: the learning rate and how it moved, then the repeats (the
lessons that did not stick), then the wins, and only then the counts of what is waiting. A quiet
week gets a short, kind note; a brand-new team gets a welcome that explains how to start.
"""

from __future__ import annotations

from bot.core.digest.chart import trend_chart
from bot.core.digest.figures import BASELINE_WEEKS, DigestFigures, WeekOutcomes
from bot.core.digest.week import Week
from bot.core.messages import (
    Attachment,
    Block,
    Bullets,
    Field,
    Fields,
    Message,
    Paragraph,
    Span,
    Spans,
    bold,
    code,
)
from bot.core.model import Depth
from bot.core.render import ref
from bot.core.text import short

FOOTER = "Failing = learning, when the lesson sticks."
DEPTH_WORDS = {
    Depth.STUMBLE: ("stumble", "stumbles"),
    Depth.SETBACK: ("setback", "setbacks"),
    Depth.FALL: ("fall", "falls"),
}


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def digest_title(team_name: str, week: Week, running: bool) -> str:
    monday = week.monday
    title = f"Weekly digest for {short(team_name, 60)}: week of {monday.day} {monday:%b %Y}"
    return title + " (so far)" if running else title


def render_digest(team_name: str, figures: DigestFigures, running: bool = False) -> Message:
    """The digest of `figures.this_week.week`. `running` marks a week that has not ended yet."""
    week = figures.this_week.week
    if figures.history == 0:
        return welcome(team_name)
    title = digest_title(team_name, week, running)
    chart = _chart(figures, week)
    if figures.quiet:
        return Message(title=title, blocks=_quiet(figures), attachments=chart, footer=FOOTER)
    blocks: list[Block] = [
        Paragraph(_headline(figures.this_week, figures.baseline)),
        Fields(
            (
                Field("Missteps logged", (str(figures.logged),), inline=True),
                Field("Lessons captured", (str(figures.lessons),), inline=True),
                Field("Checks answered", (str(figures.checks),), inline=True),
            )
        ),
        *_repeats(figures),
        *_first_time(figures),
        *_wins(figures),
        *_shape(figures),
        *_waiting(figures),
    ]
    return Message(title=title, blocks=tuple(blocks), attachments=chart, footer=FOOTER)


def welcome(team_name: str) -> Message:
    """The first digest of a team that has logged nothing yet: what this is and how to start."""
    return Message(
        title=f"Welcome to retro, {short(team_name, 60)}",
        blocks=(
            Paragraph(
                (
                    "This is your team's weekly digest. Every Monday it shows what the team learned from "
                    "its missteps, and whether those lessons stuck: the ",
                    bold("learning rate"),
                    ".",
                )
            ),
            Paragraph((bold("How to start"),)),
            Bullets(
                (
                    (
                        "When something trips you up, log it: ",
                        code("/retro oops the deploy skipped the migrations #deploys"),
                        ". Add ",
                        code("anon"),
                        " to keep your name out of it.",
                    ),
                    (
                        "Say what it taught you and what you'll do next time: ",
                        code("/retro learned #1 migrations aren't automatic next time: run them in CI"),
                        ". I'll ask after a cool-down if you don't get to it.",
                    ),
                    (
                        "A couple of weeks later I'll ask whether the lesson stuck (",
                        code("/retro check #1 stuck"),
                        "). That answer is what this digest is about.",
                    ),
                    (code("/retro help"), " shows everything else."),
                )
            ),
            Paragraph(
                ("Blameless by design: the questions are about what a misstep taught, never who caused it.",)
            ),
        ),
        footer=FOOTER,
    )


def _chart(figures: DigestFigures, week: Week) -> tuple[Attachment, ...]:
    if not any(w.decided for w in figures.trend):
        return ()
    return (Attachment(f"retro-trend-{week}.png", trend_chart(figures.trend), "image/png"),)


def _headline(week: WeekOutcomes, baseline: WeekOutcomes) -> Spans:
    if week.rate is None:
        spans: list[Span] = ["No outcomes were decided this week, so there is no learning rate to show."]
        if baseline.rate is not None:
            spans.append(f" The previous {BASELINE_WEEKS} weeks stood at {baseline.rate:.0%}.")
        return tuple(spans)
    spans = [
        bold(f"Learning rate {week.rate:.0%}"),
        f": of {plural(week.decided, 'misstep')} decided this week, "
        f"{week.learning} ended as learning and {week.failing} as failing.",
    ]
    if baseline.rate is None:
        spans.append(f" The {BASELINE_WEEKS} weeks before had no decided outcomes to compare with.")
    else:
        points = round(week.rate * 100) - round(baseline.rate * 100)
        if points == 0:
            spans.append(f" The same as the previous {BASELINE_WEEKS} weeks ({baseline.rate:.0%}).")
        else:
            direction = "up" if points > 0 else "down"
            spans.append(
                f" That's {plural(abs(points), 'point')} {direction} from the previous {BASELINE_WEEKS} weeks"
                f" ({baseline.rate:.0%})."
            )
    return tuple(spans)


def _repeats(figures: DigestFigures) -> list[Block]:
    if not figures.repeats_confirmed:
        return []
    items: list[Spans] = []
    for repeat in figures.repeats:
        spans: list[Span] = [
            bold(ref(repeat.number)),
            " repeats ",
            bold(ref(repeat.earlier_number)),
            f": {short(repeat.what, 90)}",
        ]
        if repeat.lesson:
            spans.append(f". The lesson then: “{short(repeat.lesson, 90)}”")
        if repeat.commitment:
            spans.append(f"; next time: “{short(repeat.commitment, 90)}”")
            if repeat.owner_name:
                spans.append(f" ({repeat.owner_name})")
        items.append(tuple(spans))
    blocks: list[Block] = [
        Paragraph((bold(f"Repeats: lessons that didn't stick ({figures.repeats_confirmed})"),)),
        Bullets(tuple(items)),
    ]
    more = figures.repeats_confirmed - len(figures.repeats)
    tail = f"And {more} more. " if more > 0 else ""
    blocks.append(
        Paragraph(
            (
                f"{tail}A repeat is not a verdict; it's the signal to look at the lesson again. ",
                code("/retro learned #N ..."),
                " updates it.",
            )
        )
    )
    return blocks


def _first_time(figures: DigestFigures) -> list[Block]:
    if not figures.logged:
        return []
    if figures.repeats_logged == 0:
        verdict = " Every one a new kind of misstep: that's healthy."
    else:
        verdict = " A new kind of misstep is healthy; the same one again is the signal."
    return [
        Paragraph(
            (
                bold("New or repeat: "),
                f"{figures.first_time} first-time, {plural(figures.repeats_logged, 'repeat')}.",
                verdict,
            )
        )
    ]


def _wins(figures: DigestFigures) -> list[Block]:
    learned = figures.this_week.learning
    if not learned:
        return []
    items = tuple((bold(ref(win.number)), f" “{short(win.lesson, 100)}”") for win in figures.wins)
    blocks: list[Block] = [Paragraph((bold(f"Lessons that stuck ({learned})"),)), Bullets(items)]
    if learned > len(figures.wins):
        blocks.append(Paragraph((f"And {learned - len(figures.wins)} more.",)))
    return blocks


def _shape(figures: DigestFigures) -> list[Block]:
    if not figures.logged:
        return []
    depths = ", ".join(plural(n, *DEPTH_WORDS[d]) for d, n in figures.depths.items() if n)
    spans: list[Span] = [bold("The week's missteps: "), depths]
    if figures.top_tags:
        spans.append("; most tagged " + ", ".join(f"#{tag} ({n})" for tag, n in figures.top_tags))
    spans.append(".")
    blocks: list[Block] = [Paragraph(tuple(spans))]
    if figures.no_goal:
        blocks.append(
            Paragraph(
                (
                    bold("Without a goal: "),
                    f"{figures.no_goal} of {plural(figures.logged, 'misstep')} "
                    f"{'was' if figures.no_goal == 1 else 'were'} logged without one. "
                    "What were we trying to do? "
                    "A misstep with no clear goal often points at too many competing goals.",
                )
            )
        )
    return blocks


def _waiting(figures: DigestFigures) -> list[Block]:
    items: list[Spans] = []
    if figures.waiting_lesson:
        items.append((f"{plural(figures.waiting_lesson, 'misstep')} without a lesson yet",))
    if figures.unanswered:
        items.append(
            (f"{plural(figures.unanswered, 'commitment')} waiting for an answer: did the lesson stick?",)
        )
    if figures.checks_coming:
        items.append((f"{plural(figures.checks_coming, 'follow-up check')} coming up in the next week",))
    if not items:
        return []
    return [
        Paragraph((bold("Waiting"),)),
        Bullets(tuple(items)),
        Paragraph((code("/retro status"), " lists them.")),
    ]


def _quiet(figures: DigestFigures) -> tuple[Block, ...]:
    return (
        Paragraph(
            (
                "A quiet week: nothing was logged, learned or checked. Quiet can be good news. "
                "If something did trip the team up, ",
                code("/retro oops ..."),
                " takes ten seconds, and it's where lessons start.",
            )
        ),
        *_waiting(figures),
    )
