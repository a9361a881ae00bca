"""One tick: claim what is due, decide about each item, deliver through the platform's sender,
settle. Every process runs ticks (its heartbeat, or `retro tick`); the database keeps them apart.

A batch goes through three short transactions, and no transaction is open while a platform is
being talked to:

1. claim: one atomic statement marks due items as this tick's for a lease (`Outbox.claim`);
2. prepare: decide (cancel, defer, close a window, miss, send), bundle one member's prompts into
   one message within the no-nagging cap, and record each message as a delivery under its unique
   (item, occurrence) key, state `sending`. An item that raises meanwhile (a bug, bad data) fails
   on its own, with the error's type as its reason; the rest of the batch goes on;
3. send, then settle: `sent`, or back to wait (429 `Retry-After`, backoff with jitter), or `failed`
   with the platform's reason; then plan the next step of the conversation.

A crash between 2 and 3 leaves a delivery `sending`. When the lease runs out another tick finds it:
a sender that can drop a repeat by key (`Sender.idempotent`) sends again, if it is still needed;
one that cannot (Slack) would show it twice, so the item is marked `unknown` and shown in
`/retro status`. A send whose answer was lost (`Uncertain`) is treated the same way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.core import digest, prompts
from bot.core.clock import Clock
from bot.core.messages import Message
from bot.core.model import WEEKLY_KINDS, ItemKind, ItemStatus, LessonPromptState, ScheduledItem
from bot.core.ports import Destination, Outgoing, RateLimited, Rejected, Sender, TransientError, Uncertain
from bot.core.similarity import Matcher
from bot.scheduling import planner, plans
from bot.scheduling.policy import SchedulePolicy
from bot.storage.database import Database
from bot.storage.repositories.scheduling import DeliveryState, Facts, NewItem
from bot.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

BATCH_SIZE = 500
SEND_CONCURRENCY = 16
SEND_TIMEOUT = timedelta(seconds=30)
MAX_BUNDLE = 8
"""Prompts in one bundled message at most (platforms cap the buttons of a message)."""
SETTLE_ATTEMPTS = 3
REQUEST_KEYS_KEPT = timedelta(days=1)
"""How long a handled request's key is kept, each tick forgetting older ones: a key only has to
outlive the platform's redeliveries (Slack retries within minutes)."""


# -- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settle:
    """End the item without sending: cancelled, missed, failed, unknown, or sent by another tick."""

    status: ItemStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Defer:
    until: datetime


@dataclass(frozen=True, slots=True)
class Close:
    """A window-closing item: do its work, no message."""


@dataclass(frozen=True, slots=True)
class Deliver:
    again: bool = False
    """A message whose delivery was already recorded: a retry, or a resend after a crash."""


Decision = Settle | Defer | Close | Deliver


def obsolete(item: ScheduledItem, facts: Facts, policy: SchedulePolicy) -> str | None:
    """Why an item no longer needs doing, if it doesn't."""
    misstep = facts.missteps.get(item.misstep_id) if item.misstep_id else None
    match item.kind:
        case ItemKind.LESSON_PROMPT | ItemKind.LESSON_REMINDER | ItemKind.LESSON_CLOSE:
            if misstep is None:
                return "the misstep is gone"
            if misstep.id in facts.lessons:
                return "the lesson came in"
        case ItemKind.CHECK | ItemKind.CHECK_CLOSE:
            if misstep is None or misstep.id not in facts.lessons:
                return "there is no lesson to check"
        case ItemKind.RETRO_ROUND | ItemKind.DIGEST:
            if plans.team_schedule(item.kind, facts.schedules.get((item.team_id, item.kind)), policy) is None:
                return "turned off for this team"
    return None


def triage(
    item: ScheduledItem, facts: Facts, now: datetime, policy: SchedulePolicy, idempotent: bool
) -> Decision:
    """What to do with one claimed item. Pure: the facts were loaded for the whole batch."""
    team = facts.teams[item.team_id]
    delivery = facts.deliveries.get(item.id)
    if delivery is not None:
        # The message was recorded before: it was sent or given up by a tick that did not get to
        # settle the item, or it is in flight from a tick that crashed, or waiting for a retry.
        if delivery.state in (DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.UNKNOWN):
            return Settle(ItemStatus(delivery.state))
        if delivery.state == DeliveryState.SENDING and not idempotent:
            return Settle(ItemStatus.UNKNOWN, "interrupted mid-send by a crash; not resent")
    if item.kind.sends and (stopped := facts.stopped.get((team.ref.platform, team.ref.workspace))):
        return Settle(ItemStatus.FAILED, f"sends to this workspace are stopped ({stopped})")
    # A recorded message left to send never arrived (a retry), or may go again harmlessly (caught
    # mid-send, on a platform that drops a repeat): like a first send, only if still needed.
    if reason := obsolete(item, facts, policy):
        return Settle(ItemStatus.CANCELLED, reason)
    if not item.kind.sends:
        return Close()
    if not item.kind.private:
        if delivery is None and planner.is_stale(item.run_at, now, policy):
            return Settle(ItemStatus.MISSED, f"{_late(now - item.run_at)} late: past the grace period")
        return Deliver(again=delivery is not None)
    recipient = facts.members.get(item.member_id) if item.member_id else None
    if recipient is None:
        # Never the channel instead: the prompt may be an anonymous author's.
        return Settle(ItemStatus.FAILED, "the recipient is no longer known")
    if delivery is not None:
        return Deliver(again=True)
    at = planner.reachable_at(item.run_at, now, planner.member_calendar(recipient, team, policy))
    return Deliver() if at <= now else Defer(at)


def _late(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def _final_delivery_state(state: str, status: ItemStatus) -> str:
    """How a recorded message ends when its item ends without sending it (again): `unknown` if it
    may have arrived (caught mid-send), so that it still counts against the no-nagging cap; else
    `failed`, with the item's reason."""
    if status is ItemStatus.UNKNOWN or state == DeliveryState.SENDING:
        return DeliveryState.UNKNOWN
    return DeliveryState.FAILED


def _address(lead: ScheduledItem, message: Message, facts: Facts) -> Outgoing:
    """The message of `lead`, addressed: a private one to its recipient, never to the channel."""
    team = facts.teams[lead.team_id]
    if not lead.kind.private:
        return Outgoing(Destination(team.ref), message, lead.delivery_key)
    recipient = facts.members.get(lead.member_id) if lead.member_id else None
    if recipient is None:
        # `triage` fails these before they get here; should one slip through, it fails too.
        raise LookupError(f"{lead.kind.value} {lead.id} has no recipient")
    return Outgoing(Destination(team.ref, recipient.user_id), message, lead.delivery_key)


# -- sending --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    lead: ScheduledItem
    riders: tuple[ScheduledItem, ...]
    """Items bundled into the lead's message."""
    delivery_id: int
    outgoing: Outgoing


@dataclass(frozen=True, slots=True)
class Delivered:
    pass


@dataclass(frozen=True, slots=True)
class Wait:
    """Rate limited: try again at `until`, not counted as a failed attempt."""

    until: datetime


@dataclass(frozen=True, slots=True)
class Flaky:
    error: str


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str


@dataclass(frozen=True, slots=True)
class Lost:
    """The send may or may not have arrived, on a platform that cannot drop a repeat."""

    reason: str


Result = Delivered | Wait | Flaky | Refused | Lost


def _maybe_arrived(idempotent: bool, what: str) -> Flaky | Lost:
    """A send that may have reached the platform: tried again under its key where a repeat is
    dropped; elsewhere left alone (`unknown`) rather than risk showing it twice."""
    return Flaky(what) if idempotent else Lost(f"{what}; it may have arrived, so it is not resent")


LeadAndRiders = tuple[ScheduledItem, Sequence[ScheduledItem]]
"""A message by its items: the one it is recorded under, and those riding in it."""


@dataclass
class TickReport:
    """What one tick did, by outcome: sent, bundled, deferred, retrying, failed, unknown, missed,
    cancelled, closed."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, what: str, n: int = 1) -> None:
        if n:
            self.counts[what] += n

    def __getitem__(self, what: str) -> int:
        return self.counts[what]

    def __str__(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items())) or "nothing due"


def worker_name() -> str:
    """Who claims: host, process and a random part (a restarted process is a new claimant)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Ticker:
    """Runs ticks for one process, through the senders of the platforms it is configured for."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        senders: Mapping[str, Sender],
        policy: SchedulePolicy,
        matcher: Matcher,
        *,
        worker: str | None = None,
        rng: Random | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.database = database
        self.clock = clock
        self.senders = senders
        """By platform; shared with the app, so adapters may register theirs after this is built."""
        self.policy = policy
        self.matcher = matcher
        """For the round summary's "we already learned this in #7"."""
        self.worker = worker or worker_name()
        self.rng = rng or Random()
        self.batch_size = batch_size

    async def tick(self) -> TickReport:
        """Deliver everything due now, batch by batch, until nothing due is left."""
        report = TickReport()
        waiting: dict[str, datetime] = {}
        """Platforms that answered 429 this tick, until when."""
        await self._forget_request_keys(self.clock())
        while True:
            now = self.clock()
            platforms = [p for p in self.senders if waiting.get(p, now) <= now]
            if not platforms:
                return report
            async with self.database.unit_of_work() as uow:
                claimed = await uow.outbox.claim(
                    now, platforms, self.batch_size, self.worker, self.policy.claim_lease
                )
                await uow.commit()
            if not claimed:
                return report
            sends, facts = await self._prepare(claimed, now, report)
            # Sends start only in the first half of the lease and time out within a quarter of
            # it, so the batch is settled before another tick may take its items: a slow batch
            # hands back what it could not start instead of risking it being sent twice.
            lease = self.policy.claim_lease
            results = await self._send(sends, waiting, now + lease / 2, min(SEND_TIMEOUT, lease / 4))
            await self._settle(results, facts, report)

    async def _forget_request_keys(self, now: datetime) -> None:
        """Forget the keys of requests handled before any redelivery could still come: without
        this the table grows forever. Cheap: a range on the `created_at` index."""
        async with self.database.unit_of_work() as uow:
            await uow.invocations.forget_before(now - REQUEST_KEYS_KEPT)
            await uow.commit()

    # -- prepare --------------------------------------------------------------------------

    async def _prepare(
        self, claimed: Sequence[ScheduledItem], now: datetime, report: TickReport
    ) -> tuple[list[Send], Facts | None]:
        try:
            try:
                return await self._prepare_pass(claimed, now, report, careful=False)
            except DBAPIError:
                raise
            except Exception:
                # Some item raised, and left alone it would be claimed first again and again. A
                # careful pass finds it: each item under its own savepoint, failing alone. Only a
                # batch that needs them pays for the savepoints (two statements an item).
                log.warning(
                    "tick %s: an item of a batch of %d could not be prepared; preparing item by item",
                    self.worker,
                    len(claimed),
                )
                return await self._prepare_pass(claimed, now, report, careful=True)
        except IntegrityError:
            # A delivery for one of these items was recorded by another tick: our lease ran out
            # and the items are someone else's now. Leave them to that tick.
            log.warning("tick %s: a batch of %d was taken over by another tick", self.worker, len(claimed))
            return [], None
        except DBAPIError:
            # A deadlock or a lost connection: nothing of the batch was written, and its items
            # come back once the lease runs out.
            log.warning("tick %s: preparing a batch failed; it will be retried", self.worker, exc_info=True)
            return [], None

    async def _prepare_pass(
        self, claimed: Sequence[ScheduledItem], now: datetime, report: TickReport, *, careful: bool
    ) -> tuple[list[Send], Facts]:
        counted = TickReport()  # kept only if the pass commits
        async with self.database.unit_of_work() as uow:
            sends, facts = await self._decide(uow, claimed, now, counted, careful)
            await uow.commit()
        report.counts.update(counted.counts)
        return sends, facts

    async def _decide(
        self,
        uow: UnitOfWork,
        claimed: Sequence[ScheduledItem],
        now: datetime,
        report: TickReport,
        careful: bool,
    ) -> tuple[list[Send], Facts]:
        outbox = uow.outbox
        await outbox.lock_rows(
            (i.member_id for i in claimed if i.member_id and i.kind.private),
            (i.misstep_id for i in claimed if i.misstep_id),
        )
        items = await outbox.still_ours([i.id for i in claimed], self.worker)
        facts = await outbox.facts(items, now, self.policy.prompt_window)
        fresh: list[ScheduledItem] = []
        again: list[ScheduledItem] = []
        for item in items:
            async with self._guard(
                uow, [(item, facts.bundled.get(item.id, []))], facts, now, report, careful
            ):
                match triage(item, facts, now, self.policy, self.senders[item.platform].idempotent):
                    case Deliver(again=True):
                        again.append(item)
                    case Deliver():
                        fresh.append(item)
                    case Settle() | Defer() | Close() as decision:
                        await self._apply(uow, item, decision, facts, now, report)
        drafts = await self._compose(uow, fresh, facts, now, report, careful)
        delivery_ids = await outbox.add_deliveries(
            [(lead, lead.member_id if lead.kind.private else None) for lead, _, _ in drafts], now
        )
        sends: list[Send] = []
        for lead, riders, outgoing in drafts:
            await outbox.bundle([r.id for r in riders], lead.id, self.worker)
            sends.append(Send(lead, riders, delivery_ids[lead.id], outgoing))
        for lead in again:
            riders = facts.bundled.get(lead.id, [])
            async with self._guard(uow, [(lead, riders)], facts, now, report, careful):
                if (send := await self._resend(uow, lead, riders, facts, now, report)) is not None:
                    sends.append(send)
        return sends, facts

    async def _apply(
        self,
        uow: UnitOfWork,
        item: ScheduledItem,
        decision: Settle | Defer | Close,
        facts: Facts,
        now: datetime,
        report: TickReport,
    ) -> None:
        """Carry out a decision that sends nothing now."""
        outbox = uow.outbox
        match decision:
            case Settle(status, reason) if (delivery := facts.deliveries.get(item.id)) is not None:
                if status is not ItemStatus.SENT:
                    state = _final_delivery_state(delivery.state, status)
                    await outbox.set_delivery_state([delivery.id], state, now, reason)
                riders = facts.bundled.get(item.id, [])
                if status is ItemStatus.CANCELLED:
                    # The message is no longer needed, but what rides in it may be: back to the
                    # queue, each to be sent (or dropped) on its own.
                    await outbox.unbundle([r.id for r in riders])
                    riders = []
                await self._end_messages(uow, [(item, riders)], status, now, facts, report, reason)
            case Settle(status, reason):
                await self._end(uow, [item], status, now, facts, report, reason)
            case Defer(until):
                await outbox.reschedule([(item.id, until)], self.worker)
                report.add("deferred")
            case Close():
                await self._end(uow, [item], ItemStatus.DONE, now, facts, report)

    async def _resend(
        self,
        uow: UnitOfWork,
        lead: ScheduledItem,
        riders: Sequence[ScheduledItem],
        facts: Facts,
        now: datetime,
        report: TickReport,
    ) -> Send | None:
        """A message tried before, again under its key: what the first attempt carried, less what
        no longer needs saying."""
        outbox, delivery = uow.outbox, facts.deliveries[lead.id]
        kept: list[ScheduledItem] = []
        for rider in riders:
            if reason := obsolete(rider, facts, self.policy):
                report.add(
                    "cancelled",
                    len(await outbox.settle_riders([rider.id], ItemStatus.CANCELLED, now, reason)),
                )
            else:
                kept.append(rider)
        message = await self._message(uow, [lead, *kept], facts, now)
        if message is None:
            gone = "nothing left to send"
            state = _final_delivery_state(delivery.state, ItemStatus.CANCELLED)
            await outbox.set_delivery_state([delivery.id], state, now, gone)
            await self._end_messages(uow, [(lead, kept)], ItemStatus.CANCELLED, now, facts, report, gone)
            return None
        outgoing = _address(lead, message, facts)
        await outbox.set_delivery_state([delivery.id], DeliveryState.SENDING, now)
        return Send(lead, tuple(kept), delivery.id, outgoing)

    async def _compose(
        self,
        uow: UnitOfWork,
        fresh: Sequence[ScheduledItem],
        facts: Facts,
        now: datetime,
        report: TickReport,
        careful: bool,
    ) -> list[tuple[ScheduledItem, tuple[ScheduledItem, ...], Outgoing]]:
        """Messages for the items to send now: channel posts one by one; a member's prompts as
        one message, unless the no-nagging cap is reached (then they wait for a free slot)."""
        composed: list[tuple[ScheduledItem, tuple[ScheduledItem, ...], Outgoing]] = []
        by_member: dict[int, list[ScheduledItem]] = defaultdict(list)
        for item in fresh:
            if item.kind.private and item.member_id is not None:
                by_member[item.member_id].append(item)
                continue
            async with self._guard(uow, [(item, [])], facts, now, report, careful):
                if (message := await self._part(uow, item, facts, now)) is not None:
                    composed.append((item, (), _address(item, message, facts)))
                else:
                    await self._end(
                        uow, [item], ItemStatus.CANCELLED, now, facts, report, "nothing left to send"
                    )
        for member_id, group in by_member.items():
            async with self._guard(uow, [(item, []) for item in group], facts, now, report, careful):
                composed += await self._bundle(uow, member_id, group, facts, now, report, careful)
        return composed

    async def _bundle(
        self,
        uow: UnitOfWork,
        member_id: int,
        group: Sequence[ScheduledItem],
        facts: Facts,
        now: datetime,
        report: TickReport,
        careful: bool,
    ) -> list[tuple[ScheduledItem, tuple[ScheduledItem, ...], Outgoing]]:
        """One member's prompts as one message, or none while the cap is reached."""
        frees = planner.prompt_slot_frees(facts.recent_sends.get(member_id, ()), now, self.policy)
        if frees is not None:
            team = facts.teams[group[0].team_id]
            cal = planner.member_calendar(facts.members[member_id], team, self.policy)
            at = planner.next_working_time(frees, cal)
            await uow.outbox.reschedule([(i.id, at) for i in group], self.worker)
            report.add("deferred", len(group))
            return []
        ordered = sorted(group, key=lambda i: (i.due_at, i.id))
        bundle, later = ordered[:MAX_BUNDLE], ordered[MAX_BUNDLE:]
        # The rest go in the next batch of this same tick, where the cap is counted afresh.
        await uow.outbox.reschedule([(i.id, now) for i in later], self.worker)
        parts: list[tuple[ScheduledItem, Message | None]] = []
        for item in bundle:
            async with self._guard(uow, [(item, [])], facts, now, report, careful):
                parts.append((item, await self._part(uow, item, facts, now)))
        if empty := [item for item, part in parts if part is None]:
            await self._end(uow, empty, ItemStatus.CANCELLED, now, facts, report, "nothing left to send")
        kept = [(item, part) for item, part in parts if part is not None]
        if not kept:
            return []
        lead, message = kept[0][0], prompts.bundle([part for _, part in kept])
        return [(lead, tuple(item for item, _ in kept[1:]), _address(lead, message, facts))]

    @asynccontextmanager
    async def _guard(
        self,
        uow: UnitOfWork,
        messages: Sequence[LeadAndRiders],
        facts: Facts,
        now: datetime,
        report: TickReport,
        careful: bool,
    ) -> AsyncIterator[None]:
        """In a careful pass, prepare these items on their own: if that raises, what it wrote is
        undone and they fail; the rest of the batch goes on. Otherwise a plain block."""
        if not careful:
            yield
            return
        counts = report.counts.copy()
        try:
            async with uow.session.begin_nested():
                yield
        except DBAPIError:
            raise  # the database's trouble, not the item's: the batch waits for its lease
        except Exception as error:
            report.counts = counts
            await self._fail(uow, messages, error, facts, now, report)

    async def _fail(
        self,
        uow: UnitOfWork,
        messages: Sequence[LeadAndRiders],
        error: Exception,
        facts: Facts,
        now: datetime,
        report: TickReport,
    ) -> None:
        """Fail messages that could not be prepared, the error's type as the reason (shown in
        `/retro status`); the conversation moves on as after any failed message."""
        reason = f"could not be prepared ({type(error).__name__})"
        # The error's text may quote what people wrote: the log gets its type and where it was
        # raised, which is what finding the bug takes.
        log.error(
            "tick %s: %s could not be prepared (%s), marked failed; raised at:\n%s",
            self.worker,
            ", ".join(f"{lead.kind.value} {lead.id}" for lead, _ in messages),
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)).rstrip(),
        )
        for lead, _ in messages:
            if (delivery := facts.deliveries.get(lead.id)) is not None:
                state = _final_delivery_state(delivery.state, ItemStatus.FAILED)
                await uow.outbox.set_delivery_state([delivery.id], state, now, reason)
        ended = await self._close_messages(uow, messages, ItemStatus.FAILED, now, report, reason)
        try:
            async with uow.session.begin_nested():
                await self._after(uow, ended, ItemStatus.FAILED, now, facts)
        except DBAPIError:
            raise
        except Exception as again:
            log.error(
                "tick %s: nothing could be planned after them either (%s)", self.worker, type(again).__name__
            )

    async def _message(
        self, uow: UnitOfWork, items: Sequence[ScheduledItem], facts: Facts, now: datetime
    ) -> Message | None:
        """The message for an item, or for a member's bundle; None when nothing is left to say."""
        parts = [part for item in items if (part := await self._part(uow, item, facts, now)) is not None]
        return prompts.bundle(parts) if parts else None

    async def _part(
        self, uow: UnitOfWork, item: ScheduledItem, facts: Facts, now: datetime
    ) -> Message | None:
        team = facts.teams[item.team_id]
        misstep = facts.missteps.get(item.misstep_id) if item.misstep_id else None
        lesson = facts.lessons.get(item.misstep_id) if item.misstep_id else None
        match item.kind:
            case ItemKind.LESSON_PROMPT | ItemKind.LESSON_REMINDER if misstep is not None:
                return prompts.lesson_prompt(misstep, reminder=item.kind is ItemKind.LESSON_REMINDER)
            case ItemKind.CHECK if misstep is not None and lesson is not None:
                return prompts.check_prompt(misstep, lesson, again=item.occurrence > 0)
            case ItemKind.RETRO_ROUND:
                summary = planner.round_summary_due(item.due_at, planner.team_calendar(team, self.policy))
                return prompts.round_invitation(summary, planner.zone_name(team.timezone, "UTC"), now)
            case ItemKind.ROUND_SUMMARY:
                start = item.window_start or item.due_at - timedelta(days=7)
                return await digest.round_summary(uow, team, start, item.due_at, now, self.matcher)
            case ItemKind.DIGEST:
                return await digest.weekly_digest(uow, team, now, check_after=self.policy.check_after)
        return None

    # -- send -----------------------------------------------------------------------------

    async def _send(
        self, sends: Sequence[Send], waiting: dict[str, datetime], start_by: datetime, send_limit: timedelta
    ) -> list[tuple[Send, Result]]:
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(send: Send) -> tuple[Send, Result]:
            async with gate:
                return send, await self._send_one(send, waiting, start_by, send_limit)

        return list(await asyncio.gather(*(one(send) for send in sends)))

    async def _send_one(
        self, send: Send, waiting: dict[str, datetime], start_by: datetime, send_limit: timedelta
    ) -> Result:
        platform = send.lead.platform
        sender = self.senders[platform]
        now = self.clock()
        if (until := waiting.get(platform)) is not None and until > now:
            return Wait(until)
        if now > start_by:
            return Wait(now)  # not started: free for the next tick, not an attempt
        try:
            await asyncio.wait_for(sender.send(send.outgoing), send_limit.total_seconds())
        except RateLimited as error:
            until = self.clock() + timedelta(seconds=error.retry_after)
            waiting[platform] = max(until, waiting.get(platform, until))
            return Wait(until)
        except Rejected as error:
            return Refused(error.reason)
        except TransientError as error:
            return Flaky(str(error) or type(error).__name__)
        except Uncertain as error:
            return _maybe_arrived(sender.idempotent, str(error) or "the answer was lost")
        except TimeoutError:
            return _maybe_arrived(sender.idempotent, "timed out")
        except Exception as error:
            # A bug in an adapter must not stop the queue: log it, retry with backoff, and give
            # up for good after the last attempt like any other failure.
            log.exception("sender %s failed on %s", platform, send.outgoing.key)
            return Flaky(f"unexpected {type(error).__name__}")
        return Delivered()

    # -- settle ---------------------------------------------------------------------------

    async def _settle(
        self, results: Sequence[tuple[Send, Result]], facts: Facts | None, report: TickReport
    ) -> None:
        if not results or facts is None:
            return
        for attempt in range(1, SETTLE_ATTEMPTS + 1):
            try:
                async with self.database.unit_of_work() as uow:
                    await self._record(uow, results, report)
                    await uow.commit()
                return
            except DBAPIError:
                # Sent but not recorded would mean a resend (or `unknown`) after the lease: worth
                # another go at the bookkeeping before giving up.
                if attempt == SETTLE_ATTEMPTS:
                    raise
                log.warning("tick %s: recording deliveries failed, trying again", self.worker, exc_info=True)

    async def _record(
        self, uow: UnitOfWork, results: Sequence[tuple[Send, Result]], report: TickReport
    ) -> None:
        outbox, now = uow.outbox, self.clock()
        items = [i for send, _ in results for i in (send.lead, *send.riders)]
        await outbox.lock_rows((), (i.misstep_id for i in items if i.misstep_id))
        await outbox.lock_items([i.id for i in items])
        facts = await outbox.facts(items, now, self.policy.prompt_window, sending=False)
        delivered = [send for send, result in results if isinstance(result, Delivered)]
        await outbox.set_delivery_state([s.delivery_id for s in delivered], DeliveryState.SENT, now)
        await self._end_messages(uow, delivered, ItemStatus.SENT, now, facts, report)
        for send, result in results:
            match result:
                case Wait(until):
                    await outbox.set_delivery_state([send.delivery_id], DeliveryState.RETRYING, now)
                    await outbox.reschedule([(send.lead.id, until)], self.worker, error="rate limited")
                    report.add("retrying")
                case Flaky(error) if send.lead.attempts + 1 < planner.MAX_ATTEMPTS:
                    attempts = send.lead.attempts + 1
                    at = now + planner.retry_delay(attempts, self.rng)
                    await outbox.set_delivery_state([send.delivery_id], DeliveryState.RETRYING, now, error)
                    await outbox.reschedule(
                        [(send.lead.id, at)], self.worker, attempts={send.lead.id: attempts}, error=error
                    )
                    report.add("retrying")
                case Flaky(error):
                    reason = f"gave up after {planner.MAX_ATTEMPTS} attempts: {error}"
                    await outbox.set_delivery_state([send.delivery_id], DeliveryState.FAILED, now, reason)
                    await self._end_messages(uow, [send], ItemStatus.FAILED, now, facts, report, reason)
                case Refused(reason):
                    await outbox.set_delivery_state([send.delivery_id], DeliveryState.FAILED, now, reason)
                    await self._end_messages(uow, [send], ItemStatus.FAILED, now, facts, report, reason)
                case Lost(reason):
                    await outbox.set_delivery_state([send.delivery_id], DeliveryState.UNKNOWN, now, reason)
                    await self._end_messages(uow, [send], ItemStatus.UNKNOWN, now, facts, report, reason)

    async def _end_messages(
        self,
        uow: UnitOfWork,
        messages: Sequence[Send | LeadAndRiders],
        status: ItemStatus,
        now: datetime,
        facts: Facts,
        report: TickReport,
        reason: str | None = None,
    ) -> None:
        """End messages, their leads and the items riding in them, and plan what comes next."""
        ended = await self._close_messages(uow, messages, status, now, report, reason)
        await self._after(uow, ended, status, now, facts)

    async def _close_messages(
        self,
        uow: UnitOfWork,
        messages: Sequence[Send | LeadAndRiders],
        status: ItemStatus,
        now: datetime,
        report: TickReport,
        reason: str | None,
    ) -> list[ScheduledItem]:
        """Set the status of messages' leads and riders; returns the items that moved. A lead that
        is no longer this tick's (our lease ran out and another tick took it) is left, riders and
        all, to that tick."""
        pairs = [(m.lead, m.riders) if isinstance(m, Send) else m for m in messages]
        ended = await uow.outbox.settle([lead.id for lead, _ in pairs], status, now, self.worker, reason)
        ours = {lead.id for lead in ended}
        rider_ids = [rider.id for lead, riders in pairs if lead.id in ours for rider in riders]
        rode = await uow.outbox.settle_riders(rider_ids, status, now, reason)
        report.add("closed" if status is ItemStatus.DONE else status.value, len(ended))
        report.add("bundled", len(rode))
        return [*ended, *rode]

    async def _end(
        self,
        uow: UnitOfWork,
        items: Sequence[ScheduledItem],
        status: ItemStatus,
        now: datetime,
        facts: Facts,
        report: TickReport,
        reason: str | None = None,
    ) -> None:
        """End items this tick owns that carry no message of their own."""
        ended = await uow.outbox.settle([i.id for i in items], status, now, self.worker, reason)
        report.add("closed" if status is ItemStatus.DONE else status.value, len(ended))
        await self._after(uow, ended, status, now, facts)

    async def _after(
        self, uow: UnitOfWork, ended: Sequence[ScheduledItem], status: ItemStatus, now: datetime, facts: Facts
    ) -> None:
        """What ended items mean for their missteps, and the next steps to plan."""
        if status is ItemStatus.CANCELLED:
            return
        moved: dict[LessonPromptState, list[int]] = defaultdict(list)
        planned: list[NewItem] = []
        for item in ended:
            team = facts.teams[item.team_id]
            misstep = facts.missteps.get(item.misstep_id) if item.misstep_id else None
            if item.kind in plans.LESSON_CHAIN and misstep is not None and misstep.id in facts.lessons:
                continue  # the lesson came in while this was underway: the conversation moved on
            if status is ItemStatus.DONE and misstep is not None:
                await plans.close_window(uow, team, item, misstep, now)
            if (state := plans.prompt_state_after(item, status)) and misstep is not None:
                moved[state].append(misstep.id)
            stored = facts.schedules.get((team.id, item.kind))
            planned += plans.next_steps(
                team,
                item,
                status,
                now,
                self.policy,
                recipient=facts.members.get(item.member_id) if item.member_id else None,
                schedule=plans.team_schedule(item.kind, stored, self.policy)
                if item.kind in WEEKLY_KINDS
                else None,
            )
        for state, misstep_ids in moved.items():
            await uow.outbox.advance_prompt_state(misstep_ids, state)
        await uow.outbox.plan(planned, now)
