"""The jobs timeline as a server-rendered SVG: one lane per job, a bar per run (its duration),
coloured by outcome; runs that overlap go on stacked rows so an overlap is seen at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

COLOURS = {"success": "#2e7d32", "failure": "#c62828", "noop": "#9e9e9e", "running": "#1565c0"}
LEFT, RIGHT, TOP, ROW, GAP = 170, 20, 30, 16, 10


def _rows(runs: Sequence[Any], now: dt.datetime) -> list[list[Any]]:
    """Greedy packing: a run goes on the first row whose last run ended before it started."""
    rows: list[list[Any]] = []
    ends: list[dt.datetime] = []
    for r in runs:
        end = r.finished_at or now
        for i, e in enumerate(ends):
            if r.started_at >= e:
                rows[i].append(r)
                ends[i] = end
                break
        else:
            rows.append([r])
            ends.append(end)
    return rows


def timeline(runs: Mapping[str, Sequence[Any]], start: dt.datetime, end: dt.datetime, width: int = 1100) -> str:
    span = max((end - start).total_seconds(), 1.0)
    plot = width - LEFT - RIGHT

    def x(t: dt.datetime) -> float:
        return LEFT + max(0.0, min(1.0, (t - start).total_seconds() / span)) * plot

    lanes = [(name, _rows(rs, end)) for name, rs in runs.items()]
    height = TOP + sum(max(1, len(rows)) * ROW + GAP for _, rows in lanes) + 24
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           '<title>Job runs: one bar per run, length = duration, colour = outcome; stacked bars overlap</title>']
    hours = span / 3600
    step = 1 if hours <= 12 else 2 if hours <= 24 else 6 if hours <= 72 else 24
    tick = start.astimezone().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    while tick < end:
        if tick.hour % step == 0:
            tx = x(tick)
            out.append(f'<line x1="{tx:.1f}" y1="{TOP - 6}" x2="{tx:.1f}" y2="{height - 20}" stroke="#e0e0e0"/>')
            label = tick.strftime("%H:%M" if step < 24 else "%m-%d")
            out.append(f'<text x="{tx:.1f}" y="{TOP - 10}" text-anchor="middle" fill="#555">{label}</text>')
        tick += dt.timedelta(hours=1)
    y = TOP
    for name, rows in lanes:
        lane_h = max(1, len(rows)) * ROW
        out.append(f'<text x="{LEFT - 8}" y="{y + lane_h / 2 + 4:.1f}" text-anchor="end">{escape(name)}</text>')
        out.append(f'<line x1="{LEFT}" y1="{y + lane_h + GAP / 2:.1f}" x2="{width - RIGHT}" '
                   f'y2="{y + lane_h + GAP / 2:.1f}" stroke="#f0f0f0"/>')
        for i, row in enumerate(rows):
            for r in row:
                x0 = x(r.started_at)
                x1 = max(x(r.finished_at or end), x0 + 3)
                secs = ((r.finished_at or end) - r.started_at).total_seconds()
                colour = COLOURS.get(r.outcome, "#6a1b9a")
                tip = escape(f"{name} run {r.id}: {r.outcome}, {secs:.1f} s, started "
                             f"{r.started_at.astimezone():%Y-%m-%d %H:%M:%S} ({r.trigger})")
                out.append(f'<rect x="{x0:.1f}" y="{y + i * ROW + 2}" width="{x1 - x0:.1f}" height="{ROW - 4}" '
                           f'rx="2" fill="{colour}" data-outcome="{escape(r.outcome)}"><title>{tip}</title></rect>')
        y += lane_h + GAP
    lx = LEFT
    for label, colour in COLOURS.items():
        out.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{lx + 14}" y="{height - 5}">{label}</text>')
        lx += 90
    out.append(f'<text x="{lx + 10}" y="{height - 5}" fill="#555">stacked bars in one lane = overlapping runs</text>')
    out.append("</svg>")
    return "".join(out)


#: the settlement chart's bars per party: label, colour, value of a position (cents)
SETTLEMENT_BARS: tuple[tuple[str, str, Callable[[Any], int]], ...] = (
    ("sent debits", "#1565c0", lambda p: p.sent.debit),
    ("sent credits", "#6a1b9a", lambda p: p.sent.credit),
    ("ready / held over", "#9e9e9e", lambda p: p.ready.debit + p.ready.credit + p.held_over.debit
     + p.held_over.credit),
    ("returned", "#c62828", lambda p: p.returns.debit + p.returns.credit),
    ("received", "#00897b", lambda p: p.received.credit - p.received.debit),
    ("net", "#263238", lambda p: p.net),
)
BAR, PARTY_GAP = 13, 14


def settlement_chart(positions: Sequence[Any], money: Callable[[int], str], width: int = 1100) -> str:
    """Per party, one bar per figure on a shared scale with its amount at the end; a negative
    net runs left of the zero line, so the day's direction per party shows at a glance."""
    values = [[f(p) for _, _, f in SETTLEMENT_BARS] for p in positions]
    lo = min([0, *(v for vs in values for v in vs)])
    hi = max([1, *(v for vs in values for v in vs)])
    plot = width - LEFT - RIGHT - 110  # room for the amount after the longest bar

    def x(v: int) -> float:
        return LEFT + (v - lo) / (hi - lo) * plot

    group_h = len(SETTLEMENT_BARS) * BAR + PARTY_GAP
    height = TOP + max(1, len(positions)) * group_h + 24
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           "<title>Settlement per party: sent debits and credits, ready or held over, returned, received, "
           "net; bars share one scale</title>"]
    zero = x(0)
    out.append(f'<line x1="{zero:.1f}" y1="{TOP - 6}" x2="{zero:.1f}" y2="{height - 20}" stroke="#bdbdbd"/>')
    out.append(f'<text x="{zero:.1f}" y="{TOP - 10}" text-anchor="middle" fill="#555">0</text>')
    if not positions:
        out.append(f'<text x="{LEFT}" y="{TOP + 12}" fill="#555">no activity on this day</text>')
    y = TOP
    for p, vs in zip(positions, values, strict=True):
        who = f"{p.channel.upper()} {p.party}"
        out.append(f'<g class="party" data-party="{escape(p.party)}" data-channel="{escape(p.channel)}">')
        out.append(f'<text x="{LEFT - 8}" y="{y + len(vs) * BAR / 2 + 4:.1f}" text-anchor="end" '
                   f'font-weight="bold">{escape(who)}</text>')
        for i, ((label, colour, _), v) in enumerate(zip(SETTLEMENT_BARS, vs, strict=True)):
            x0, x1 = sorted((zero, x(v)))
            by = y + i * BAR
            out.append(f'<rect x="{x0:.1f}" y="{by + 1}" width="{max(x1 - x0, 1):.1f}" height="{BAR - 3}" '
                       f'fill="{colour}" data-bar="{label}" data-cents="{v}"><title>{escape(who)}: {label} '
                       f'{money(v)}</title></rect>')
            out.append(f'<text x="{x1 + 4:.1f}" y="{by + BAR - 3}" fill="#333">{label} {money(v)}</text>')
        out.append("</g>")
        out.append(f'<line x1="10" y1="{y + group_h - PARTY_GAP / 2:.1f}" x2="{width - RIGHT}" '
                   f'y2="{y + group_h - PARTY_GAP / 2:.1f}" stroke="#f0f0f0"/>')
        y += group_h
    lx = LEFT
    for label, colour, _ in SETTLEMENT_BARS:
        out.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{lx + 14}" y="{height - 5}">{label}</text>')
        lx += 130
    out.append("</svg>")
    return "".join(out)
