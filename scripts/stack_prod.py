"""The production profile of scripts/stack.py: several Rasa and action servers behind nginx.

- billing database on PostgreSQL (PROD_DATABASE_URL; created, migrated and seeded if new);
- Rasa with endpoints.prod.yml: SQL tracker store on PostgreSQL, Redis lock store, events to RabbitMQ;
- REPLICAS Rasa servers (ports RASA_REPLICA_BASE_PORT + i) and action servers (ACTION_REPLICA_BASE_PORT
  + i) behind one nginx (Debian's package) that listens on RASA_PORT and ACTION_SERVER_PORT;
  socket.io goes to the same Rasa server per client address (ip_hash) and the web chat's emits
  reach every replica through Redis (WEB_CHAT_REDIS_URL).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import List, Optional

import psycopg2
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.dialogue.replies import TROUBLE_REACHING_ACCOUNT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_CONF = """\
worker_processes 1;
pid {var}/nginx.pid;
error_log {var}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {var}/client_body;
  proxy_temp_path {var}/proxy;
  fastcgi_temp_path {var}/fastcgi;
  uwsgi_temp_path {var}/uwsgi;
  scgi_temp_path {var}/scgi;
  client_max_body_size 1m;
  # Bodies and responses stay in memory: the workers (www-data when started as root) never need to
  # write the temp folders.
  client_body_buffer_size 1m;
  proxy_max_temp_file_size 0;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream rasa {{ least_conn; {rasa_servers} }}
  upstream rasa_sticky {{ ip_hash; {rasa_servers} }}
  upstream actions {{ least_conn; {action_servers} }}
  server {{
    listen {host}:{rasa_port};
    location / {{ proxy_pass http://rasa; proxy_read_timeout 120s; proxy_set_header Host $host; }}
    # No Rasa server answers (all restarting or down): REST customers still get an honest reply.
    location = /webhooks/rest/webhook {{
      proxy_pass http://rasa; proxy_read_timeout 120s; proxy_set_header Host $host;
      proxy_intercept_errors on; error_page 502 503 504 = @rasa_down;
    }}
    location @rasa_down {{
      default_type application/json; add_header Retry-After 30 always;
      return 503 {rasa_down_body};
    }}
    location /socket.io/ {{
      proxy_pass http://rasa_sticky; proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 300s;
    }}
  }}
  server {{
    listen {host}:{action_port};
    location / {{ proxy_pass http://actions; proxy_read_timeout 120s; }}
  }}
}}
"""


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist."""
    u = make_url(url)
    conn = psycopg2.connect(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                            password=u.password, dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{u.database}"')
    finally:
        conn.close()


def prepare(env: dict) -> dict:
    env = dict(env)
    env["DATABASE_URL"] = env.get("PROD_DATABASE_URL") or \
        "postgresql+psycopg2://postgres@127.0.0.1:5432/northwind_billing"
    env["RASA_ENDPOINTS"] = env.get("RASA_ENDPOINTS") or "endpoints.prod.yml"
    if not env.get("WEB_CHAT_REDIS_URL"):
        env["WEB_CHAT_REDIS_URL"] = (f"redis://{env.get('REDIS_HOST') or '127.0.0.1'}:{env.get('REDIS_PORT') or '6379'}/"
                                     f"{env.get('REDIS_DB') or '1'}")
    if not env.get("RATE_LIMIT_REDIS_URL"):  # rate-limit counters shared by every replica
        env["RATE_LIMIT_REDIS_URL"] = env["WEB_CHAT_REDIS_URL"]
    for key, default in (("TRACKER_PG_HOST", "127.0.0.1"), ("TRACKER_PG_PORT", "5432"), ("TRACKER_PG_USER", "postgres"),
                         ("TRACKER_PG_PASSWORD", ""), ("TRACKER_PG_DB", "northwind_tracker"),
                         ("REDIS_HOST", "127.0.0.1"), ("REDIS_PORT", "6379"), ("REDIS_DB", "1"),
                         ("REDIS_KEY_PREFIX", "northwind"), ("RABBITMQ_HOST", "127.0.0.1"), ("RABBITMQ_PORT", "5672"),
                         ("RABBITMQ_USER", "guest"), ("RABBITMQ_PASSWORD", "guest"),
                         ("RABBITMQ_QUEUE", "northwind_events")):
        if not env.get(key):  # unset or empty in .env: the documented default
            env[key] = default
    ensure_database(env["DATABASE_URL"])
    # Rasa's SQL tracker store does not create its database (and silently falls back to memory).
    ensure_database(f"postgresql+psycopg2://{env['TRACKER_PG_USER']}:{env['TRACKER_PG_PASSWORD']}@"
                    f"{env['TRACKER_PG_HOST']}:{env['TRACKER_PG_PORT']}/{env['TRACKER_PG_DB']}")
    py = str(Path(sys.executable))
    subprocess.run([py, "-m", "bot.billing.seed"], cwd=ROOT, env=env, check=True)
    subprocess.run([py, "-m", "bot.agents.manage", "seed-demo"], cwd=ROOT, env=env, check=True)
    return env


def write_nginx_conf(env: dict, rasa_ports: List[int], action_ports: List[int]) -> Path:
    var = Path(env.get("NGINX_DIR") or ROOT / "var" / "nginx").resolve()
    var.mkdir(parents=True, exist_ok=True)
    host = env["RASA_HOST"]
    conf = NGINX_CONF.format(
        var=var, host=host, rasa_port=env["RASA_PORT"], action_port=env["ACTION_SERVER_PORT"],
        rasa_down_body=_nginx_string(json.dumps([{"text": TROUBLE_REACHING_ACCOUNT}], ensure_ascii=False)),
        rasa_servers=" ".join(f"server {host}:{p};" for p in rasa_ports),
        action_servers=" ".join(f"server {env['ACTION_SERVER_HOST']}:{p};" for p in action_ports))
    path = var / "nginx.conf"
    path.write_text(conf)
    return path


def _nginx_string(text: str) -> str:
    """``text`` as a double-quoted nginx string."""
    if "$" in text:
        raise ValueError("a '$' would start an nginx variable")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ports(env: dict, list_key: str, base_key: str, base: int, replicas: int) -> List[int]:
    """Explicit ports (``RASA_REPLICA_PORTS=5105,5106``) or consecutive ones from a base port."""
    if env.get(list_key):
        return [int(p) for p in env[list_key].split(",")][:replicas]
    return [int(env.get(base_key, str(base))) + i for i in range(replicas)]


def start(env: dict, model: Optional[str], replicas: int, stack: ModuleType,
          procs: List[subprocess.Popen]) -> List[subprocess.Popen]:
    """Start everything, adding each process to ``procs`` at once: if a later one fails, the caller
    stops the ones already running."""
    if not Path(NGINX).exists():
        raise SystemExit("nginx is needed for the production profile: run `make prod-deps` (apt-get install nginx)")
    rasa_ports = _ports(env, "RASA_REPLICA_PORTS", "RASA_REPLICA_BASE_PORT", 5105, replicas)
    action_ports = _ports(env, "ACTION_REPLICA_PORTS", "ACTION_REPLICA_BASE_PORT", 5155, replicas)
    conf = write_nginx_conf(env, rasa_ports, action_ports)
    actions = []
    for port in action_ports:
        actions.append(stack.start_action_server({**env, "ACTION_SERVER_PORT": str(port)}, wait=False))
        procs.append(actions[-1])
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(conf.parent), "-g", "daemon off;"], cwd=ROOT)
    procs.append(nginx)
    lb_actions = f"http://{env['ACTION_SERVER_HOST']}:{env['ACTION_SERVER_PORT']}/webhook"
    rasas = []
    for port in rasa_ports:
        rasas.append(stack.start_rasa_server({**env, "RASA_PORT": str(port), "ACTION_ENDPOINT_URL": lb_actions},
                                             model, wait=False))
        procs.append(rasas[-1])
    for port, proc in zip(action_ports, actions):
        stack._wait_http(f"http://{env['ACTION_SERVER_HOST']}:{port}/health", proc, 120)
    for port, proc in zip(rasa_ports, rasas):
        stack._wait_http(f"http://{env['RASA_HOST']}:{port}/", proc, 300)
    stack._wait_http(f"http://{env['RASA_HOST']}:{env['RASA_PORT']}/", nginx, 30)
    env["RASA_URL"] = f"http://{env['RASA_HOST']}:{env['RASA_PORT']}"
    # The analytics consumer: every event from RabbitMQ into the analytics store (make report).
    procs.append(subprocess.Popen([str(Path(sys.executable)), "-m", "bot.analytics.consumer"], cwd=ROOT, env=env))
    print(f"production profile: {replicas} Rasa servers {rasa_ports} and {replicas} action servers {action_ports} "
          f"behind nginx on {env['RASA_PORT']} / {env['ACTION_SERVER_PORT']}", flush=True)
    return procs
