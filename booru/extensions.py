"""Flask extensions, bound to the app in create_app()."""
import time

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.exc import DisconnectionError

# Every constraint and index gets a predictable name, so migrations can refer to it.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
IDLE_PING_SECONDS = 1.0

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()


def ping_after_idle(engine: Engine) -> None:
    """Test a pooled connection with a round trip before use only when it has been idle for
    IDLE_PING_SECONDS: it may have died with a restarted PostgreSQL, and is then replaced without
    the request noticing. One in steady use is known to work (pool_pre_ping would cost a round
    trip on every request); if the server goes away under it, that request gets the 503 and
    the pool starts afresh."""

    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection, record) -> None:
        record.info["returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checkout(dbapi_connection, record, proxy) -> None:
        if time.monotonic() - record.info.get("returned", time.monotonic()) < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"a pooled connection failed its ping: {exc}") from exc
