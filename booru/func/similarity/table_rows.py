"""Reading the fingerprint tables for the search indexes: whole, or the rows written from a
transaction on (`written_xid`, migration 0002), in one snapshot, with the oldest transaction still
running then (the next read starts there), through COPY in binary format."""
from __future__ import annotations

import io

import numpy as np
from sqlalchemy import text

from booru.extensions import db
from booru.func.similarity.region_index import KEYS
from common.fingerprint import CHANNELS

DHASH_ROWS = ("SELECT id, red::bigint, green::bigint, blue::bigint FROM dhash "
              "WHERE red IS NOT NULL AND green IS NOT NULL AND blue IS NOT NULL")
HISTOGRAM_ROWS = ("SELECT id, " + ", ".join(f"coalesce({c}[{i}], 0)::bigint" for c in CHANNELS for i in range(1, 5))
                  + " FROM histogram WHERE red IS NOT NULL AND green IS NOT NULL AND blue IS NOT NULL")
# Rows of fingerprint version 3 have one window fewer (no centre square, the last): until they
# are upgraded, their content box's words (the first window's) stand in for it.
EARLIER_KEYS = KEYS - 1
REGION_ROWS = ("SELECT id, " + ", ".join(f"dhashes[{i}]" if i <= 3 * EARLIER_KEYS
                                         else f"coalesce(dhashes[{i}], dhashes[{i - 3 * EARLIER_KEYS}])"
                                         for i in range(1, 3 * KEYS + 1))
               + f" FROM region_dhash WHERE array_length(dhashes, 1) IN ({3 * KEYS}, {3 * EARLIER_KEYS})")
# kind -> (rows, columns read)
ROWS = {"dhash": (DHASH_ROWS, 4), "histogram": (HISTOGRAM_ROWS, 13), "region": (REGION_ROWS, 1 + 3 * KEYS)}
SINCE = " AND written_xid >= %s::xid8"


def parse_binary_copy(data: bytes | memoryview, columns: int) -> np.ndarray:
    """Rows of a `COPY … (FORMAT binary)` whose columns are all NOT NULL bigints, as int64."""
    if len(data) < 21:
        return np.empty((0, columns), dtype=np.int64)
    extension = int.from_bytes(bytes(data[15:19]), "big")
    body = memoryview(data)[19 + extension: len(data) - 2]  # the trailer is a field count of -1
    layout = [("fields", ">i2")]
    for n in range(columns):
        layout += [(f"length{n}", ">i4"), (f"value{n}", ">i8")]
    rows = np.frombuffer(body, dtype=np.dtype(layout))
    return np.stack([rows[f"value{n}"].astype(np.int64) for n in range(columns)], axis=1) \
        if len(rows) else np.empty((0, columns), dtype=np.int64)


def read_rows(select_sql: str, columns: int, since: str | None) -> tuple[str, np.ndarray]:
    """(oldest running transaction, rows) read in one snapshot; rows written from `since` on only
    when given."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.execute(text("SET LOCAL statement_timeout = '10min'"))  # a whole-table load, not a request
            xmin = connection.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")).scalar_one()
            cursor = connection.connection.dbapi_connection.cursor()
            statement = select_sql if since is None else select_sql + cursor.mogrify(SINCE, (since,)).decode()
            buffer = io.BytesIO()
            cursor.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT binary)", buffer)
            cursor.close()
    return xmin, parse_binary_copy(buffer.getbuffer(), columns)
