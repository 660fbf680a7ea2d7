"""What each endpoint of the peer does, on parsed and spec-checked input.

Timelines page newest first. A pagination token encodes where the next page starts *and* the
`since_id` of the pass: a page asked with a token and another `since_id` is refused, so a client
that moves its `since_id` mid-pass (and would skip or repeat posts) fails loudly here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tests.support.x_peer.render import Renderer
from tests.support.x_peer.search import QueryError, compile_query
from tests.support.x_peer.state import Post

if TYPE_CHECKING:
    from tests.support.x_peer.app import Call

Result = tuple[int, dict[str, Any]]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


# -- paging -------------------------------------------------------------------------------------


def _token(upper: int, since: int | None) -> str:
    return f"{upper:x}z{since or 0:x}"


def _parse_token(token: str, since: int | None) -> int:
    upper, sep, token_since = token.partition("z")
    try:
        upper_id, since_id = int(upper, 16), int(token_since, 16)
    except ValueError:
        raise ApiError(400, "The `pagination_token` query parameter value is invalid") from None
    if not sep or since_id != (since or 0):
        raise ApiError(400, "The pagination_token does not belong to this since_id")
    return upper_id


def _listing(
    call: Call,
    ids: list[int],
    *,
    keep: Callable[[int], bool] = lambda _: True,
    default_size: int = 100,
    token_param: str = "pagination_token",
) -> tuple[list[int], str | None]:
    q = call.query
    since = int(q["since_id"]) if "since_id" in q else None
    until = int(q["until_id"]) if "until_id" in q else None
    token = q.get(token_param) or q.get("pagination_token")
    upper = _parse_token(token, since) if token else None
    size = int(q.get("max_results", default_size))
    found, more = call.state.page(ids, keep=keep, since=since, until=until, upper=upper, size=size)
    next_token = _token(found[-1] - 1, since) if more and found else None
    return found, next_token


def _time_filter(call: Call) -> Callable[[Post], bool]:
    start = _time(call.query.get("start_time"))
    end = _time(call.query.get("end_time"))
    return lambda post: (
        (start is None or post.created_at >= start) and (end is None or post.created_at < end)
    )


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Invalid time {value!r}") from None


def _posts_page(call: Call, ids: list[int], next_token: str | None) -> Result:
    render = Renderer(call.state, call.spelling, call.query)
    data = [render.post(call.state.posts[str(i)]) for i in ids]
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta["newest_id"], meta["oldest_id"] = data[0]["id"], data[-1]["id"]
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"meta": meta}
    if data:  # the tweet spec wants no empty arrays: X omits `data` on an empty page
        body["data"] = data
        includes = render.includes()
        if includes:
            body["includes"] = includes
    return 200, body


def _user_id(call: Call, name: str = "id") -> str:
    user_id = call.path[name]
    if user_id not in call.state.users:
        raise ApiError(404, f"Could not find user with {name}: [{user_id}]")
    return user_id


# -- posts --------------------------------------------------------------------------------------


def mentions(call: Call) -> Result:
    user_id = _user_id(call)
    when = _time_filter(call)
    posts = call.state.posts
    ids, token = _listing(
        call, call.state.mentions_of.get(user_id, []), keep=lambda i: when(posts[str(i)])
    )
    return _posts_page(call, ids, token)


def user_posts(call: Call) -> Result:
    user_id = _user_id(call)
    exclude = set(call.query.get("exclude") or [])
    when = _time_filter(call)

    def keep(i: int) -> bool:
        post = call.state.posts[str(i)]
        kinds = {t for t, _ in post.refs}
        if "replies" in exclude and "replied_to" in kinds:
            return False
        return not ("retweets" in exclude and "retweeted" in kinds) and when(post)

    ids, token = _listing(call, call.state.posts_by.get(user_id, []), keep=keep)
    return _posts_page(call, ids, token)


def search_recent(call: Call) -> Result:
    try:
        match = compile_query(call.query["query"], call.state)
    except QueryError as exc:
        raise ApiError(400, f"Invalid query: {exc}") from None
    when = _time_filter(call)
    posts = call.state.posts
    ids, token = _listing(
        call,
        call.state.all_posts,
        keep=lambda i: when(posts[str(i)]) and match(posts[str(i)]),
        default_size=10,
        token_param="next_token",
    )
    return _posts_page(call, ids, token)


def posts_by_ids(call: Call) -> Result:
    found = [call.state.posts[i] for i in call.query["ids"] if i in call.state.posts]
    render = Renderer(call.state, call.spelling, call.query)
    body: dict[str, Any] = {}
    if found:
        body["data"] = [render.post(p) for p in found]
        if render.includes():
            body["includes"] = render.includes()
    return 200, body


def create_post(call: Call) -> Result:
    body = call.body or {}
    assert call.actor is not None
    reply = (body.get("reply") or {}).get("in_reply_to_tweet_id")
    if reply is not None and reply not in call.state.posts:
        raise ApiError(400, "The post you are replying to does not exist or is not visible")
    media = list((body.get("media") or {}).get("media_ids") or [])
    if any(m not in call.state.media for m in media):
        raise ApiError(400, "Unknown media id")
    text = str(body.get("text", ""))
    if not text and not media:
        raise ApiError(400, "A post needs text or media")
    post = call.state.add_post(call.actor, text, in_reply_to=reply, media_ids=media)
    edit = "edit_history_post_ids" if call.spelling == "post" else "edit_history_tweet_ids"
    return 201, {"data": {"id": post.id, "text": post.text, edit: [post.id]}}


# -- private messages ---------------------------------------------------------------------------


def _dm_page(call: Call, ids: list[int], next_token: str | None) -> Result:
    render = Renderer(call.state, call.spelling, call.query)
    data = [render.dm(call.state.dms[str(i)]) for i in ids]
    meta: dict[str, Any] = {"result_count": len(data)}
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"meta": meta}
    if data:
        body["data"] = data
        if render.includes():
            body["includes"] = render.includes()
    return 200, body


def dm_events(call: Call) -> Result:
    assert call.actor is not None
    ids, token = _listing(call, call.state.dms_of.get(call.actor, []))
    return _dm_page(call, ids, token)


def dm_conversation(call: Call) -> Result:
    assert call.actor is not None
    other = _user_id(call, "participant_id")
    dms, me = call.state.dms, call.actor

    def keep(i: int) -> bool:
        event = dms[str(i)]
        return {event.sender_id, event.recipient_id} == {me, other}

    ids, token = _listing(call, call.state.dms_of.get(me, []), keep=keep)
    return _dm_page(call, ids, token)


def send_dm(call: Call) -> Result:
    assert call.actor is not None
    other = _user_id(call, "participant_id")
    body = call.body or {}
    media = [a["media_id"] for a in body.get("attachments") or []]
    if any(m not in call.state.media for m in media):
        raise ApiError(400, "Unknown media id")
    event = call.state.add_dm(call.actor, other, str(body.get("text", "")), media_ids=media)
    return 201, {"data": {"dm_conversation_id": event.conversation_id, "dm_event_id": event.id}}


def media_upload(call: Call) -> Result:
    body = call.body or {}
    try:
        data = base64.b64decode(str(body.get("media", "")), validate=True)
    except binascii.Error:
        raise ApiError(400, "media must be base64") from None
    if not data:
        raise ApiError(400, "empty media")
    media_id = call.state.add_media(data)
    return 200, {
        "data": {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": len(data),
            "expires_after_secs": 86400,
        },
        "meta": {},
    }


# -- users --------------------------------------------------------------------------------------


def user_by_username(call: Call) -> Result:
    user = call.state.by_username.get(call.path["username"].lower())
    if user is None:
        raise ApiError(404, f"Could not find user with username: [{call.path['username']}]")
    return 200, {"data": Renderer(call.state, call.spelling, call.query).user(user)}


def users_by_ids(call: Call) -> Result:
    render = Renderer(call.state, call.spelling, call.query)
    found = [call.state.users[i] for i in call.query["ids"] if i in call.state.users]
    return 200, ({"data": [render.user(u) for u in found]} if found else {})


def me(call: Call) -> Result:
    assert call.actor is not None
    user = call.state.users[call.actor]
    return 200, {"data": Renderer(call.state, call.spelling, call.query).user(user)}
