"""People and their credentials: accounts, passwords (argon2), personal API tokens.

A token is shown once when issued; only its SHA-256 is stored, so a stolen database does not
yield working tokens. A browser session is a row too (its key's SHA-256, in the signed cookie):
signing out ends it, so a copied cookie stops working then — the signature alone could not be
withdrawn — and every session ends SESSION_LIFETIME after sign-in, as its cookie does.

Sign-in is throttled against password guessing: after 5 failed attempts for one username within
15 minutes, that username cannot sign in for 15 minutes; after 20 failures from one address
within 15 minutes, that address cannot sign in for 15 minutes. Failures are rows in the database
(every worker counts the same ones); a successful sign-in clears its username's failures. An
unknown username is throttled like a real one, so the answers do not reveal which accounts exist.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from app.db.models import (
    ApiToken,
    Delegation,
    Group,
    GroupAuthorisation,
    SignInFailure,
    User,
    UserSession,
)
from app.db.session import Database
from app.domain.clean_text import clean_text
from app.domain.errors import Invalid, NotAuthenticated, NotFound
from app.domain.roles import Actor, Role
from app.services import events
from app.services.permissions import Action, require
from app.services.text import find_delegation, find_group
from app.services.views import IssuedToken, UserView
from app.timeutil import utcnow

_hasher = PasswordHasher()
TOKEN_PREFIX = "rt_"
MIN_PASSWORD = 8

#: The throttle: this many failures within WINDOW lock a username (or an address) for LOCKOUT.
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
#: A browser session lasts as long as its cookie (app/main.py sets the same max_age).
SESSION_LIFETIME = timedelta(days=14)
SESSION_ENDED = "Your session has ended; please sign in again."


class SignInThrottled(NotAuthenticated):
    """Too many failed sign-ins: refused without looking at the password, until `until`."""

    def __init__(self, message: str, *, until: datetime) -> None:
        super().__init__(message)
        self.until = until

    @property
    def retry_after(self) -> int:
        """Seconds until the lock ends (the Retry-After header)."""
        return max(1, int((self.until - utcnow()).total_seconds()) + 1)


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Tests trade argon2's cost for speed here; production keeps the library's defaults."""
    global _hasher
    _hasher = hasher


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    database: Database,
    *,
    actor: Actor | None,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    delegation: str | None = None,
    groups: Sequence[str] = (),
) -> UserView:
    """Add an account. `actor` None is the command line (the secretariat's own console)."""
    if actor is not None:
        require(actor, Action.MANAGE_USERS)
    username = username.strip()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        raise Invalid("A username is 1–64 letters, digits, '.', '_' or '-'.")
    display_name = clean_text(display_name, what="The display name", max_length=200)
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"A password has at least {MIN_PASSWORD} characters.")
    if role in (Role.DELEGATE, Role.COFACILITATOR) and not delegation:
        raise Invalid(f"A {role.value} belongs to a delegation.")
    if groups and role is not Role.DELEGATE:
        raise Invalid("Only delegates can be authorised to speak for a group.")
    with database.write() as db:
        if db.scalar(select(User.id).where(User.username == username)):
            raise Invalid(f"The username {username!r} is taken.")
        user = User(
            username=username,
            display_name=display_name or username,
            role=role,
            delegation_id=find_delegation(db, delegation).id if delegation else None,
            password_hash=hash_password(password),
        )
        db.add(user)
        db.flush()
        for code in groups:
            group = find_group(db, code)
            db.add(GroupAuthorisation(user_id=user.id, group_id=group.id))
        events.record(
            db,
            kind="user.created",
            actor=actor,
            subject="user",
            subject_id=user.id,
            username=username,
            role=role.value,
        )
        db.flush()
        return _user_view(db, user)


def list_users(database: Database) -> list[UserView]:
    with database.read() as db:
        return [_user_view(db, u) for u in db.scalars(select(User).order_by(User.username))]


def authenticate(
    database: Database, *, username: str, password: str, address: str | None = None
) -> Actor:
    """The account's actor if the password is right; failures are counted (see module doc)."""
    username = clean_text(username, what="The username")[:64]
    address = (address or "")[:64]  # "" (the command line, tests): only the username counts
    now = utcnow()
    with database.read() as db:
        _refuse_if_locked(db, username=username, address=address, now=now)
        user = db.scalar(select(User).where(User.username == username, User.active.is_(True)))
        verified = False
        if user is None:
            _hasher.hash(password)  # same work whether or not the user exists
        else:
            try:
                verified = _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                verified = False
        had_failures = verified and db.scalar(
            select(SignInFailure.id).where(SignInFailure.username == username).limit(1)
        )
        actor = actor_of(db, user) if verified and user is not None else None
    if actor is not None:
        if had_failures:
            with database.write() as db:
                db.execute(delete(SignInFailure).where(SignInFailure.username == username))
        return actor
    with database.write() as db:
        db.add(SignInFailure(username=username, address=address, at=now))
    raise NotAuthenticated("Unknown username or wrong password.")


def _refuse_if_locked(db: Session, *, username: str, address: str, now: datetime) -> None:
    """Refuse while a username or an address is locked out by its recent failures."""
    for column, key, limit, whom in (
        (SignInFailure.username, username, MAX_FAILURES_PER_USERNAME, "this username"),
        (SignInFailure.address, address, MAX_FAILURES_PER_ADDRESS, "your network address"),
    ):
        if not key:
            continue
        times = db.scalars(
            select(SignInFailure.at)
            .where(column == key, SignInFailure.at > now - WINDOW - LOCKOUT)
            .order_by(SignInFailure.at)
        ).all()
        until = _locked_until(list(times), limit)
        if until is not None and now < until:
            raise SignInThrottled(
                f"Too many failed sign-ins for {whom}: signing in is blocked for "
                f"{int(LOCKOUT.total_seconds() // 60)} minutes, until {until:%H:%M} UTC. "
                "Check the username and password, or ask the secretariat to reset the password.",
                until=until,
            )


def _locked_until(times: list[datetime], limit: int) -> datetime | None:
    """The end of the latest lock: LOCKOUT after a failure that was the `limit`-th in WINDOW."""
    until = None
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= WINDOW:
            until = times[i] + LOCKOUT
    return until


def start_session(database: Database, *, actor: Actor) -> str:
    """A new browser session for a signed-in user: the key for its cookie (shown once)."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    with database.write() as db:
        db.execute(  # the user's sessions that are over: nothing refers to them
            delete(UserSession).where(
                UserSession.user_id == actor.user_id,
                (UserSession.ended_at.is_not(None))
                | (UserSession.created_at <= now - SESSION_LIFETIME),
            )
        )
        db.add(UserSession(user_id=actor.user_id, key_hash=digest(key), created_at=now))
    return key


def end_session(database: Database, *, key: str | None) -> None:
    """Sign out: the session's cookie, wherever a copy of it is, no longer signs anyone in.

    The event tells every worker to forget the actor it kept for that session."""
    if not key:
        return
    with database.write() as db:
        ended = db.execute(
            update(UserSession)
            .where(UserSession.key_hash == digest(key), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow())
            .returning(UserSession.id, UserSession.user_id)
        ).first()
        if ended is not None:
            events.record(
                db,
                kind="session.ended",
                actor=None,
                subject="session",
                subject_id=ended.id,
                user_id=ended.user_id,
            )


def actor_for_session(database: Database, *, user_id: int, key: str | None) -> Actor:
    """The user of a live session (its cookie names both); an ended one signs no one in."""
    actor, _ = session_of(database, user_id=user_id, key=key)
    return actor


def session_of(database: Database, *, user_id: int, key: str | None) -> tuple[Actor, datetime]:
    """The user of a live session and when the session ends: what a worker may keep until then,
    or until an account event (`events.ACCOUNT_KINDS`: signing out) says otherwise.

    One query finds the session, the user, their delegation and the groups they may speak for."""
    if not key:
        raise NotAuthenticated(SESSION_ENDED)
    with database.read() as db:
        started = db.scalar(
            select(UserSession.created_at).where(
                UserSession.key_hash == digest(key),
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.created_at > utcnow() - SESSION_LIFETIME,
            )
        )
        actor = _actor_where(db, User.id == user_id) if started is not None else None
        if actor is None or started is None:
            raise NotAuthenticated(SESSION_ENDED)
        return actor, started + SESSION_LIFETIME


def session_is_over(ends: datetime) -> bool:
    """Has a session that `session_of` found live ended with its lifetime since?"""
    return ends <= utcnow()


def actor_for_username(database: Database, *, username: str) -> Actor:
    username = clean_text(username, what="The username")
    with database.read() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"There is no user {username!r}.")
        return actor_of(db, user)


def issue_token(database: Database, *, actor: Actor, name: str) -> IssuedToken:
    name = clean_text(name, what="The token's name")
    if not name or len(name) > 100:
        raise Invalid("Give the token a name of at most 100 characters.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with database.write() as db:
        row = ApiToken(user_id=actor.user_id, name=name, token_hash=digest(token))
        db.add(row)
        db.flush()
        events.record(db, kind="token.issued", actor=actor, subject="token", subject_id=row.id)
        return IssuedToken(id=row.id, name=name, token=token)


def revoke_token(database: Database, *, actor: Actor, token_id: int) -> None:
    with database.write() as db:
        row = db.get(ApiToken, token_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFound(f"You have no token {token_id}.")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            events.record(db, kind="token.revoked", actor=actor, subject="token", subject_id=row.id)


def actor_for_token(database: Database, *, token: str) -> Actor:
    with database.read() as db:
        row = db.execute(
            select(ApiToken.user_id, ApiToken.revoked_at).where(
                ApiToken.token_hash == digest(token)
            )
        ).first()
        if row is None or row.revoked_at is not None:
            raise NotAuthenticated("This API token is unknown or has been revoked.")
        actor = _actor_where(db, User.id == row.user_id)
        if actor is None:
            raise NotAuthenticated("The account of this API token is disabled.")
        return actor


def _actor_where(db: Session, *conditions: ColumnElement[bool]) -> Actor | None:
    """The active user meeting `conditions` (one at most) as an actor, in one query."""
    rows = db.execute(
        select(
            User.id,
            User.username,
            User.display_name,
            User.role,
            User.delegation_id,
            Delegation.code,
            GroupAuthorisation.group_id,
        )
        .outerjoin(Delegation, Delegation.id == User.delegation_id)
        .outerjoin(GroupAuthorisation, GroupAuthorisation.user_id == User.id)
        .where(*conditions, User.active.is_(True))
    ).all()
    if not rows:
        return None
    first = rows[0]
    return Actor(
        user_id=first.id,
        username=first.username,
        display_name=first.display_name,
        role=first.role,
        delegation_id=first.delegation_id,
        delegation_code=first.code,
        group_ids=frozenset(r.group_id for r in rows if r.group_id is not None),
    )


def actor_of(db: Session, user: User) -> Actor:
    group_ids = frozenset(
        db.scalars(select(GroupAuthorisation.group_id).where(GroupAuthorisation.user_id == user.id))
    )
    delegation = db.get(Delegation, user.delegation_id) if user.delegation_id else None
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        delegation_id=user.delegation_id,
        delegation_code=delegation.code if delegation else None,
        group_ids=group_ids,
    )


def _user_view(db: Session, user: User) -> UserView:
    groups = db.scalars(
        select(Group.code)
        .join(GroupAuthorisation, GroupAuthorisation.group_id == Group.id)
        .where(GroupAuthorisation.user_id == user.id)
    ).all()
    delegation = db.get(Delegation, user.delegation_id) if user.delegation_id else None
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        delegation=delegation.code if delegation else None,
        groups=tuple(groups),
    )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
