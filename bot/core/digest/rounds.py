"""The retro round's summary, posted in the channel the morning after the round.

It groups the round's entries (the missteps logged in its window) by tag, and the untagged ones by
similarity; says which entries repeat something the team already learned ("we already learned
this in #7"), and asks for the lessons still missing. Every misstep already has its private lesson
prompt planned by the scheduler when it was logged (`bot.scheduling.plans.lesson_prompt`), so the
summary plans none of its own: it offers an "Add the lesson" button per entry instead. Authors
never appear, anonymous or not: the round is about what tripped the team up.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.messages import Block, Bullets, Button, Message, Paragraph, Span, Spans, bold
from bot.core.model import Lesson, Misstep, RecurrenceStatus, Team
from bot.core.render import misstep_line, ref
from bot.core.similarity import Document, Matcher, document_of

if TYPE_CHECKING:
    from bot.storage.unit_of_work import UnitOfWork

MAX_BUTTONS = 5
"""Discord fits five buttons on a row; more entries than that are listed with the command."""


@dataclass(frozen=True, slots=True)
class Entry:
    misstep: Misstep
    has_lesson: bool
    learned_in: Misstep | None = None
    """An earlier misstep whose lesson this entry repeats: linked by a person, or the matcher's guess."""


async def round_summary(
    uow: UnitOfWork,
    team: Team,
    start: datetime,
    end: datetime,
    now: datetime,
    matcher: Matcher,
) -> Message:
    """The summary of the entries logged in [start, end), matched with the app's matcher."""
    entries = await uow.digest(team.id).logged_between(start, end)
    history = await uow.missteps(team.id).with_lessons()
    links = await uow.digest(team.id).links_from([m.id for m in entries])
    lessons = {m.id for m, _ in history}
    earlier = [(m, lesson) for m, lesson in history if m.created_at < start]
    # A meaning-based matcher can take 100 ms or more a call, and this makes one per entry and one
    # per cluster: a worker thread keeps the event loop (and every team's commands) moving meanwhile.
    found, grouped = await asyncio.to_thread(_match, entries, lessons, earlier, links, matcher)
    return render_round(found, grouped)


def _match(
    entries: Sequence[Misstep],
    lessons: Set[int],
    earlier: Sequence[tuple[Misstep, Lesson]],
    links: Mapping[int, Sequence[tuple[int, RecurrenceStatus]]],
    matcher: Matcher,
) -> tuple[list[Entry], list[tuple[str, list[Entry]]]]:
    """The matcher's share of the summary: what each entry repeats, and the entries grouped."""
    by_id = {m.id: m for m, _ in earlier}
    documents = [document_of(m, lesson) for m, lesson in earlier]
    found = [_entry(m, m.id in lessons, by_id, documents, links.get(m.id, ()), matcher) for m in entries]
    return found, groups(found, matcher)


def _entry(
    misstep: Misstep,
    has_lesson: bool,
    by_id: Mapping[int, Misstep],
    documents: Sequence[Document],
    links: Sequence[tuple[int, RecurrenceStatus]],
    matcher: Matcher,
) -> Entry:
    """`by_id` and `documents`: the earlier missteps with a lesson, built once for every entry."""
    dismissed = {other for other, status in links if status is RecurrenceStatus.DISMISSED}
    linked = [other for other, status in links if status is not RecurrenceStatus.DISMISSED and other in by_id]
    if linked:
        return Entry(misstep, has_lesson, by_id[linked[0]])
    candidates = [d for d in documents if d.key not in dismissed]
    matches = matcher.suggest(document_of(misstep), candidates)
    return Entry(misstep, has_lesson, by_id[matches[0].key] if matches else None)


def render_round(entries: Sequence[Entry], grouped: Sequence[tuple[str, Sequence[Entry]]]) -> Message:
    """Pure: the summary of the entries, in their groups (`groups`)."""
    title = "Retro round summary"
    if not entries:
        return Message(
            title=title,
            blocks=(
                Paragraph(
                    ("No entries this round. A quiet week, or one worth a minute: what tripped us up?",)
                ),
            ),
        )
    blocks: list[Block] = [
        Paragraph((f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'} came in.",))
    ]
    for heading, group in grouped:
        blocks.append(Paragraph((bold(heading),)))
        blocks.append(Bullets(tuple(_line(entry) for entry in group)))
    missing = [e.misstep for e in entries if not e.has_lesson]
    buttons: tuple[Button, ...] = ()
    if missing:
        numbers = ", ".join(ref(m.number) for m in missing)
        blocks.append(
            Paragraph(
                (
                    bold("Lessons still to capture: "),
                    f"{numbers}. What did each one teach us? Their authors get a private prompt; "
                    "anyone who knows can add it here.",
                )
            )
        )
        buttons = tuple(
            Button(f"Add the lesson for {ref(m.number)}", f"learned {ref(m.number)}") for m in missing
        )
        buttons = buttons[:MAX_BUTTONS]
    return Message(title=title, blocks=tuple(blocks), buttons=buttons)


def groups(entries: Sequence[Entry], matcher: Matcher) -> list[tuple[str, list[Entry]]]:
    """Entries by their most shared tag; untagged ones that look alike together; the rest last."""
    counts = Counter(tag for e in entries for tag in e.misstep.tags)
    by_tag: dict[str, list[Entry]] = {}
    untagged: list[Entry] = []
    for entry in entries:
        tags = entry.misstep.tags
        if tags:
            tag = min(tags, key=lambda t: (-counts[t], t))
            by_tag.setdefault(tag, []).append(entry)
        else:
            untagged.append(entry)
    found = [(f"#{tag}", group) for tag, group in sorted(by_tag.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    clusters: list[list[Entry]] = []
    for entry in untagged:
        for cluster in clusters:
            if matcher.suggest(document_of(entry.misstep), [document_of(cluster[0].misstep)]):
                cluster.append(entry)
                break
        else:
            clusters.append([entry])
    alike = [c for c in clusters if len(c) > 1]
    found += [("Alike", cluster) for cluster in alike]
    rest = [entry for c in clusters if len(c) == 1 for entry in c]
    if rest:
        found.append(("Other", rest))
    return found


def _line(entry: Entry) -> Spans:
    spans: list[Span] = list(misstep_line(entry.misstep, 100))
    if entry.learned_in is not None:
        spans += [" · we already learned this in ", bold(ref(entry.learned_in.number))]
    elif entry.has_lesson:
        spans.append(" · lesson captured")
    return tuple(spans)
