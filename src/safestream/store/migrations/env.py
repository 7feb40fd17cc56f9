"""Alembic environment: runs on the engine SafeStream passes in, or on SAFESTREAM_DATABASE_URL."""

from alembic import context

from safestream.core.config import Settings
from safestream.store.database import create_store_engine
from safestream.store.models import Base

config = context.config
engine = config.attributes.get("connection_engine")
if engine is None:
    engine = create_store_engine(Settings.from_env().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
