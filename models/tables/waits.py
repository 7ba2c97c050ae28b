"""How long orders waited, counted as each wait ends: histograms per span of the company's
calendar, stage or to-do kind, department and person, which the "where orders wait" report
reads instead of every to-do and timeline event of its period."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.core import Base


class WaitHistogram(Base):
    """How many waits ended in one span (`span`: y year, q quarter, m month, d day, starting on
    `starts`, in the company's calendar when each ended) of one stage or to-do kind (`measure`
    stage or todo, `name` its code), on orders of one department (a to-do is counted again
    under 0, every department, for everyone's scope), completed by one person (a to-do's
    `user_id`; 0 for a stage, which is nobody's), whose length fell in one bucket of
    the geometric scale (models/reports/wait_buckets.py), and their seconds summed. Every wait
    is counted once in each of the four spans that hold its day, so a year is one row where
    its days would be thousands."""

    __tablename__ = "wait_histograms"
    # Clustered by its key in SQLite: a period's stages, or its to-dos for every department,
    # are one range per span, read in the order they are summed.
    __table_args__ = {"sqlite_with_rowid": False}

    span: Mapped[str] = mapped_column(String(1), primary_key=True)
    starts: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(5), primary_key=True)
    department_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    waits: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(BigInteger)
