"""One run at a time per cluster, any number of workers in it.

The run is a hash in Redis (``<prefix>:run``: id, spec, start time). A worker
joins it when its spider arguments (the run's *spec*) match, starts a new one
when there is none, and gets ``LockHeld`` (exit 75) when a run with other
arguments is going on. Liveness is per worker: a heartbeat key with a TTL,
so a SIGKILLed worker stops counting by itself and a run whose workers all
died can be resumed (same spec) or replaced (other spec) without guessing.

Against crawls outside the cluster on the same PostgreSQL store, every
worker also holds a *shared* session advisory lock on the key the standalone
crawl takes exclusively (newscrawl.store.lock): a standalone crawl and a cluster
run exclude each other, while the cluster's workers share.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from scrapy.settings import BaseSettings

from newscrawl.cluster.config import (
    RUN_SETTING,
    WORKER_SETTING,
    ClusterUnavailable,
    Keys,
    one_line,
    prefix,
    redis_url,
)
from newscrawl.incremental import run_since
from newscrawl.store.lock import LockHeld, crawl_lock, shared_crawl_lock

if TYPE_CHECKING:
    import redis

# A worker whose heartbeat is older than this is dead for the others.
HEARTBEAT_TTL_MS = 15_000

# Atomic join-or-create. Key names are built from the prefix inside the script,
# which is fine on one Redis server (not Redis Cluster, which scrapy-redis
# does not support either).
_JOIN = """
local run_key, base_prefix = KEYS[1], ARGV[1]
local new_id, spec, now, worker, ttl = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local since = ARGV[7]
local function live(base)
  local n = 0
  for _, w in ipairs(redis.call('SMEMBERS', base .. ':workers')) do
    if redis.call('EXISTS', base .. ':worker:' .. w) == 1 then n = n + 1
    else redis.call('SREM', base .. ':workers', w) end
  end
  return n
end
local status = 'joined'
local id = redis.call('HGET', run_key, 'id')
if id then
  local base = base_prefix .. id
  if redis.call('HGET', run_key, 'spec') ~= spec then
    if live(base) > 0 then
      local other = redis.call('HGET', run_key, 'spec')
      return {'held', id, other, redis.call('HGET', run_key, 'started')}
    end
    redis.call('DEL', base .. ':workers', base .. ':requests', base .. ':dupefilter',
               base .. ':seeded', base .. ':sources')
    id = nil
  elseif live(base) == 0 then
    status = 'resumed'
    -- The dead workers had taken requests off the queue that the duplicate filter
    -- would hide for the rest of the run: forget it and seed again (the store
    -- skips what is stored; the queue keeps what was still pending).
    redis.call('DEL', base .. ':dupefilter', base .. ':seeded')
  end
end
if not id then
  id = new_id
  status = 'created'
  redis.call('HSET', run_key, 'id', id, 'spec', spec, 'started', now, 'since', since)
end
local base = base_prefix .. id
redis.call('SADD', base .. ':workers', worker)
redis.call('SET', base .. ':worker:' .. worker, '1', 'PX', ttl)
return {status, id, redis.call('HGET', run_key, 'since') or ''}
"""

# Leave; the last live worker of a run whose queue is empty ends the run.
_LEAVE = """
local run_key, base, worker, id = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
redis.call('SREM', base .. ':workers', worker)
redis.call('DEL', base .. ':worker:' .. worker)
for _, w in ipairs(redis.call('SMEMBERS', base .. ':workers')) do
  if redis.call('EXISTS', base .. ':worker:' .. w) == 1 then return 'left' end
end
if redis.call('ZCARD', base .. ':requests') > 0 then return 'left' end
if redis.call('HGET', run_key, 'id') == id then redis.call('DEL', run_key) end
redis.call('DEL', base .. ':workers', base .. ':requests', base .. ':dupefilter', base .. ':seeded',
           base .. ':sources')
return 'ended'
"""


@dataclass(frozen=True)
class RunMembership:
    """This worker's place in the cluster: which run, under which name, how it got in."""

    client: redis.Redis
    keys: Keys
    worker: str
    status: str  # created, joined or resumed
    since: str  # the run's incremental cut-off (ISO), "" for a backfill

    def leave(self) -> str:
        """``ended`` when this was the run's last worker and the queue is empty, else ``left``."""
        result = self.client.eval(
            _LEAVE, 1, self.keys.current_run, self.keys.run_base, self.worker, self.keys.run
        )
        return result.decode() if isinstance(result, bytes) else str(result)


def run_spec(spider_args: Mapping[str, Any]) -> str:
    """The arguments that make two workers parts of the same run."""
    return json.dumps({k: str(v) for k, v in sorted(spider_args.items())}, sort_keys=True)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def join_run(
    client: redis.Redis, keys: Keys, spec: str, worker: str, since: str = ""
) -> RunMembership:
    """Join the current run, or start one; LockHeld when a run with another spec is alive.

    ``since`` is this worker's idea of the run's incremental cut-off; the run
    keeps its creator's, which every member then uses.
    """
    new_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
    reply = client.eval(
        _JOIN,
        1,
        keys.current_run,
        f"{keys.prefix}:run:",
        new_id,
        spec,
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        worker,
        HEARTBEAT_TTL_MS,
        since,
    )
    status, *rest = [part.decode() if isinstance(part, bytes) else str(part) for part in reply]
    if status == "held":
        run_id, other_spec, started = rest
        raise LockHeld(
            f"cluster run {run_id} (started {started}, arguments {other_spec}) is running; "
            "a worker with other arguments cannot join it"
        )
    return RunMembership(client, Keys(keys.prefix, rest[0]), worker, status, rest[1])


@contextlib.contextmanager
def cluster_lock(settings: BaseSettings, spider_args: MutableMapping[str, Any]) -> Iterator[None]:
    """The crawl command's lock: the cluster run when NEWSCRAWL_REDIS_URL is set, else the
    database lock of newscrawl.store.lock.

    In a cluster it puts the run id and worker name into ``settings`` and the
    run's ``since`` into ``spider_args``: newscrawl.incremental decides the
    cut-off when its spider opens, from whether a backfill ever finished, and a
    worker joining an hour into a backfill would otherwise find the store
    full and drop the old entries the run was seeded with.
    """
    url = redis_url(settings)
    if not url:
        with crawl_lock(settings["NEWSCRAWL_DATABASE_URL"]):
            yield
        return
    # Imported here: a standalone crawl (the branch above) never needs redis-py.
    from newscrawl.cluster.connection import REDIS_DOWN, connect

    client = connect(url)
    with shared_crawl_lock(settings["NEWSCRAWL_DATABASE_URL"]) as backfilled:
        since = _since_for_a_new_run(settings, spider_args, backfilled)
        try:
            spec = run_spec(spider_args)
            membership = join_run(client, Keys(prefix(settings)), spec, worker_name(), since)
        except REDIS_DOWN as exc:
            raise ClusterUnavailable(f"Redis went away: {one_line(exc)}") from None
        settings.set(RUN_SETTING, membership.keys.run, priority="cmdline")
        settings.set(WORKER_SETTING, membership.worker, priority="cmdline")
        if membership.since:
            spider_args["since"] = membership.since
        try:
            yield
        finally:
            with contextlib.suppress(*REDIS_DOWN):
                membership.leave()


def _since_for_a_new_run(
    settings: BaseSettings, spider_args: Mapping[str, Any], backfilled: Callable[[], bool]
) -> str:
    """The cut-off newscrawl.incremental would choose now, made absolute (ISO)."""
    if not settings.getbool("NEWSCRAWL_INCREMENTAL", True):
        return ""
    window = timedelta(hours=settings.getfloat("NEWSCRAWL_INCREMENTAL_WINDOW_HOURS", 72.0))
    since = run_since(spider_args.get("since"), window, backfilled)
    return since.isoformat() if since else ""  # "" is a backfill
