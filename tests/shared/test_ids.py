"""Ids: time-ordered, unique, and random where they are random, also across a fork (the random
parts are drawn from the OS in blocks)."""

from __future__ import annotations

import os
import re
import time

from shared import ids
from shared.web import ServiceFlask


def test_ids_increase_and_never_repeat_over_several_random_blocks():
    made = [ids.new_id() for _ in range(5 * ids._BLOCK_IDS)]
    assert all(re.fullmatch(ids.ID_PATTERN, i) for i in made)
    assert made == sorted(made) and len(set(made)) == len(made)
    random_parts = [i[12:] for i in made]  # 80 random bits after 48 bits of milliseconds
    assert len(set(random_parts)) >= len(made) - 5  # equal only where one id bumped the last


def test_a_forked_child_never_makes_the_parents_ids():
    ids.new_id()  # the parent holds a block with unused bytes, and its last id
    # ...a last id a minute ahead of the clock, as if the clock had stepped back: the parent
    # counts on from it, so a child that did too would make exactly the parent's ids.
    ids._last = (int(time.time() * 1000) + 60_000) << 80
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.write(write, " ".join(ids.new_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 4096).decode().split()
    os.waitpid(pid, 0)
    parent = [ids.new_id() for _ in range(3)]
    assert len(child) == 3
    assert not {c[12:] for c in child} & {p[12:] for p in parent}  # whatever the milliseconds


def test_views_and_hooks_run_as_flask_runs_them():
    app = ServiceFlask(__name__)
    calls = []

    @app.before_request
    def before():
        calls.append("before")

    @app.get("/")
    def index():
        calls.append("view")
        return "ok"

    with app.test_client() as client:
        assert client.get("/").data == b"ok" and client.get("/").data == b"ok"
    assert calls == ["before", "view"] * 2
    assert app.ensure_sync(index) is index

    class Unhashable:
        __hash__ = None

        def __call__(self):
            return "called"

    assert app.ensure_sync(Unhashable())() == "called"
