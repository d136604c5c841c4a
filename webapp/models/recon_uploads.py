"""A settlement file an admin uploaded, kept in the database (gzip-compressed) until a worker on any host has
imported it: web and worker hosts share no disk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model


class ReconUpload(Model):
    __tablename__ = "recon_uploads"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rup"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))  # bytes before compression
    content: Mapped[bytes] = mapped_column(LargeBinary)  # gzip
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
