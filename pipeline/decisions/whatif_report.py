"""A routing what-if as the plain-text table `orderhub routing whatif` prints: one row per figure, the
columns what production recorded, the production config replayed (baseline), the candidate replayed, and
candidate - baseline. Shares are percentages and their deltas percentage points."""

from __future__ import annotations

from pipeline.decisions.whatif import WhatIf

WIDTH = 34
"""The figure column's width: a warehouse id or hold reason, indented, fits."""


def render(report: WhatIf, production_source: str, candidate_source: str) -> list[str]:
    tiers = report.tiers
    lines = [
        f"routing what-if for {report.seller}: {report.baseline.orders:,} order(s) placed "
        f"{report.since:%Y-%m-%d %H:%M} .. {report.until:%Y-%m-%d %H:%M} UTC "
        f"(archive {tiers.archive:,}, Redis {tiers.redis:,} of which {tiers.both:,} in both: the Redis copy used)",
        f"production config {production_source or '(unknown file)'}; candidate {candidate_source}",
        "stock at the start of each day: " + (", ".join(f"{n} day(s) from {source}" for source, n
                                                       in sorted(report.stock_days.items())) or "no day replayed"),
        "recorded: what production did; baseline: the production config replayed; candidate: the candidate "
        "replayed; delta: candidate - baseline",
        "",
        f"{'':<{WIDTH}}{'recorded':>11}{'baseline':>11}{'candidate':>11}{'delta':>11}",
    ]
    columns = (report.recorded, report.baseline, report.candidate, report.delta)

    def row(name: str, values: list, kind: str = "count") -> None:
        shown = [_shown(v, kind, signed=i == 3) for i, v in enumerate(values)]
        lines.append(f"{name:<{WIDTH}}" + "".join(f"{v:>11}" for v in shown))

    def plain(name: str, field: str, kind: str = "count") -> None:
        row(name, [getattr(fig, field) for fig in columns], kind)

    def keyed(field: str) -> None:
        names = sorted({k for fig in columns for k in getattr(fig, field)})
        for key in names:
            row(f"  {key}", [getattr(fig, field).get(key, 0) for fig in columns])

    plain("orders replayed", "orders")
    plain("routed", "routed")
    keyed("per_warehouse")
    plain("cross-border share", "cross_border_share", "share")
    plain("  cross-border orders", "cross_border")
    plain("  warehouse country not known", "unknown_country")
    plain("split rate", "split_rate", "share")
    plain("held", "held")
    keyed("holds")
    plain("nothing to ship / none recorded", "nothing_to_ship")
    plain("cost_hint total (per parcel)", "cost_hint", "cost")
    plain("  parcels of unknown warehouses", "unpriced_parcels")
    plain("ship-by misses", "ship_by_misses")
    plain("  routed without a ship-by", "without_ship_by")
    lines.append("")
    if not report.changed:
        lines.append("no order changed outcome")
        return lines
    lines.append(f"{report.changed:,} order(s) changed outcome (baseline -> candidate):")
    lines.extend(f"  {moved}: {n:,}" for moved, n in report.moved.items())
    more = f" (first {len(report.changed_keys)})" if report.changed > len(report.changed_keys) else ""
    lines.append(f"  orders{more}: " + ", ".join(report.changed_keys))
    return lines


def _shown(value: float, kind: str, signed: bool) -> str:
    if kind == "share":
        return f"{value * 100:+.1f} pp" if signed else f"{value * 100:.1f}%"
    if kind == "cost":
        return f"{value:+,.2f}" if signed else f"{value:,.2f}"
    return f"{value:+,}" if signed else f"{value:,}"

