"""Cells: which PostgreSQL database holds a tenant, and one lazily opened connection per cell.

A cell is one database (its own RDS Proxy endpoint in AWS) with the full schema. The pooled cell holds
most tenants and doubles as the control plane: its ``control.tenant_cells`` directory says which cell
holds each tenant (decision 0140). Routing is one function, ``tenant_cell``: the cell named by a signed
session claim when the caller has one (no look-up), else the directory through a bounded TTL cache. With
a single cell configured there is nothing to decide and no look-up at all.

Each cell gets one ``Database`` (one connection, opened on first use, as on the single-database path).
At most ``max_open_connections`` cells keep a connection per container: the least recently used idle
one is closed first, so a container that serves many cells cannot exhaust any proxy.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Annotated, TypeVar
from uuid import UUID

from psycopg.pq import TransactionStatus
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from saascore.db.connection import Connection, Database, get_database
from saascore.exceptions import ConfigurationError, SaasError, TenantNotInCellError
from saascore.settings import DatabaseSettings, get_database_settings

CELL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
POOLED_CELL = "pooled"

DirectoryLookup = Callable[[Database, UUID], str | None]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]


class UnknownCellError(SaasError):
    """A cell name that this deployment's cell map does not have."""

    def __init__(self, cell: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown cell {cell!r}; known cells: {', '.join(known)}")
        self.cell = cell


class CellConfig(BaseModel):
    """How to reach one cell; fields left out come from the shared ``DB_*`` settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: SecretStr | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    name: str | None = None
    user: str | None = None
    password_secret: str | None = None
    # The cell's own read endpoint (its streaming replica); a cell without one reads from its primary.
    read_url: SecretStr | None = None
    read_host: str | None = None
    # The tenant slugs this dedicated cell is for (usually one): signing one up places the tenant here.
    reserved_for: tuple[Slug, ...] = ()


class CellSettings(BaseSettings):
    """The cell map (``CELLS``, JSON ``{name: CellConfig}``, dedicated cells; the pooled cell is the
    shared ``DATABASE_URL`` / ``DB_*`` database) and the routing limits."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    cells: dict[str, CellConfig] = Field(default_factory=dict, validation_alias="CELLS")
    max_open_connections: int = Field(default=4, ge=1, le=64, validation_alias="CELL_MAX_CONNECTIONS")
    directory_ttl_seconds: float = Field(default=60.0, ge=0, le=3600, validation_alias="CELL_DIRECTORY_TTL")
    directory_cache_size: int = Field(
        default=10_000, ge=1, le=1_000_000, validation_alias="CELL_DIRECTORY_CACHE_SIZE"
    )

    @field_validator("cells")
    @classmethod
    def _names_are_valid(cls, cells: dict[str, CellConfig]) -> dict[str, CellConfig]:
        for name in cells:
            if not CELL_NAME.fullmatch(name):
                raise ValueError(f"cell name {name!r} must match {CELL_NAME.pattern}")
        return cells

    @model_validator(mode="after")
    def _pooled_cell_uses_the_shared_settings(self) -> CellSettings:
        pooled = self.cells.get(POOLED_CELL)
        if pooled is not None and pooled.model_dump(exclude_defaults=True):
            raise ConfigurationError(
                f"the {POOLED_CELL!r} cell is reached through DATABASE_URL / DB_* settings; "
                "declare it as {} in CELLS or leave it out"
            )
        reserved = [slug for config in self.cells.values() for slug in config.reserved_for]
        if len(reserved) != len(set(reserved)):
            raise ConfigurationError("two cells are reserved for the same tenant slug")
        return self


def cell_database_settings(base: DatabaseSettings, config: CellConfig) -> DatabaseSettings:
    """The shared settings (auth, timeouts, TLS) with the cell's endpoint put in."""
    update: dict[str, object] = {
        field: value
        for field, value in (
            ("url", config.url),
            ("host", config.host),
            ("port", config.port),
            ("name", config.name),
            ("user", config.user),
            ("password_secret", config.password_secret),
        )
        if value is not None
    }
    if config.url is None:
        update["url"] = None  # an endpoint of its own, never the shared DATABASE_URL
    # Never the shared read endpoint: that replica streams the pooled cell, not this one.
    update["read_url"] = config.read_url
    update["read_host"] = config.read_host
    return base.model_copy(update=update)


class CellDatabase(Database):
    """A ``Database`` that can tell whether its connection is in use (then it is never closed)."""

    @property
    def busy(self) -> bool:
        conn: Connection | None = self._conn
        return conn is not None and conn.info.transaction_status != TransactionStatus.IDLE


class CellRegistry:
    """Cell name → its Database, opened lazily; at most ``max_open`` of them hold a connection."""

    def __init__(self, cells: Mapping[str, DatabaseSettings | None], *, max_open: int) -> None:
        # A cell mapped to None uses the container's default Database (``get_database()``).
        self._settings = dict(cells)
        self._max_open = max_open
        self._databases: dict[str, Database] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self.names = tuple(self._settings)

    def database(self, cell: str) -> Database:
        recent = self._recent
        if cell in recent:
            recent.move_to_end(cell)
        else:
            if cell not in self._settings:
                raise UnknownCellError(cell, self.names)
            recent[cell] = None
            self._close_least_recent()
        db = self._databases.get(cell)
        if db is not None:
            return db
        settings = self._settings[cell]
        if settings is None:
            return get_database()
        db = self._databases[cell] = CellDatabase(settings)
        return db

    def _close_least_recent(self) -> None:
        for name in list(self._recent)[:-1]:  # never the cell being opened (the newest)
            if len(self._recent) <= self._max_open:
                return
            db = self._databases.get(name)
            if isinstance(db, CellDatabase) and db.busy:
                continue  # mid-transaction (a caller holds it): never closed under its feet
            if db is not None:
                db.discard()
            del self._recent[name]

    def open_cells(self) -> tuple[str, ...]:
        return tuple(self._recent)

    def close(self) -> None:
        """Close every connection this registry opened (tests, and a router being replaced)."""
        for db in self._databases.values():
            db.discard()
        self._recent.clear()


def directory_cell(control_plane: Database, tenant_id: UUID) -> str | None:
    """The directory's answer (``app.tenant_cell``), in a transaction of its own with no tenant set."""
    from saascore.db.tenancy import tenantless_transaction  # tenancy imports this module to route

    with tenantless_transaction(database=control_plane) as conn:
        row = conn.execute("SELECT app.tenant_cell(%s) AS cell", (tenant_id,)).fetchone()
    return None if row is None else row["cell"]


def place_tenant(control_plane: Database, tenant_id: UUID, cell: str, *, slug: str | None = None) -> str:
    """Record a new tenant's cell in the directory (``app.place_tenant``); returns the cell it has. With
    ``slug``, refused (``psycopg.errors.UniqueViolation``) when a moved tenant holds that slug."""
    from saascore.db.tenancy import tenantless_transaction  # tenancy imports this module to route

    with tenantless_transaction(database=control_plane) as conn:
        if slug is None:
            row = conn.execute("SELECT app.place_tenant(%s, %s) AS cell", (tenant_id, cell)).fetchone()
        else:
            row = conn.execute(
                "SELECT app.place_tenant(%s, %s, %s) AS cell", (tenant_id, cell, slug)
            ).fetchone()
    if row is None or row["cell"] is None:
        raise SaasError(f"the directory did not record tenant {tenant_id}")
    placed: str = row["cell"]
    return placed


class CellRouter:
    """The routing decision: claim, else directory (cached for ``ttl`` seconds, bounded, invalidatable)."""

    def __init__(
        self,
        registry: CellRegistry,
        *,
        reservations: Mapping[str, str] | None = None,
        ttl_seconds: float = 60.0,
        cache_size: int = 10_000,
        lookup: DirectoryLookup = directory_cell,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.single = registry.names == (POOLED_CELL,)
        self._reservations = dict(reservations or {})  # tenant slug -> dedicated cell
        self._ttl = ttl_seconds
        self._cache_size = cache_size
        self._lookup = lookup
        self._clock = clock
        self._cache: dict[UUID, tuple[str, float]] = {}
        # (kind, key) -> tenant for keys whose tenant never changes (see ``tenant_of_key``); bounded too.
        self._key_tenants: dict[tuple[str, str], UUID] = {}
        self.lookups = 0

    def tenant_cell(self, tenant_id: UUID, *, claimed_cell: str | None = None) -> str:
        if claimed_cell is not None:
            return claimed_cell  # signed by us: trusted only from a verified session token
        if self.single:
            return POOLED_CELL
        hit = self._cache.get(tenant_id)
        now = self._clock()
        if hit is not None and hit[1] > now:
            return hit[0]
        self.lookups += 1
        cell = self._lookup(self.registry.database(POOLED_CELL), tenant_id) or POOLED_CELL
        self.remember(tenant_id, cell, now=now)
        return cell

    def remember(self, tenant_id: UUID, cell: str, *, now: float | None = None) -> None:
        cache = self._cache
        if tenant_id not in cache and len(cache) >= self._cache_size:
            del cache[next(iter(cache))]  # the oldest entry (dicts keep insertion order)
        cache[tenant_id] = (cell, (self._clock() if now is None else now) + self._ttl)

    def invalidate(self, tenant_id: UUID | None = None) -> None:
        """Forget one tenant's cached cell (all of them when None): the next request asks the directory."""
        if tenant_id is None:
            self._cache.clear()
        else:
            self._cache.pop(tenant_id, None)

    def known_key_tenant(self, kind: str, key: str) -> UUID | None:
        return self._key_tenants.get((kind, key))

    def remember_key_tenant(self, kind: str, key: str, tenant_id: UUID) -> None:
        keys = self._key_tenants
        if (kind, key) not in keys and len(keys) >= self._cache_size:
            del keys[next(iter(keys))]
        keys[(kind, key)] = tenant_id

    def placement_cell(self, slug: str) -> str:
        """Where a tenant with this slug is (or will be) placed: its reserved cell, else the pooled one."""
        return self._reservations.get(slug, POOLED_CELL)


def build_router(settings: CellSettings, base: DatabaseSettings) -> CellRouter:
    # The pooled cell is the container's default Database (DATABASE_URL / DB_*), so the control plane
    # and the pooled tenants share one connection.
    cells: dict[str, DatabaseSettings | None] = {POOLED_CELL: None}
    for name, config in settings.cells.items():
        if name != POOLED_CELL:
            cells[name] = cell_database_settings(base, config)
    reservations = {slug: name for name, config in settings.cells.items() for slug in config.reserved_for}
    return CellRouter(
        CellRegistry(cells, max_open=settings.max_open_connections),
        reservations=reservations,
        ttl_seconds=settings.directory_ttl_seconds,
        cache_size=settings.directory_cache_size,
    )


@lru_cache(maxsize=1)
def get_cell_router() -> CellRouter:
    """The container's router; tests call ``get_cell_router.cache_clear()`` after changing ``CELLS``."""
    return build_router(CellSettings(), get_database_settings())


def cell_database(cell: str, *, default: Database | None = None) -> Database:
    """The cell's Database; ``default`` stands in for the pooled cell (a caller's own handle)."""
    if cell == POOLED_CELL and default is not None:
        return default
    return get_cell_router().registry.database(cell)


def tenant_cell(tenant_id: UUID, *, claimed_cell: str | None = None) -> str:
    """The one routing function the API, the webhook processor and the job worker use."""
    return get_cell_router().tenant_cell(tenant_id, claimed_cell=claimed_cell)


def every_cell_database(*, default: Database | None = None) -> list[Database]:
    """Every cell's Database, pooled first: for the few look-ups keyed by something other than a tenant
    (a Stripe customer or event id) that each cell answers for its own tenants."""
    return [cell_database(name, default=default) for name in get_cell_router().registry.names]


T = TypeVar("T")


def first_in_cells(lookup: Callable[[Connection], T | None], *, default: Database | None = None) -> T | None:
    """The first answer ``lookup`` gives, asking each cell in a transaction with no tenant, pooled first:
    for look-ups keyed by something other than a tenant (a Stripe customer, an SSO provider or domain, a
    SCIM token or API key id), each of which lives in its tenant's cell. Route a tenant found this way
    through the directory afterwards (``route_database``): during a move a frozen copy can still answer."""
    from saascore.db.tenancy import tenantless_transaction  # tenancy imports this module to route

    for database in every_cell_database(default=default):
        with tenantless_transaction(database=database) as conn:
            found = lookup(conn)
        if found is not None:
            return found
    return None


def tenant_of_key(
    kind: str, key: str, lookup: Callable[[Connection], UUID | None], *, default: Database | None = None
) -> UUID | None:
    """``first_in_cells`` for a key whose tenant never changes (a SCIM token's or API key's public id, an
    SSO provider name), remembered per container after the first answer, so a dedicated-cell tenant's
    requests do not ask every cell each time. Only the key → tenant mapping is kept: the caller still checks
    the secret, revocation and the row itself in the tenant's own transaction."""
    router = get_cell_router()
    known = router.known_key_tenant(kind, key)
    if known is not None:
        return known
    tenant_id = first_in_cells(lookup, default=default)
    if tenant_id is not None:
        router.remember_key_tenant(kind, key, tenant_id)
    return tenant_id


def in_tenant_cell(tenant_id: UUID, work: Callable[[Database], T], *, default: Database | None = None) -> T:
    """``work(database)`` in the tenant's cell, for a worker that routes through the directory.

    A cell that refuses the write because the tenant is not there (``TenantNotInCellError``: the cached
    route went stale when the tenant moved) makes the router forget the route and ask the directory again,
    and ``work`` runs once more in the cell it names; the refused transaction wrote nothing, so that is
    safe. When the directory names the same cell, the tenant is in no cell (erased, or never placed) and
    the error stands.
    """
    router = get_cell_router()
    cell = router.tenant_cell(tenant_id)
    try:
        return work(cell_database(cell, default=default))
    except TenantNotInCellError:
        router.invalidate(tenant_id)
        moved_to = router.tenant_cell(tenant_id)
        if moved_to == cell:
            raise
    return work(cell_database(moved_to, default=default))


def route_database(
    tenant_id: UUID | None, *, claimed_cell: str | None = None, default: Database | None = None
) -> Database:
    """The Database of the tenant's cell (the pooled cell's for no tenant)."""
    if tenant_id is None:
        return cell_database(POOLED_CELL, default=default)
    return cell_database(tenant_cell(tenant_id, claimed_cell=claimed_cell), default=default)
