"""Console users: people of an organization signing in with e-mail and password.

Passwords are hashed by werkzeug.security (scrypt). A role maps onto the API scopes, so the
console and the API agree on who may do what. After LOCK_AFTER failed sign-ins within
LOCK_WINDOW an account is locked for LOCK_FOR (per account, whatever the address: an attacker
spreading guesses over many addresses still meets the lock). Password reset links are signed
and expire; they carry a fingerprint of the current password hash, so a link stops working the
moment it has been used (or the password changed another way): single use without storing it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from shared import ids
from shared.storage import AlreadyExists, ConsoleUser, Store, to_timestamp

from ..audit import record

ROLES = {"admin": ("admin",), "analyst": ("ingest", "read"), "viewer": ("read",)}
ROLE_TEXT = {"admin": "Admin: everything, including users and API keys",
             "analyst": "Analyst: invitations, mailing, reports and briefs",
             "viewer": "Viewer: reads progress, reports and briefs"}
LOCK_AFTER = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
RESET_HOURS = 2
RESET_SALT = "console-password-reset"
MIN_PASSWORD = 10
EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$")
# Checked against when the e-mail is unknown, so a wrong address costs as long as a wrong
# password (no telling which addresses have accounts from the answer time).
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def can(user: ConsoleUser, scope: str) -> bool:
    scopes = ROLES.get(user.role, ())
    return "admin" in scopes or scope in scopes


def normal_email(email: str) -> str:
    return (email or "").strip().lower()


def password_problem(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > 200:
        return "Use at most 200 characters."
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(store: Store, org_id: str, email: str, name: str, role: str,
                password: str, actor: str = "cli") -> ConsoleUser:
    email = normal_email(email)
    if not EMAIL.match(email):
        raise ValueError(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    if store.organizations.get(org_id) is None:
        raise LookupError(f"no organization {org_id}")
    if store.console_users.find_by_email(email):
        raise AlreadyExists(f"a console user {email} exists")
    user = store.console_users.add(ConsoleUser(
        id=ids.new_id(), org_id=org_id, email=email, name=name.strip() or email, role=role,
        password_hash=generate_password_hash(password)))
    record(store, org_id, "user.created", actor, user_id=user.id, role=role)
    return user


@dataclass
class SignIn:
    user: ConsoleUser | None
    locked_until: str | None = None


def sign_in(store: Store, email: str, password: str, now: datetime | None = None) -> SignIn:
    """The user if the password is right and the account is neither locked nor disabled."""
    now = now or datetime.now(timezone.utc)
    stamp = to_timestamp(now)
    user = store.console_users.find_by_email(normal_email(email))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return SignIn(None)
    if user.locked_until and user.locked_until > stamp:
        return SignIn(None, user.locked_until)
    if not user.active or not check_password_hash(user.password_hash, password or ""):
        since = to_timestamp(now - LOCK_WINDOW)
        failures = tuple(t for t in user.failed_logins if t > since) + (stamp,)
        changes: dict = {"failed_logins": failures}
        if len(failures) >= LOCK_AFTER:
            changes.update(locked_until=to_timestamp(now + LOCK_FOR), failed_logins=())
            record(store, user.org_id, "user.locked", "console", user_id=user.id)
        store.console_users.update(user.id, changes)
        return SignIn(None, changes.get("locked_until"))
    user = store.console_users.update(user.id, {"failed_logins": (), "locked_until": None,
                                                "last_login_at": stamp})
    return SignIn(user)


def session_id(user: ConsoleUser) -> str:
    """What the session cookie names: the user and a fingerprint of the password hash, so a
    password change signs out every other session."""
    return f"{user.id}:{_fingerprint(user)}"


def user_for_session(store: Store, value: str) -> ConsoleUser | None:
    user_id, _, fingerprint = (value or "").partition(":")
    user = store.console_users.get(user_id)
    if user is None or not user.active or not secrets.compare_digest(fingerprint,
                                                                     _fingerprint(user)):
        return None
    return user


def _fingerprint(user: ConsoleUser) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def reset_token(secret: str, user: ConsoleUser) -> str:
    return URLSafeTimedSerializer(secret, salt=RESET_SALT).dumps(
        {"u": user.id, "f": _fingerprint(user)})


def user_for_reset(store: Store, secret: str, token: str) -> ConsoleUser | None:
    """The user a reset link is for, if it is authentic, unexpired and unused."""
    try:
        data = URLSafeTimedSerializer(secret, salt=RESET_SALT).loads(
            token, max_age=RESET_HOURS * 3600)
    except (BadSignature, SignatureExpired):
        return None
    user = store.console_users.get(data.get("u", ""))
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


def set_password(store: Store, user: ConsoleUser, password: str) -> ConsoleUser:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    updated = store.console_users.update(user.id, {
        "password_hash": generate_password_hash(password), "failed_logins": (),
        "locked_until": None})
    record(store, user.org_id, "user.password_changed", f"user:{user.id}", user_id=user.id)
    return updated
