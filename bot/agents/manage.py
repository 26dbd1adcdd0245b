"""Agent accounts from the command line.

    python -m bot.agents.manage add USERNAME "Display Name"   # password: $AGENT_PASSWORD or prompted
    python -m bot.agents.manage seed-demo                     # demo agents, password $AGENT_DEMO_PASSWORD
    python -m bot.agents.manage list
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import List, Optional

from dotenv import load_dotenv

from bot.agents import accounts
from bot.billing.errors import InvalidRequest
from bot.billing.migrate import upgrade

DEMO_AGENTS = (("alex", "Alex Morgan"), ("sam", "Sam Rivera"))


def _password() -> str:
    password = os.environ.get("AGENT_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit("set AGENT_PASSWORD or run in a terminal to type the password")
    first = getpass.getpass("password (10+ characters): ")
    if first != getpass.getpass("again: "):
        raise SystemExit("the passwords differ")
    return first


def main(argv: Optional[List[str]] = None) -> int:
    load_dotenv(override=False)
    parser = argparse.ArgumentParser(prog="python -m bot.agents.manage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add an agent")
    add.add_argument("username")
    add.add_argument("display_name", nargs="?", default=None)
    sub.add_parser("seed-demo", help="create the demo agents if missing")
    sub.add_parser("list", help="list agents")
    args = parser.parse_args(argv)
    db = {"database_url": args.database_url}
    upgrade(args.database_url)
    if args.command == "add":
        try:
            agent = accounts.create_agent(args.username, args.display_name or args.username, _password(), **db)
        except InvalidRequest as exc:
            raise SystemExit(str(exc)) from None
        print(f"agent {agent.username} ({agent.display_name}) added")
    elif args.command == "seed-demo":
        password = os.environ.get("AGENT_DEMO_PASSWORD")
        if not password:
            print("AGENT_DEMO_PASSWORD is not set: no demo agents created")
            return 0
        existing = {a.username for a in accounts.list_agents(**db)}
        for username, name in DEMO_AGENTS:
            if username not in existing:
                accounts.create_agent(username, name, password, **db)
        print("demo agents: " + ", ".join(u for u, _ in DEMO_AGENTS) + " (password: AGENT_DEMO_PASSWORD in .env)")
    else:
        for agent in accounts.list_agents(**db):
            print(f"{agent.username:20} {agent.display_name:30} {'online' if agent.online else 'offline'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
