"""Scale-out: many crawler processes on one scrapy-redis queue and one PostgreSQL store.

Switched on by NEWSCRAWL_REDIS_URL (setting or environment variable); see the
README section "Running on several machines".
"""

from newscrawl.cluster.addon import RedisClusterAddon
from newscrawl.cluster.config import ClusterUnavailable, check_settings
from newscrawl.cluster.lock import cluster_lock

__all__ = ["ClusterUnavailable", "RedisClusterAddon", "check_settings", "cluster_lock"]
