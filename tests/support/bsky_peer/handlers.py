"""The XRPC methods the peer serves: each takes (state, caller DID, params, body) → output."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.bsky_peer import views
from tests.support.bsky_peer.ids import cid_for_blob
from tests.support.bsky_peer.state import PeerState, XrpcError

Handler = Callable[[PeerState, str | None, dict[str, Any], Any], dict[str, Any]]
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Method:
    handler: Handler
    auth: str = "optional"  # none | optional | access | refresh
    chat: bool = False  # needs the atproto-proxy header for the chat service


# -- com.atproto.server / identity ----------------------------------------------------------


def create_session(
    state: PeerState, _: str | None, __: dict[str, Any], body: Any
) -> dict[str, Any]:
    try:
        account = state.account(body["identifier"])
    except XrpcError:
        raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password") from None
    if body["password"] != account.password:
        raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
    return {**state.issue_tokens(account.did), "handle": account.handle, "did": account.did,
            "active": True}  # fmt: skip


def refresh_session(
    state: PeerState, did: str | None, _: dict[str, Any], __: Any
) -> dict[str, Any]:
    assert did is not None
    account = state.accounts[did]
    return {**state.issue_tokens(did), "handle": account.handle, "did": did, "active": True}


def get_session(state: PeerState, did: str | None, _: dict[str, Any], __: Any) -> dict[str, Any]:
    assert did is not None
    return {"handle": state.accounts[did].handle, "did": did, "active": True}


def resolve_handle(
    state: PeerState, _: str | None, params: dict[str, Any], __: Any
) -> dict[str, Any]:
    did = state.by_handle.get(params["handle"].lower())
    if did is None:
        raise XrpcError(400, "HandleNotFound", "Unable to resolve handle")
    return {"did": did}


# -- app.bsky -------------------------------------------------------------------------------


def get_profile(state: PeerState, _: str | None, params: dict[str, Any], __: Any) -> dict[str, Any]:
    return views.profile_detailed(state, state.account(params["actor"]))


def get_profiles(
    state: PeerState, _: str | None, params: dict[str, Any], __: Any
) -> dict[str, Any]:
    found = []
    for actor in params["actors"]:
        try:
            found.append(views.profile_detailed(state, state.account(actor)))
        except XrpcError:
            continue  # unknown actors are left out, as the AppView does
    return {"profiles": found}


def list_notifications(
    state: PeerState, did: str | None, params: dict[str, Any], _: Any
) -> dict[str, Any]:
    assert did is not None
    reasons = set(params.get("reasons") or [])
    keep = (lambda n: n.reason in reasons) if reasons else None
    notes, cursor = state.post_page(
        state.notifications.get(did, []), params.get("cursor"), params["limit"], keep
    )  # type: ignore[arg-type]
    out: dict[str, Any] = {"notifications": [views.notification(state, n) for n in notes]}
    if cursor:
        out["cursor"] = cursor
    return out


def get_posts(state: PeerState, _: str | None, params: dict[str, Any], __: Any) -> dict[str, Any]:
    posts = [state.posts[u] for u in params["uris"] if u in state.posts]
    return {"posts": [views.post_view(state, p) for p in posts]}


def get_post_thread(
    state: PeerState, _: str | None, params: dict[str, Any], __: Any
) -> dict[str, Any]:
    post = state.posts.get(params["uri"])
    if post is None:
        raise XrpcError(400, "NotFound", f"Post not found: {params['uri']}")
    return {"thread": views.thread(state, post, params["depth"], params["parentHeight"])}


def search_posts(
    state: PeerState, _: str | None, params: dict[str, Any], __: Any
) -> dict[str, Any]:
    words = set(_WORD.findall(params["q"].lower()))
    if not words:
        raise XrpcError(400, "BadQueryString", "empty query")

    def keep(post: Any) -> bool:  # every word of the query is a word of the text
        return words <= set(_WORD.findall(post.record.get("text", "").lower()))

    posts, cursor = state.post_page(state.timeline, params.get("cursor"), params["limit"], keep)
    out: dict[str, Any] = {"posts": [views.post_view(state, p) for p in posts]}
    if cursor:
        out["cursor"] = cursor
    return out


def get_author_feed(
    state: PeerState, _: str | None, params: dict[str, Any], __: Any
) -> dict[str, Any]:
    author = state.account(params["actor"])
    no_replies = params.get("filter") == "posts_no_replies"
    keep = (lambda p: "reply" not in p.record) if no_replies else None
    posts, cursor = state.post_page(
        state.by_author.get(author.did, []), params.get("cursor"), params["limit"], keep
    )
    out: dict[str, Any] = {"feed": [views.feed_item(state, p) for p in posts]}
    if cursor:
        out["cursor"] = cursor
    return out


# -- com.atproto.repo -----------------------------------------------------------------------


def _own_repo(state: PeerState, did: str | None, repo: str) -> str:
    if did is None or state.account(repo).did != did:
        raise XrpcError(401, "AuthRequired", "Can only write to your own repo")
    return did


def create_record(
    state: PeerState, did: str | None, _: dict[str, Any], body: Any
) -> dict[str, Any]:
    repo = _own_repo(state, did, body["repo"])
    record = body["record"]
    if record.get("$type") != body["collection"]:
        raise XrpcError(400, "InvalidRecord", "record/$type does not match the collection")
    lexicons = state.lexicons
    if body.get("validate") is not False and lexicons and body["collection"] in lexicons.docs:
        errors = lexicons.check_record(record, "$.record")
        if errors:
            raise XrpcError(400, "InvalidRecord", "; ".join(errors))
    uri, cid = state.put_record(repo, body["collection"], record, body.get("rkey"))
    return {"uri": uri, "cid": cid, "commit": {"cid": cid, "rev": state.tids.next()},
            "validationStatus": "valid"}  # fmt: skip


def get_record(state: PeerState, _: str | None, params: dict[str, Any], __: Any) -> dict[str, Any]:
    did = state.account(params["repo"]).did
    found = state.records.get((did, params["collection"]), {}).get(params["rkey"])
    if found is None:
        raise XrpcError(400, "RecordNotFound", "Could not locate record")
    uri = f"at://{did}/{params['collection']}/{params['rkey']}"
    return {"uri": uri, "cid": found[0], "value": found[1]}


def list_records(
    state: PeerState, _: str | None, params: dict[str, Any], __: Any
) -> dict[str, Any]:
    did = state.account(params["repo"]).did
    bucket = state.records.get((did, params["collection"]), {})
    keys = sorted(bucket)  # rkey order; newest first unless reverse
    cursor, limit = params.get("cursor"), params["limit"]
    if params.get("reverse"):
        start = bisect.bisect_right(keys, cursor) if cursor else 0
        chosen = keys[start : start + limit]
    else:
        end = bisect.bisect_left(keys, cursor) if cursor else len(keys)
        chosen = list(reversed(keys[max(0, end - limit) : end]))
    records = [
        {
            "uri": f"at://{did}/{params['collection']}/{k}",
            "cid": bucket[k][0],
            "value": bucket[k][1],
        }
        for k in chosen
    ]
    out: dict[str, Any] = {"records": records}
    if len(chosen) == limit:
        out["cursor"] = chosen[-1]
    return out


def delete_record(
    state: PeerState, did: str | None, _: dict[str, Any], body: Any
) -> dict[str, Any]:
    repo = _own_repo(state, did, body["repo"])
    state.delete_record(repo, body["collection"], body["rkey"])
    return {}


def upload_blob(state: PeerState, _: str | None, __: dict[str, Any], body: Any) -> dict[str, Any]:
    data, mime = body
    cid = cid_for_blob(data)
    state.blobs[cid] = data
    return {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}}


# -- chat.bsky.convo ------------------------------------------------------------------------


def _convo(state: PeerState, did: str | None, convo_id: str) -> Any:
    convo = state.convos.get(convo_id)
    if convo is None or did not in convo.members:
        raise XrpcError(400, "InvalidConvo", "Convo not found")
    return convo


def list_convos(
    state: PeerState, did: str | None, params: dict[str, Any], _: Any
) -> dict[str, Any]:
    mine = sorted((c for c in state.convos.values() if did in c.members), key=lambda c: c.rev)
    cursor, limit = params.get("cursor"), params["limit"]
    if cursor:
        mine = [c for c in mine if c.rev < cursor]
    page = list(reversed(mine[-limit:]))
    out: dict[str, Any] = {"convos": [views.convo(state, c) for c in page]}
    if len(mine) > limit:
        out["cursor"] = page[-1].rev
    return out


def get_convo_for_members(
    state: PeerState, did: str | None, params: dict[str, Any], _: Any
) -> dict[str, Any]:
    assert did is not None
    members = {state.account(m).did for m in params["members"]} | {did}
    return {"convo": views.convo(state, state.convo_for(members))}


def get_messages(
    state: PeerState, did: str | None, params: dict[str, Any], _: Any
) -> dict[str, Any]:
    convo = _convo(state, did, params["convoId"])
    msgs = convo.messages
    cursor, limit = params.get("cursor"), params["limit"]
    end = bisect.bisect_left(msgs, cursor, key=lambda m: m.rev) if cursor else len(msgs)
    page = list(reversed(msgs[max(0, end - limit) : end]))
    out: dict[str, Any] = {"messages": [views.message(m) for m in page]}
    if end - limit > 0:
        out["cursor"] = page[-1].rev
    return out


def send_message(state: PeerState, did: str | None, _: dict[str, Any], body: Any) -> dict[str, Any]:
    assert did is not None
    convo = _convo(state, did, body["convoId"])
    msg = body["message"]
    return views.message(state.send_message(convo, did, msg["text"], msg.get("facets")))


def get_log(state: PeerState, did: str | None, params: dict[str, Any], _: Any) -> dict[str, Any]:
    assert did is not None
    logs = state.logs.get(did, [])
    cursor = params.get("cursor")
    if cursor is None:  # no cursor: where the log stands now, to read after later
        return {"logs": [], **({"cursor": logs[-1][0]} if logs else {})}
    start = bisect.bisect_right(logs, cursor, key=lambda e: e[0])
    page = logs[start : start + 100]
    out = {"logs": [views.log_create(state, rev, c, m) for rev, c, m in page], "cursor": cursor}
    if page:
        out["cursor"] = page[-1][0]
    return out


METHODS: dict[str, Method] = {
    "com.atproto.server.createSession": Method(create_session, "none"),
    "com.atproto.server.refreshSession": Method(refresh_session, "refresh"),
    "com.atproto.server.getSession": Method(get_session, "access"),
    "com.atproto.identity.resolveHandle": Method(resolve_handle),
    "app.bsky.actor.getProfile": Method(get_profile),
    "app.bsky.actor.getProfiles": Method(get_profiles),
    "app.bsky.notification.listNotifications": Method(list_notifications, "access"),
    "app.bsky.feed.getPosts": Method(get_posts),
    "app.bsky.feed.getPostThread": Method(get_post_thread),
    "app.bsky.feed.searchPosts": Method(search_posts),
    "app.bsky.feed.getAuthorFeed": Method(get_author_feed),
    "com.atproto.repo.createRecord": Method(create_record, "access"),
    "com.atproto.repo.getRecord": Method(get_record),
    "com.atproto.repo.listRecords": Method(list_records),
    "com.atproto.repo.deleteRecord": Method(delete_record, "access"),
    "com.atproto.repo.uploadBlob": Method(upload_blob, "access"),
    "chat.bsky.convo.listConvos": Method(list_convos, "access", chat=True),
    "chat.bsky.convo.getConvoForMembers": Method(get_convo_for_members, "access", chat=True),
    "chat.bsky.convo.getMessages": Method(get_messages, "access", chat=True),
    "chat.bsky.convo.sendMessage": Method(send_message, "access", chat=True),
    "chat.bsky.convo.getLog": Method(get_log, "access", chat=True),
}
