"""Hedge snapshots: the signals of the day and k, the ratio and the scenario at each rebalance.

Append-only, one transaction per row. The last rebalance row is where a restarted daemon picks
k and the ratio up again; the replay report charts the whole table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Text
from sqlalchemy.engine import Engine as SqlEngine
from sqlmodel import Field, Session, SQLModel, col, select

from storage.tables import UTCDateTime
from strategies.hedge_state import Signals


class HedgeSnapshotRow(SQLModel, table=True):
    __tablename__ = "hedge_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    day: date = Field(index=True)
    job: str
    signals_day: date | None = None
    k: float
    k_effective: float
    ratio: int
    hedge_scale: float
    r2: float | None = None
    breadth_divergence: bool
    spx_crossover: int
    vix_rsi: float | None = None
    rsi_episode: str
    rsi_episode_start: date | None = None
    condor_scenario_pnl: float | None = None
    layer_scenario_pnl: float | None = None
    layer_cost_year: float | None = None
    notes: str = Field(sa_type=Text)


@dataclass(frozen=True, slots=True)
class HedgeSnapshot:
    """One journaled snapshot (`job` is "signals" or "rebalance")."""

    at: datetime
    day: date
    job: str
    signals: Signals
    k: float
    k_effective: float
    ratio: int
    hedge_scale: float
    condor_scenario_pnl: float | None = None
    layer_scenario_pnl: float | None = None
    layer_cost_year: float | None = None
    notes: str = ""


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def record(engine: SqlEngine, snapshot: HedgeSnapshot) -> None:
    """Append one snapshot."""
    s = snapshot.signals
    row = HedgeSnapshotRow(
        at=snapshot.at,
        day=snapshot.day,
        job=snapshot.job,
        signals_day=s.day,
        k=snapshot.k,
        k_effective=snapshot.k_effective,
        ratio=snapshot.ratio,
        hedge_scale=snapshot.hedge_scale,
        r2=_finite(s.r2),
        breadth_divergence=s.breadth_divergence,
        spx_crossover=s.spx_crossover,
        vix_rsi=_finite(s.vix_rsi),
        rsi_episode=s.rsi_episode,
        rsi_episode_start=s.rsi_episode_start,
        condor_scenario_pnl=_finite(snapshot.condor_scenario_pnl),
        layer_scenario_pnl=_finite(snapshot.layer_scenario_pnl),
        layer_cost_year=_finite(snapshot.layer_cost_year),
        notes=snapshot.notes,
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()


def _snapshot(row: HedgeSnapshotRow) -> HedgeSnapshot:
    signals = Signals(
        day=row.signals_day,
        breadth_divergence=row.breadth_divergence,
        spx_crossover=row.spx_crossover,
        vix_rsi=row.vix_rsi if row.vix_rsi is not None else math.nan,
        rsi_episode=row.rsi_episode,
        rsi_episode_start=row.rsi_episode_start,
        r2=row.r2 if row.r2 is not None else math.nan,
    )
    return HedgeSnapshot(
        row.at,
        row.day,
        row.job,
        signals,
        row.k,
        row.k_effective,
        row.ratio,
        row.hedge_scale,
        row.condor_scenario_pnl,
        row.layer_scenario_pnl,
        row.layer_cost_year,
        row.notes,
    )


def latest(engine: SqlEngine, job: str | None = None) -> HedgeSnapshot | None:
    """Return the newest snapshot (of one job when given), or None."""
    query = select(HedgeSnapshotRow)
    if job is not None:
        query = query.where(HedgeSnapshotRow.job == job)
    with Session(engine) as session:
        newest = col(HedgeSnapshotRow.at).desc(), col(HedgeSnapshotRow.id).desc()
        row = session.exec(query.order_by(*newest).limit(1)).first()
        return _snapshot(row) if row is not None else None


def history(engine: SqlEngine, job: str | None = None) -> list[HedgeSnapshot]:
    """Return every snapshot (of one job when given), oldest first."""
    query = select(HedgeSnapshotRow)
    if job is not None:
        query = query.where(HedgeSnapshotRow.job == job)
    with Session(engine) as session:
        rows = session.exec(query.order_by(col(HedgeSnapshotRow.at), col(HedgeSnapshotRow.id)))
        return [_snapshot(row) for row in rows.all()]
