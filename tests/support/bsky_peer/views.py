"""How the AppView and the chat service render the peer's state (app.bsky / chat.bsky views)."""

from __future__ import annotations

from typing import Any

from tests.support.bsky_peer.state import Account, Convo, Message, Notification, PeerState, Post

_VERIFIER = "did:plc:z72i7hdynmk6r22z27h6tvur"  # the verifier named in verification views


def verification(account: Account) -> dict[str, Any] | None:
    if not account.verified:
        return None
    view = {
        "issuer": _VERIFIER,
        "uri": f"at://{_VERIFIER}/app.bsky.graph.verification/3lndpqjrwbg2a",
        "isValid": True,
        "createdAt": account.created_at,
    }
    return {"verifications": [view], "verifiedStatus": "valid", "trustedVerifierStatus": "none"}


def profile_basic(account: Account) -> dict[str, Any]:
    view: dict[str, Any] = {"did": account.did, "handle": account.handle}
    if account.display_name:
        view["displayName"] = account.display_name
    view["createdAt"] = account.created_at
    checked = verification(account)
    if checked:
        view["verification"] = checked
    return view


def profile(account: Account) -> dict[str, Any]:
    return {**profile_basic(account), "indexedAt": account.created_at}


def profile_detailed(state: PeerState, account: Account) -> dict[str, Any]:
    return {
        **profile(account),
        "followersCount": account.followers,
        "followsCount": 0,
        "postsCount": len(state.by_author.get(account.did, [])),
    }


def post_view(state: PeerState, post: Post) -> dict[str, Any]:
    return {
        "uri": post.uri,
        "cid": post.cid,
        "author": profile_basic(state.accounts[post.did]),
        "record": post.record,
        "replyCount": post.replies,
        "repostCount": post.reposts,
        "likeCount": post.likes,
        "quoteCount": post.quotes,
        "indexedAt": post.indexed_at,
    }


def notification(state: PeerState, note: Notification) -> dict[str, Any]:
    view = {
        "uri": note.uri,
        "cid": note.cid,
        "author": profile(state.accounts[note.author]),
        "reason": note.reason,
        "record": note.record,
        "isRead": False,
        "indexedAt": note.indexed_at,
    }
    if note.reason_subject:
        view["reasonSubject"] = note.reason_subject
    return view


def thread(state: PeerState, post: Post, depth: int, height: int) -> dict[str, Any]:
    view: dict[str, Any] = {
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": post_view(state, post),
    }
    reply = post.record.get("reply")
    if reply and height > 0:
        parent = state.posts.get(reply["parent"]["uri"])
        view["parent"] = (
            thread(state, parent, 0, height - 1)
            if parent
            else {
                "$type": "app.bsky.feed.defs#notFoundPost",
                "uri": reply["parent"]["uri"],
                "notFound": True,
            }
        )
    if depth > 0:
        kids = [state.posts[u] for u in state.children.get(post.uri, []) if u in state.posts]
        view["replies"] = [thread(state, kid, depth - 1, 0) for kid in kids]
    return view


def feed_item(state: PeerState, post: Post) -> dict[str, Any]:
    item: dict[str, Any] = {"post": post_view(state, post)}
    reply = post.record.get("reply")
    if reply:
        refs = {}
        for end in ("root", "parent"):
            found = state.posts.get(reply[end]["uri"])
            refs[end] = (
                {"$type": "app.bsky.feed.defs#postView", **post_view(state, found)}
                if found
                else {
                    "$type": "app.bsky.feed.defs#notFoundPost",
                    "uri": reply[end]["uri"],
                    "notFound": True,
                }
            )
        item["reply"] = refs
    return item


def chat_member(account: Account) -> dict[str, Any]:
    view: dict[str, Any] = {"did": account.did, "handle": account.handle}
    if account.display_name:
        view["displayName"] = account.display_name
    return view


def message(msg: Message) -> dict[str, Any]:
    view: dict[str, Any] = {
        "$type": "chat.bsky.convo.defs#messageView",
        "id": msg.id,
        "rev": msg.rev,
        "text": msg.text,
        "sender": {"did": msg.sender},
        "sentAt": msg.sent_at,
    }
    if msg.facets:
        view["facets"] = msg.facets
    return view


def convo(state: PeerState, item: Convo) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": item.id,
        "rev": item.rev,
        "members": [chat_member(state.accounts[did]) for did in item.members],
        "muted": False,
        "unreadCount": 0,
    }
    if item.messages:
        view["lastMessage"] = message(item.messages[-1])
    return view


def log_create(state: PeerState, rev: str, item: Convo, msg: Message) -> dict[str, Any]:
    return {
        "$type": "chat.bsky.convo.defs#logCreateMessage",
        "rev": rev,
        "convoId": item.id,
        "message": message(msg),
        "relatedProfiles": [chat_member(state.accounts[msg.sender])],
    }
