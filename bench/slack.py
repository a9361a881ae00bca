"""Bench: signed slash commands over loopback HTTP, the bot next to a bare Bolt app that only acks.

    .venv/bin/python bench/slack.py [--requests N] [--concurrency C] [--rate R] [--seconds S] [--rounds K]

Both apps run in processes of their own and take turns (`rounds` times) under the same load,
sent from this process with the local Slack emulator (tests/emulators/slack.py) serving the Web
API and the response_urls:

* bare Bolt: an `AsyncApp` configured as the bot's (HTTP, signature verification, one workspace,
  `process_before_response`) whose only listener acks `/retro`;
* retro: `retro run` itself, unmodified, on a fresh SQLite database, the emulator behind
  ``SLACK_API_URL``. Every command is a write: ``/retro oops ...`` logs a misstep (and plans its
  lesson prompt), from 20 different people.

Two loads, after a warm-up:

* closed loop: `concurrency` clients send `requests` commands back to back. Throughput is
  requests over the time until the last ack; latency is from sending to the ack (the HTTP
  response). For retro also "answered": until its ephemeral reply reached the response_url, and
  that throughput (all replies in).
* open loop: `rate` commands a second for `seconds` seconds on a fixed schedule; latency counts
  from each command's scheduled time, so a stall is not hidden by the sender waiting for it.

Nothing here is asserted; it prints what it measured and how.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from tests.emulators.slack import SlackEmulator

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = [f"U{i:03d}" for i in range(20)]


def bare_bolt(port: int, api_url: str, token: str, secret: str) -> None:
    """The baseline: Bolt with the bot's settings and a listener that only acks."""
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp

    app = AsyncApp(token=token, signing_secret=secret, process_before_response=True)
    app.client.base_url = api_url

    @app.command("/retro")
    async def ack_only(ack):  # type: ignore[no-untyped-def]
        await ack()

    web.run_app(app.web_app(path="/slack/events"), host="127.0.0.1", port=port, print=None, access_log=None)


@dataclass
class Run:
    acks: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    answered_elapsed: float = 0.0
    errors: int = 0

    @property
    def throughput(self) -> float:
        return len(self.acks) / self.elapsed if self.elapsed else 0.0

    @property
    def answered_throughput(self) -> float:
        return len(self.answered) / self.answered_elapsed if self.answered_elapsed else 0.0


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] * 1000


class Load:
    """Signed slash commands to one app, ack and answer times recorded."""

    def __init__(self, slack: SlackEmulator, url: str, expects_answers: bool) -> None:
        self.slack = slack
        self.url = url
        self.expects_answers = expects_answers
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.counter = 0
        self.pending: dict[str, float] = {}
        """Response URLs of acknowledged commands, with when each was sent."""

    async def close(self) -> None:
        await self.session.close()

    async def one(self, run: Run, started: float) -> None:
        self.counter += 1
        user = PEOPLE[self.counter % len(PEOPLE)]
        payload = self.slack.command_payload(f"oops bench misstep {self.counter} #bench", user=user)
        body = urllib.parse.urlencode(payload)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **self.slack.sign(body)}
        try:
            async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
                await response.read()
                ok = response.status == 200
        except aiohttp.ClientError:
            ok = False
        if not ok:
            run.errors += 1
            return
        run.acks.append(time.monotonic() - started)
        if self.expects_answers:
            self.pending[payload["response_url"]] = started

    async def closed_loop(self, requests: int, concurrency: int) -> Run:
        run, self.pending = Run(), {}
        queue = iter(range(requests))

        async def client() -> None:
            for _ in queue:
                await self.one(run, time.monotonic())

        start = time.monotonic()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        run.elapsed = time.monotonic() - start
        await self.collect_answers(run, start)
        return run

    async def open_loop(self, rate: float, seconds: float) -> Run:
        run, self.pending = Run(), {}
        start = time.monotonic()
        tasks = []
        for i in range(int(rate * seconds)):
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            tasks.append(asyncio.create_task(self.one(run, scheduled)))
        await asyncio.gather(*tasks)
        run.elapsed = time.monotonic() - start
        await self.collect_answers(run, start)
        return run

    async def collect_answers(self, run: Run, start: float) -> None:
        if not self.expects_answers:
            return
        expected = set(self.pending)

        def arrived() -> bool:
            seen = {m.response_url for m in self.slack.messages if m.response_url in expected}
            return len(seen) == len(expected)

        await self.slack.wait_for(arrived, within=600)
        first: dict[str, float] = {}
        for message in self.slack.messages:
            if message.response_url in expected and message.response_url not in first:
                first[message.response_url] = message.at
        run.answered = [at - self.pending[url] for url, at in first.items()]
        run.answered_elapsed = max(first.values()) - start
        self.slack.messages.clear()
        self.slack.calls.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if process.returncode is not None:
            raise SystemExit(f"the app exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise SystemExit(f"nothing listens on port {port}")


async def start_app(kind: str, slack: SlackEmulator, home: Path) -> tuple[asyncio.subprocess.Process, int]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "RETRO_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'retro.db'}",
        "RETRO_HTTP_HOST": "127.0.0.1",
        "RETRO_HTTP_PORT": str(port),
        "RETRO_LOG_LEVEL": "WARNING",
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
    }
    args = ["-m", "bot.cli", "run"] if kind == "retro" else [__file__, "--bare-bolt", str(port)]
    process = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, cwd=ROOT)
    await wait_listening(port, process)
    return process, port


async def stop_app(process: asyncio.subprocess.Process) -> None:
    process.send_signal(2)  # SIGINT: `retro run` stops like on Ctrl-C
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        process.kill()
        await process.wait()


async def measure(kind: str, slack: SlackEmulator, args: argparse.Namespace, home: Path) -> tuple[Run, Run]:
    process, port = await start_app(kind, slack, home / kind)
    load = Load(slack, f"http://127.0.0.1:{port}/slack/events", expects_answers=kind == "retro")
    try:
        await load.closed_loop(min(100, args.requests), args.concurrency)  # warm-up
        closed = await load.closed_loop(args.requests, args.concurrency)
        opened = await load.open_loop(args.rate, args.seconds)
    finally:
        await load.close()
        await stop_app(process)
    return closed, opened


def median_of(runs: list[Run], value: str) -> float:
    return statistics.median(getattr(run, value) for run in runs)


def median_pct(runs: list[Run], which: str, pct: float) -> float:
    return statistics.median(percentile(getattr(run, which), pct) for run in runs)


def report(args: argparse.Namespace, bare: list[tuple[Run, Run]], retro: list[tuple[Run, Run]]) -> str:
    bare_closed, bare_open = [r[0] for r in bare], [r[1] for r in bare]
    retro_closed, retro_open = [r[0] for r in retro], [r[1] for r in retro]

    def ms(runs: list[Run], which: str) -> str:
        if not any(getattr(run, which) for run in runs):
            return "-"
        return f"{median_pct(runs, which, 50):.1f} / {median_pct(runs, which, 99):.1f}"

    def p99s(runs: list[Run]) -> str:
        return " ".join(f"{percentile(run.acks, 99):.1f}" for run in runs)

    def rates(runs: list[Run], value: str) -> str:
        return " ".join(f"{getattr(run, value):.0f}" for run in runs)

    bare_rate, retro_rate = median_of(bare_closed, "throughput"), median_of(retro_closed, "throughput")
    errors_bare = sum(r.errors for r in bare_closed + bare_open)
    errors_retro = sum(r.errors for r in retro_closed + retro_open)
    rows = [
        ("throughput, acks (req/s)", f"{bare_rate:.0f}", f"{retro_rate:.0f} ({retro_rate / bare_rate:.0%})"),
        ("  each round", rates(bare_closed, "throughput"), rates(retro_closed, "throughput")),
        ("ack p50 / p99 (ms)", ms(bare_closed, "acks"), ms(retro_closed, "acks")),
        ("answered p50 / p99 (ms)", "-", ms(retro_closed, "answered")),
        ("throughput, answered (req/s)", "-", f"{median_of(retro_closed, 'answered_throughput'):.0f}"),
        (f"at {args.rate:g} req/s: ack p50 / p99 (ms)", ms(bare_open, "acks"), ms(retro_open, "acks")),
        ("  p99 each round", p99s(bare_open), p99s(retro_open)),
        (f"at {args.rate:g} req/s: answered p50 / p99", "-", ms(retro_open, "answered")),
        ("errors", str(errors_bare), str(errors_retro)),
    ]
    lines = [
        f"Signed /retro slash commands over loopback HTTP, retro on SQLite ({os.cpu_count()} CPUs).",
        f"Closed loop: {args.requests} requests from {args.concurrency} clients; "
        f"open loop: {args.rate:g} req/s for {args.seconds:g} s (latency from the scheduled send time).",
        f"Median of {args.rounds} rounds, the apps taking turns.",
        f"{'':36}{'bare Bolt (ack only)':>22}{'retro':>26}",
        *(f"{name:36}{bare_value:>22}{retro_value:>26}" for name, bare_value, retro_value in rows),
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    slack = SlackEmulator()
    await slack.start()
    for user in PEOPLE:
        slack.add_user(user, f"Person {user}")
    bare: list[tuple[Run, Run]] = []
    retro: list[tuple[Run, Run]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="retro-bench-slack-") as tmp:
            for round_ in range(args.rounds):
                home = Path(tmp) / str(round_)
                bare.append(await measure("bare", slack, args, home))
                retro.append(await measure("retro", slack, args, home))
    finally:
        await slack.stop()
    print(report(args, bare, retro))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare-bolt", type=int, metavar="PORT", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.bare_bolt:
        bare_bolt(
            options.bare_bolt,
            os.environ["SLACK_API_URL"],
            os.environ["SLACK_BOT_TOKEN"],
            os.environ["SLACK_SIGNING_SECRET"],
        )
    else:
        asyncio.run(main(options))
