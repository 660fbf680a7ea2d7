"""Throwaway PostgreSQL clusters for the test suite.

Usage::

    from tests.support.pg_cluster import PgCluster

    with PgCluster() as pg:
        pg.create_database("carebird_template")
        ...  # run migrations against pg.url("carebird_template"), then dispose the engine
        pg.create_database("test_1", template="carebird_template")
        engine = sqlalchemy.create_engine(pg.url("test_1"))

Each cluster lives in a fresh temporary directory (``carebird-pg-XXXX/``: ``data/``, ``sock/``,
``server.log``) under ``/dev/shm`` when that is a tmpfs with >= 2 GiB free, else ``/tmp``
(override: ``$CAREBIRD_PG_TMPDIR``). It listens on 127.0.0.1 only, on a free port, with trust
authentication for the superuser role ``postgres`` and durability switched off for speed.
Clusters are stopped on ``stop()``/context exit, at interpreter exit (atexit), and clusters
left behind by a killed test process are reaped by the next ``start()``.

PostgreSQL refuses to run as root. When this process is root, ``initdb``/``pg_ctl`` are run as
the ``postgres`` system user if it exists (Debian's package creates it), else as a system user
``carebird-test`` that is created on demand with ``useradd``.

Server binaries are located by :func:`find_pg_bindir`; install them with
``scripts/ensure-postgres.sh``.

Self test: ``python tests/support/pg_cluster.py --selftest [--bench N]``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

import psycopg
from psycopg import sql

__all__ = [
    "BINDIR_ENV",
    "DEFAULT_SETTINGS",
    "ENSURE_SCRIPT",
    "HOST",
    "PARENT_DIR_ENV",
    "SUPERUSER",
    "PgCluster",
    "find_pg_bindir",
]

ENSURE_SCRIPT = "scripts/ensure-postgres.sh"
#: Environment variable that overrides the search for the server binaries.
BINDIR_ENV = "CAREBIRD_PG_BINDIR"
#: Environment variable: directory to create clusters in instead of /tmp (e.g. a tmpfs).
PARENT_DIR_ENV = "CAREBIRD_PG_TMPDIR"
#: Superuser role created by ``initdb -U``; the URLs connect as this role.
SUPERUSER = "postgres"
HOST = "127.0.0.1"
#: OS user created (as a system user) when running as root and there is no ``postgres`` user.
FALLBACK_OS_USER = "carebird-test"
DIR_PREFIX = "carebird-pg-"

_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_START_ATTEMPTS = 3
_LOG_TAIL_LINES = 40
_MIN_SHM_FREE = 2 * 1024**3

#: Server settings appended to ``postgresql.conf``; override per cluster with ``settings=``.
DEFAULT_SETTINGS: Mapping[str, str] = {
    "listen_addresses": HOST,
    "max_connections": "200",
    "shared_buffers": "64MB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # Bounded: the cluster may live on a tmpfs (RAM).
    "max_wal_size": "256MB",
    "min_wal_size": "32MB",
    "checkpoint_timeout": "30min",
    # Fewer background processes competing for the (2) CPUs; nothing in the tests needs them.
    "autovacuum": "off",
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "log_min_messages": "warning",
    "log_line_prefix": "%m [%p] %q%u@%d ",
}


# --------------------------------------------------------------------------- binaries


def _has_server_binaries(directory: Path) -> bool:
    return all(
        (directory / name).is_file() and os.access(directory / name, os.X_OK)
        for name in _SERVER_BINARIES
    )


def _version_key(bindir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,);  .../9.6/bin -> (9, 6)
    return tuple(int(n) for n in re.findall(r"\d+", bindir.parent.name)) or (0,)


def _candidate_bindirs() -> Iterator[Path]:
    yield from sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            if out:
                yield Path(out)
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        yield Path(pg_ctl).resolve().parent


def find_pg_bindir() -> Path:
    """Return the directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    ``$CAREBIRD_PG_BINDIR`` wins if set; then ``/usr/lib/postgresql/*/bin`` (newest first),
    ``pg_config --bindir`` and the directory of ``pg_ctl`` on ``$PATH``.
    """
    override = os.environ.get(BINDIR_ENV)
    if override:
        path = Path(override)
        if not _has_server_binaries(path):
            raise RuntimeError(
                f"${BINDIR_ENV}={override} does not contain executable "
                f"{', '.join(_SERVER_BINARIES)}; fix or unset it."
            )
        return path
    for candidate in _candidate_bindirs():
        if _has_server_binaries(candidate):
            return candidate
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        "/usr/lib/postgresql/*/bin, `pg_config --bindir` or $PATH. "
        f"Run {ENSURE_SCRIPT} to install them (Debian package 'postgresql'), "
        f"or set ${BINDIR_ENV} to their directory."
    )


# --------------------------------------------------------------------------- OS helpers


def _unprivileged_user() -> pwd.struct_passwd:
    """The OS user to run the server as when we are root (created if necessary)."""
    for name in ("postgres", FALLBACK_OS_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    nologin = next(
        (s for s in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false") if Path(s).exists()),
        "/bin/false",
    )
    proc = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", nologin, FALLBACK_OS_USER],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        # A concurrent test process may have created it first; that is fine.
        return pwd.getpwnam(FALLBACK_OS_USER)
    except KeyError:
        raise RuntimeError(
            "running as root, and PostgreSQL refuses to run as root, but there is no "
            f"'postgres' user and `useradd {FALLBACK_OS_USER}` failed "
            f"(exit {proc.returncode}): {proc.stderr.strip()}"
        ) from None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (e.g. an un-reaped orphan when PID 1 does not reap) counts as dead.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _kill_postmaster(data_dir: Path, timeout: float = 10.0) -> None:
    """Immediate-shutdown the postmaster of ``data_dir`` by signal (pg_ctl fallback)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    comm = Path(f"/proc/{pid}/comm")
    with contextlib.suppress(OSError):
        if comm.read_text().strip() != "postgres":
            return  # stale pid file, pid reused by something else
    try:
        os.kill(pid, signal.SIGQUIT)  # = pg_ctl stop -m immediate
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap_stale_clusters(parent: Path) -> None:
    """Remove clusters left behind by test processes that died without cleaning up."""
    for root in parent.glob(DIR_PREFIX + "*"):
        try:
            owner = int((root / "owner.pid").read_text().strip())
        except (OSError, ValueError):
            continue
        if owner == os.getpid() or _pid_alive(owner):
            continue
        _kill_postmaster(root / "data")
        shutil.rmtree(root, ignore_errors=True)


def _default_parent_dir() -> Path:
    """/dev/shm if it is a roomy tmpfs (creating many small files is much faster there), else
    /tmp. Not $TMPDIR: the directory must be traversable by the server's OS user when we are
    root, and the unix socket path must stay short (< 108 bytes)."""
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        mounts = Path("/proc/mounts").read_text().splitlines()
        is_tmpfs = any(line.split()[1:3] == [str(shm), "tmpfs"] for line in mounts)
        st = os.statvfs(shm)
        if (
            is_tmpfs
            and st.f_bavail * st.f_frsize >= _MIN_SHM_FREE
            and os.access(shm, os.W_OK | os.X_OK)
            and shm.stat().st_mode & 0o001
        ):
            return shm
    tmp = Path("/tmp")
    return tmp if tmp.is_dir() else Path(tempfile.gettempdir())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _quote_conf(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


# --------------------------------------------------------------------------- cluster

_LIVE: set[PgCluster] = set()


@atexit.register
def _stop_live_clusters() -> None:
    for cluster in list(_LIVE):
        with contextlib.suppress(Exception):
            cluster.stop()


class PgCluster:
    """A private, disposable PostgreSQL cluster (use as a context manager)."""

    def __init__(
        self,
        *,
        bindir: Path | str | None = None,
        settings: Mapping[str, str] | None = None,
        parent_dir: Path | str | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.bindir = Path(bindir) if bindir is not None else find_pg_bindir()
        self.settings: dict[str, str] = {**DEFAULT_SETTINGS, **(settings or {})}
        parent_dir = parent_dir or os.environ.get(PARENT_DIR_ENV) or None
        self.parent_dir = Path(parent_dir) if parent_dir is not None else _default_parent_dir()
        self.start_timeout = start_timeout
        self.host = HOST
        self.user = SUPERUSER
        self.port: int | None = None
        self.root: Path | None = None
        self.server_version: int | None = None
        self._os_user: pwd.struct_passwd | None = None
        self._owner_pid = os.getpid()

    # ----------------------------------------------------------------- paths / URLs

    def _require_root(self) -> Path:
        if self.root is None:
            raise RuntimeError("PgCluster is not started")
        return self.root

    @property
    def data_dir(self) -> Path:
        return self._require_root() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_root() / "sock"

    @property
    def log_path(self) -> Path:
        return self._require_root() / "server.log"

    @property
    def running(self) -> bool:
        return self.root is not None and self.port is not None

    def _require_port(self) -> int:
        if self.port is None or self.root is None:
            raise RuntimeError("PgCluster is not started")
        return self.port

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL, e.g. ``postgresql+psycopg://postgres@127.0.0.1:54321/test_1``."""
        port = self._require_port()
        return f"postgresql+psycopg://{self.user}@{self.host}:{port}/{quote(dbname, safe='')}"

    def conninfo(self, dbname: str) -> str:
        """libpq connection string for psycopg/psql."""
        port = self._require_port()
        return psycopg.conninfo.make_conninfo(
            host=self.host, port=str(port), user=self.user, dbname=dbname
        )

    def connect(self, dbname: str = "postgres", *, autocommit: bool = True) -> psycopg.Connection:
        """A new psycopg connection (caller closes it; ``with pg.connect(...) as conn:``)."""
        return psycopg.connect(self.conninfo(dbname), autocommit=autocommit, connect_timeout=10)

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """initdb + start the server; idempotent."""
        if self.running:
            return self
        _reap_stale_clusters(self.parent_dir)
        self._os_user = _unprivileged_user() if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=self.parent_dir))
        _LIVE.add(self)
        try:
            (self.root / "owner.pid").write_text(f"{os.getpid()}\n")
            self.socket_dir.mkdir()
            if self._os_user is not None:
                for path in (self.root, self.socket_dir):
                    os.chown(path, self._os_user.pw_uid, self._os_user.pw_gid)
            self._initdb()
            self._start_server()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Immediate shutdown and removal of the cluster directory; idempotent."""
        root = self.root
        if root is None:
            return
        if os.getpid() != self._owner_pid:
            # A forked child (e.g. exiting via atexit) must not tear down its parent's server.
            self.root = self.port = None
            _LIVE.discard(self)
            return
        try:
            if (root / "data" / "postmaster.pid").exists():
                proc = self._run(
                    *(self.bindir / "pg_ctl", "stop", "-D", root / "data"),
                    *("-m", "immediate", "-w", "-t", "30"),
                    timeout=60,
                    check=False,
                )
                if proc.returncode != 0:
                    _kill_postmaster(root / "data")
        finally:
            shutil.rmtree(root, ignore_errors=True)
            self.root = None
            self.port = None
            _LIVE.discard(self)

    # ----------------------------------------------------------------- databases

    def create_database(
        self, name: str, template: str | None = None, *, strategy: str | None = None
    ) -> None:
        """``CREATE DATABASE name [TEMPLATE template] [STRATEGY strategy]``.

        A template must have no other sessions; any that are still open on it are terminated
        first (dispose engines / close connections to the template to avoid relying on this).
        ``strategy`` (PostgreSQL >= 15 only): ``"FILE_COPY"`` (used by default: copies the
        files, with a cheap checkpoint since fsync is off; measured 1.5-3x faster than the
        alternative here) or ``"WAL_LOG"`` (the server's own default: writes the whole template
        through the WAL).
        """
        if strategy is None and (self.server_version or 0) >= 150000:
            strategy = "FILE_COPY"
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        if strategy is not None:
            if strategy.upper() not in ("WAL_LOG", "FILE_COPY"):
                raise ValueError(f"unknown CREATE DATABASE strategy: {strategy!r}")
            stmt += sql.SQL(" STRATEGY {}").format(sql.SQL(strategy.upper()))
        with self.connect("postgres") as conn:
            if template is not None:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (template,),
                )
            conn.execute(stmt)

    def drop_database(self, name: str) -> None:
        """``DROP DATABASE IF EXISTS name``, terminating any sessions connected to it."""
        with self.connect("postgres") as conn:
            if (self.server_version or 0) >= 130000:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            else:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    # ----------------------------------------------------------------- internals

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"  # English messages from initdb/pg_ctl/postgres
        env["TZ"] = "UTC"
        if self._os_user is not None:
            env.update(HOME=str(self._require_root()), USER=self._os_user.pw_name)
            env["LOGNAME"] = self._os_user.pw_name
        return env

    def _run(
        self,
        *args: str | os.PathLike[str],
        timeout: float,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        argv = [os.fspath(a) for a in args]
        user = self._os_user
        try:
            proc = subprocess.run(
                argv,
                cwd=self._require_root(),
                env=self._child_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                # Drop root privileges in the child (PostgreSQL refuses to run as root).
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"{' '.join(argv)} timed out after {timeout}s{self._log_tail()}"
            ) from exc
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed with exit code {proc.returncode}"
                + (f" (as OS user {user.pw_name})" if user else "")
                + f":\n{proc.stdout}{proc.stderr}{self._log_tail()}"
            )
        return proc

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except (OSError, RuntimeError):
            return ""
        tail = "\n".join(lines[-_LOG_TAIL_LINES:])
        return f"\n--- tail of {self.log_path} ---\n{tail}" if tail else ""

    def _initdb(self) -> None:
        self._run(
            *(self.bindir / "initdb", "-D", self.data_dir, "-U", SUPERUSER, "-A", "trust"),
            *("-E", "UTF8", "--locale=C", "--no-sync"),
            timeout=180,
        )
        settings = {**self.settings, "unix_socket_directories": str(self.socket_dir)}
        lines = "".join(f"{key} = {_quote_conf(value)}\n" for key, value in settings.items())
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# --- carebird test cluster (tests/support/pg_cluster.py) ---\n")
            conf.write(lines)

    def _start_server(self) -> None:
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = _free_port()
            log_size = self.log_path.stat().st_size if self.log_path.exists() else 0
            proc = self._run(
                *(self.bindir / "pg_ctl", "start", "-D", self.data_dir, "-l", self.log_path),
                *("-w", "-t", str(int(self.start_timeout)), "-o", f"-p {port}"),
                timeout=self.start_timeout + 30,
                check=False,
            )
            if proc.returncode == 0:
                self.port = port
                break
            new_log = ""
            with contextlib.suppress(OSError), self.log_path.open(errors="replace") as fh:
                fh.seek(log_size)
                new_log = fh.read()
            # Lost the race for the free port to another process: try another one.
            if "Address already in use" in new_log and attempt < _START_ATTEMPTS:
                _kill_postmaster(self.data_dir)
                continue
            raise RuntimeError(
                f"PostgreSQL ({self.bindir}) failed to start on {HOST}:{port} "
                f"(pg_ctl exit {proc.returncode}):\n{proc.stdout}{proc.stderr}{self._log_tail()}"
            )
        with self.connect("postgres") as conn:
            self.server_version = conn.info.server_version


# --------------------------------------------------------------------------- self test


def _selftest(bench: int) -> int:
    t0 = time.perf_counter()
    with PgCluster() as pg:
        t_started = time.perf_counter() - t0
        who = pg._os_user.pw_name if pg._os_user else pwd.getpwuid(os.geteuid()).pw_name
        print(f"bindir:  {pg.bindir}")
        print(f"cluster: {pg.root} (server runs as OS user {who})")
        print(f"url:     {pg.url('selftest')}")
        print(f"startup (initdb + pg_ctl start -w): {t_started:.2f}s")
        pg.create_database("selftest")
        with pg.connect("selftest") as conn:
            row = conn.execute("select version()").fetchone()
        assert row is not None
        print(f"version: {row[0]}")

        if bench:
            _bench_templates(pg, bench)
        pg.drop_database("selftest")
        root = pg.root
    assert root is not None and not root.exists(), f"{root} was not removed"
    assert pg.root is None
    print(f"total {time.perf_counter() - t0:.2f}s")
    print("OK")
    return 0


def _bench_templates(pg: PgCluster, count: int) -> None:
    """Build a template with a migrated-app-sized schema and clone it ``count`` times."""
    pg.create_database("selftest_template")
    with pg.connect("selftest_template") as conn:
        for i in range(40):
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE,"
                    " created_at timestamptz NOT NULL DEFAULT now(), payload jsonb)"
                ).format(sql.Identifier(f"t{i}"))
            )
            conn.execute(sql.SQL("CREATE INDEX ON {} (created_at)").format(sql.Identifier(f"t{i}")))
        conn.execute("INSERT INTO t0 (name) SELECT 'n' || g FROM generate_series(1, 1000) g")
    # The connection is closed here: CREATE DATABASE ... TEMPLATE needs the template idle.
    timings: list[float] = []
    for i in range(count):
        t = time.perf_counter()
        pg.create_database(f"selftest_clone_{i}", template="selftest_template")
        timings.append(time.perf_counter() - t)
    with pg.connect(f"selftest_clone_{count - 1}") as conn:
        row = conn.execute("SELECT count(*) FROM t0").fetchone()
        assert row is not None and row[0] == 1000, row
    t = time.perf_counter()
    for i in range(count):
        pg.drop_database(f"selftest_clone_{i}")
    drop_avg = (time.perf_counter() - t) / count
    print(
        f"{count} x CREATE DATABASE ... TEMPLATE: median {statistics.median(timings) * 1000:.0f}ms,"
        f" min {min(timings) * 1000:.0f}ms, max {max(timings) * 1000:.0f}ms,"
        f" total {sum(timings):.2f}s; DROP DATABASE avg {drop_avg * 1000:.0f}ms"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--selftest", action="store_true", help="start, query, stop, print OK")
    parser.add_argument(
        "--bench",
        type=int,
        default=0,
        metavar="N",
        help="with --selftest: time N x CREATE DATABASE ... TEMPLATE",
    )
    args = parser.parse_args(argv)
    if not args.selftest:
        parser.print_help()
        return 2
    return _selftest(args.bench)


if __name__ == "__main__":
    sys.exit(main())
