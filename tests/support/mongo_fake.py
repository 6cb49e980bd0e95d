"""A MongoDB server as pymongo sees it on the wire (mockupdb), for what mongomock cannot show:
the commands the client really sends, transactions, server errors and timeouts.

FakeMongo answers the handshake as the kind of server asked for (replica-set primary, mongos,
standalone, or a member whose set is not initiated yet), records every other command, and
answers it with `answer(name, command)` - a dict reply, `SILENT` to never answer, or None for
an empty success of the command's kind.
"""

from __future__ import annotations

import threading
from typing import Callable

from mockupdb import MockupDB

SILENT = object()
HANDSHAKE = {"hello", "ismaster", "ping", "endsessions", "buildinfo", "getparameter"}


class FakeMongo:
    def __init__(self, kind: str = "primary", sessions: bool = True, port: int | None = None):
        self.kind = kind
        self.sessions = sessions
        self.answer: Callable[[str, dict], object] = lambda name, command: None
        self.commands: list[dict] = []
        self._lock = threading.Lock()
        self.server = MockupDB(port=port, request_timeout=30)
        self.server.autoresponds(self._handle)
        self.port = self.server.run()
        self.host = f"localhost:{self.port}"

    def url(self, db: str = "survey", options: str = "replicaSet=rs0") -> str:
        return f"mongodb://{self.host}/{db}" + (f"?{options}" if options else "")

    def stop(self) -> None:
        self.server.stop()

    def sent(self, *names: str) -> list[dict]:
        """Commands sent so far, optionally only those with these names."""
        with self._lock:
            return [c for c in self.commands if not names or _name(c) in names]

    def hello(self) -> dict:
        reply = {"ok": 1, "maxWireVersion": 21, "minWireVersion": 0, "helloOk": True,
                 "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48_000_000,
                 "maxWriteBatchSize": 100_000}
        if self.sessions:
            reply["logicalSessionTimeoutMinutes"] = 30
        if self.kind == "primary":
            reply.update(isWritablePrimary=True, ismaster=True, setName="rs0",
                         hosts=[self.host], me=self.host, primary=self.host, setVersion=1,
                         electionId=None)
            reply.pop("electionId")
        elif self.kind == "uninitiated":  # compose before rs.initiate(): no set, no primary
            reply.update(isWritablePrimary=False, ismaster=False, secondary=False,
                         isreplicaset=True, info="Does not have a valid replica set config")
        elif self.kind == "mongos":
            reply.update(isWritablePrimary=True, ismaster=True, msg="isdbgrid")
        else:  # standalone
            reply.update(isWritablePrimary=True, ismaster=True)
        return reply

    def _handle(self, request) -> bool:
        name = request.command_name.lower() if request.command_name else ""
        if name in HANDSHAKE:
            if name in ("hello", "ismaster"):
                request.reply(self.hello())
            else:
                request.reply({"ok": 1})
            return True
        command = dict(request.doc)
        with self._lock:
            self.commands.append(command)
        reply = self.answer(_name(command), command)
        if reply is SILENT:
            return True  # never answered: the client's deadline decides
        request.reply(reply if reply is not None else _default(command))
        return True


def _name(command: dict) -> str:
    return next(iter(command))


def _default(command: dict) -> dict:
    name = _name(command)
    ns = f"{command.get('$db')}.{command[name]}"
    if name in ("find", "aggregate", "listCollections", "listIndexes"):
        return {"ok": 1, "cursor": {"id": 0, "ns": ns, "firstBatch": []}}
    if name == "insert":
        return {"ok": 1, "n": len(command.get("documents", []))}
    if name in ("update", "delete"):
        return {"ok": 1, "n": 0, "nModified": 0}
    if name == "findAndModify":
        return {"ok": 1, "value": None}
    if name == "distinct":
        return {"ok": 1, "values": []}
    if name == "count":
        return {"ok": 1, "n": 0}
    return {"ok": 1}


def cursor(command: dict, docs: list[dict]) -> dict:
    name = _name(command)
    return {"ok": 1, "cursor": {"id": 0, "ns": f"{command['$db']}.{command[name]}",
                                "firstBatch": docs}}
