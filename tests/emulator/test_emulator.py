"""The Bot API emulator over HTTP: Telegram's validation, errors, updates, webhooks, files."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.emulator import Emulator, EmulatorServer
from bot.telegram_rules.html import EntityParseError, parse_html
from tests.support.e2e import PNG_1PX

TOKEN = "123:TEST"


class Api:
    """A bare Bot API client: status and JSON of each call, nothing interpreted."""

    def __init__(self, server: EmulatorServer, client: httpx.AsyncClient) -> None:
        self.server = server
        self.client = client
        self.emulator = server.emulator

    async def __call__(self, method: str, *, form: bool = False, **params: Any) -> tuple[int, dict]:
        url = f"{self.server.api_url}{TOKEN}/{method}"
        if form:
            # The way python-telegram-bot sends: every value a string, objects as JSON.
            data = {
                k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()
            }
            response = await self.client.post(url, data=data)
        else:
            response = await self.client.post(url, json=params)
        return response.status_code, response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self(method, **params)
        assert status == 200 and body["ok"], body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self(method, **params)
        assert not body["ok"], body
        assert body["error_code"] == status
        return status, body["description"]


async def _api(emulator: Emulator) -> AsyncIterator[Api]:
    async with EmulatorServer(emulator) as server, httpx.AsyncClient(timeout=10) as client:
        yield Api(server, client)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    emulator = Emulator(TOKEN)
    emulator.add_user(7, "Sari")
    emulator.send_text(7, "/start")  # she wrote first, so the bot may write to her
    async for value in _api(emulator):
        yield value


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- method dispatch and authorisation ---------------------------------------------------------


async def test_get_me_and_method_names_are_case_insensitive(api: Api):
    me = await api.ok("getMe")
    assert me["id"] == 123 and me["is_bot"] is True
    assert (await api.ok("getme"))["username"] == me["username"]


async def test_unknown_method_is_404_not_found(api: Api):
    assert await api.error("sendTelepathy", chat_id=7) == (404, "Not Found")


async def test_wrong_token_is_401(api: Api):
    response = await api.client.post(f"{api.server.api_url}999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


# --- sendMessage validation ---------------------------------------------------------------------


async def test_text_limit_counts_parsed_text_in_utf16_units(api: Api):
    await api.ok("sendMessage", chat_id=7, text="x" * 4096)
    # Tags do not count: Telegram measures the text the user sees.
    await api.ok("sendMessage", chat_id=7, text=f"<b>{'x' * 4096}</b>", parse_mode="HTML")
    assert await api.error("sendMessage", chat_id=7, text="x" * 4097) == (
        400,
        "Bad Request: message is too long",
    )
    # An emoji outside the BMP is two UTF-16 units: 2,049 of them are 4,098 units.
    assert await api.error("sendMessage", chat_id=7, text="😀" * 2049) == (
        400,
        "Bad Request: message is too long",
    )


async def test_caption_over_1024_is_refused(api: Api):
    status, body = await api(
        "sendPhoto", form=True, chat_id=7, photo=_photo_id(api), caption="c" * 1025
    )
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    await api.ok("sendPhoto", chat_id=7, photo=_photo_id(api), caption="c" * 1024)


def _photo_id(api: Api) -> str:
    message = api.emulator.send_photo(7, PNG_1PX)
    return message["photo"][-1]["file_id"]


@pytest.mark.parametrize("text", ["", "   \n ", "<b> </b>"])
async def test_empty_text_is_refused(api: Api, text: str):
    assert await api.error("sendMessage", chat_id=7, text=text, parse_mode="HTML") == (
        400,
        "Bad Request: message text is empty",
    )


async def test_missing_text_is_refused(api: Api):
    assert await api.error("sendMessage", chat_id=7) == (400, "Bad Request: message text is empty")


@pytest.mark.parametrize(
    ("data", "ok"),
    [("x" * 64, True), ("é" * 32, True), ("x" * 65, False), ("é" * 33, False), ("", False)],
)
async def test_callback_data_is_1_to_64_bytes(api: Api, data: str, ok: bool):
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": data}]]}
    status, body = await api("sendMessage", form=True, chat_id=7, text="hi", reply_markup=markup)
    if ok:
        assert status == 200, body
    else:
        assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


async def test_inline_button_needs_an_action(api: Api):
    markup = {"inline_keyboard": [[{"text": "Nothing"}]]}
    _, description = await api.error("sendMessage", chat_id=7, text="hi", reply_markup=markup)
    assert "Text buttons are unallowed in the inline keyboard" in description


@pytest.mark.parametrize(
    ("html", "why"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("one<br>two", 'Unsupported start tag "br" at byte offset 3'),
        ("<p>para</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", "bare '&' at byte offset 4"),
        ("a&nbsp;b", "bare '&' at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="https://x.id">link', 'Can\'t find end tag corresponding to start tag "a"'),
        ("<i>é</b>", 'Unmatched end tag at byte offset 5, expected "</i>", found "</b>"'),
    ],
)
async def test_malformed_or_unsupported_html_cannot_be_parsed(api: Api, html: str, why: str):
    status, description = await api.error(
        "sendMessage", chat_id=7, text=html, parse_mode="HTML"
    )
    assert status == 400
    assert description.startswith("Bad Request: can't parse entities: ")
    assert why in description


@pytest.mark.parametrize(
    "html",
    [
        "<b>a</b> <strong>b</strong> <i>c</i> <em>d</em> <u>e</u> <ins>f</ins>",
        "<s>a</s> <strike>b</strike> <del>c</del> <code>x &lt; y</code>",
        '<pre><code class="language-python">print(1 &gt; 0)</code></pre>',
        '<a href="https://example.id/?a=1&amp;b=2">link</a> and a > b',
        '<tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t</span>',
        "<blockquote>q</blockquote> <blockquote expandable>long</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &#128512; &#x1F600; &quot;',
        "<b>bold <i>and italic</i></b>",
    ],
)
async def test_supported_html_is_accepted(api: Api, html: str):
    await api.ok("sendMessage", chat_id=7, text=html, parse_mode="HTML")


def test_html_entities_have_telegram_offsets():
    text, entities = parse_html('😀 <b>Rp350.000</b> <a href="https://x.id">peta</a>')
    assert text == "😀 Rp350.000 peta"
    # The emoji is two UTF-16 units, so "Rp350.000" starts at 3.
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.id"},
    ]
    with pytest.raises(EntityParseError):
        parse_html("<b><i>x</b></i>")
    code = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert code == ("x = 1", [{"type": "pre", "offset": 0, "length": 5, "language": "python"}])


async def test_plain_text_is_not_parsed_without_parse_mode(api: Api):
    sent = await api.ok("sendMessage", chat_id=7, text="1 < 2 & <b>")
    assert sent["text"] == "1 < 2 & <b>"


async def test_unsupported_parse_mode(api: Api):
    assert await api.error("sendMessage", chat_id=7, text="x", parse_mode="BBCode") == (
        400,
        "Bad Request: unsupported parse_mode",
    )


# --- chats, users, blocking -------------------------------------------------------------------


async def test_unknown_chat_is_chat_not_found(api: Api):
    assert await api.error("sendMessage", chat_id=424242, text="hi") == (
        400,
        "Bad Request: chat not found",
    )
    assert await api.error("sendVenue", chat_id=-100999, latitude=1, longitude=1,
                           title="t", address="a") == (400, "Bad Request: chat not found")


async def test_blocked_user_is_403(api: Api):
    await api.ok("sendMessage", chat_id=7, text="before")
    api.emulator.block(7)
    assert await api.error("sendMessage", chat_id=7, text="after") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert await api.error("sendChatAction", chat_id=7, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    # The bot hears of it the way Telegram tells it: a my_chat_member update.
    updates = await api.ok("getUpdates")
    change = updates[-1]["my_chat_member"]
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == (
        "member",
        "kicked",
    )
    api.emulator.block(7, False)
    await api.ok("sendMessage", chat_id=7, text="again")


async def test_bot_removed_from_a_group_is_403(api: Api):
    api.emulator.add_group(-100777, "Officers")
    api.emulator.add_group(-777, "Small office")
    await api.ok("sendMessage", chat_id=-100777, text="hello officers")
    api.emulator.kick_bot(-100777)
    api.emulator.kick_bot(-777)
    assert await api.error("sendMessage", chat_id=-100777, text="still there?") == (
        403,
        "Forbidden: bot was kicked from the supergroup chat",
    )
    assert await api.error("sendMessage", chat_id=-777, text="x") == (
        403,
        "Forbidden: bot was kicked from the group chat",
    )
    left = (await api.ok("getUpdates"))[-1]["my_chat_member"]
    assert left["new_chat_member"]["status"] == "left"


async def test_bot_cannot_write_first(api: Api):
    api.emulator.add_user(8, "Budi")
    assert await api.error("sendMessage", chat_id=8, text="hello") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    api.emulator.send_text(8, "halo")
    await api.ok("sendMessage", chat_id=8, text="hello")


# --- flood limits -------------------------------------------------------------------------------


async def test_flood_limits_answer_429_with_retry_after():
    clock = FakeClock()
    emulator = Emulator(TOKEN, flood_limits=True, clock=clock)
    emulator.add_user(7, "Sari")
    emulator.send_text(7, "/start")
    emulator.add_group(-100123, "Officers")
    async for api in _api(emulator):
        # A private chat allows a short burst, then about one message a second.
        for _ in range(4):
            await api.ok("sendMessage", chat_id=7, text="burst")
        status, body = await api("sendMessage", chat_id=7, text="one too many")
        assert (status, body["description"]) == (429, "Too Many Requests: retry after 1")
        assert body["parameters"] == {"retry_after": 1}
        clock.now += 1
        await api.ok("sendMessage", chat_id=7, text="after waiting")
        # A group: 20 a minute.
        for _ in range(20):
            await api.ok("sendMessage", chat_id=-100123, text="post")
        status, body = await api("sendMessage", chat_id=-100123, text="post")
        assert status == 429 and body["parameters"]["retry_after"] == 3
        # The bot as a whole: 30 a second across chats.
        clock.now += 60
        for user_id in range(100, 130):
            emulator.add_user(user_id, "U")
            emulator.send_text(user_id, "hi")
            await api.ok("sendMessage", chat_id=user_id, text="broadcast")
        emulator.add_user(130, "U")
        emulator.send_text(130, "hi")
        status, body = await api("sendMessage", chat_id=130, text="broadcast")
        assert status == 429 and body["parameters"]["retry_after"] == 1


async def test_flood_limits_are_off_by_default(api: Api):
    for _ in range(40):
        await api.ok("sendMessage", chat_id=7, text="fast")


# --- getUpdates ---------------------------------------------------------------------------------


async def test_get_updates_offset_confirms_earlier_updates(api: Api):
    api.emulator.send_text(7, "two")
    api.emulator.send_text(7, "three")
    first = await api.ok("getUpdates")
    assert [u["message"]["text"] for u in first] == ["/start", "two", "three"]
    ids = [u["update_id"] for u in first]
    assert ids == sorted(ids) and len(set(ids)) == 3
    # Without an offset nothing is confirmed: the same updates come again.
    assert await api.ok("getUpdates") == first
    assert [u["update_id"] for u in await api.ok("getUpdates", limit=1)] == ids[:1]
    # offset = last seen + 1 confirms everything before it, for good.
    assert [u["update_id"] for u in await api.ok("getUpdates", offset=ids[1])] == ids[1:]
    assert [u["update_id"] for u in await api.ok("getUpdates")] == ids[1:]
    assert await api.ok("getUpdates", offset=ids[2] + 1) == []
    assert await api.ok("getUpdates") == []


async def test_get_updates_negative_offset_keeps_the_last_ones(api: Api):
    api.emulator.send_text(7, "two")
    api.emulator.send_text(7, "three")
    last = await api.ok("getUpdates", offset=-1)
    assert [u["message"]["text"] for u in last] == ["three"]


async def test_get_updates_long_polls_until_an_update_arrives(api: Api):
    await api.ok("getUpdates", offset=(await api.ok("getUpdates"))[-1]["update_id"] + 1)
    waiting = asyncio.create_task(api.ok("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    api.emulator.send_text(7, "arrives while waiting")
    updates = await asyncio.wait_for(waiting, 5)
    assert [u["message"]["text"] for u in updates] == ["arrives while waiting"]


async def test_a_second_get_updates_ends_the_first_with_a_conflict(api: Api):
    await api.ok("getUpdates", offset=(await api.ok("getUpdates"))[-1]["update_id"] + 1)
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(api("getUpdates", timeout=5))
    status, body = await asyncio.wait_for(first, 5)
    assert status == 409 and body["description"].startswith("Conflict: terminated by other")
    api.emulator.send_text(7, "x")
    status, body = await asyncio.wait_for(second, 5)
    assert status == 200 and body["result"][0]["message"]["text"] == "x"


async def test_commands_get_a_bot_command_entity(api: Api):
    api.emulator.send_text(7, "/lacak MPP-2026-000123")
    message = (await api.ok("getUpdates"))[-1]["message"]
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


# --- webhook ------------------------------------------------------------------------------------


async def test_webhook_receives_updates_with_the_secret_token(api: Api):
    received: list[tuple[dict, str | None]] = []
    fail_first = [True]

    async def hook(request: Request) -> Response:
        if fail_first[0]:
            fail_first[0] = False
            return Response(status_code=500)
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return Response("ok")

    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
                       host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        await api.ok("getUpdates", offset=(await api.ok("getUpdates"))[-1]["update_id"] + 1)
        assert await api.error("setWebhook", url="ftp://x", secret_token="s3cret") == (
            400,
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        )
        await api.ok("setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        status, description = await api.error("getUpdates")
        assert status == 409 and "webhook is active" in description
        api.emulator.send_text(7, "via webhook")
        # The first delivery fails (500): Telegram records the error and retries.
        await api.emulator.wait_for(lambda: received, 5)
        assert [(u["message"]["text"], secret) for u, secret in received] == [
            ("via webhook", "s3cret")
        ]
        info = await api.ok("getWebhookInfo")
        assert info["url"] == f"http://127.0.0.1:{port}/hook"
        assert info["pending_update_count"] == 0
        assert info["last_error_message"] == "Wrong response from the webhook: 500"
        await api.ok("deleteWebhook")
        assert (await api.ok("getWebhookInfo"))["url"] == ""
        api.emulator.send_text(7, "via polling")
        assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["via polling"]
    finally:
        server.should_exit = True
        await task


async def test_a_webhook_answer_runs_the_method_it_names(api: Api):
    """Telegram's "reply to a webhook with a method": run, its outcome never told."""
    emulator = api.emulator
    emulator.add_user(8, "Citizen")
    emulator.send_text(8, "/start")
    await emulator.webhook_answer(b'{"method": "sendMessage", "chat_id": 8, "text": "<b>hi</b>",'
                                  b' "parse_mode": "HTML"}')
    await emulator.webhook_answer(b"method=sendMessage&chat_id=8&text=form",
                                  "application/x-www-form-urlencoded")
    assert [m["text"] for m in emulator.bot_messages(8)] == ["hi", "form"]
    errors = len(emulator.errors)
    # Not a method, or one Telegram refuses: nothing happens, nothing is raised.
    for body in (b"ok", b'{"ok": true}', b"[1]", b'{"method": 5}', b"\xff"):
        await emulator.webhook_answer(body)
    await emulator.webhook_answer(b'{"method": "sendMessage", "chat_id": 8, "text": "<b>x"}'
                                  .replace(b'"text"', b'"parse_mode": "HTML", "text"'))
    assert [m["text"] for m in emulator.bot_messages(8)] == ["hi", "form"]
    assert len(emulator.errors) == errors + 1  # kept for diagnostics only


def _no_signals() -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()  # the test process keeps its own signal handlers


# --- editing, deleting, callback queries -----------------------------------------------------


async def test_edits_follow_telegram(api: Api):
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await api.ok("sendMessage", chat_id=7, text="<b>v1</b>", parse_mode="HTML",
                        reply_markup=markup)
    mid = sent["message_id"]
    _, description = await api.error(
        "editMessageText", chat_id=7, message_id=mid, text="<b>v1</b>", parse_mode="HTML",
        reply_markup=markup,
    )
    assert description.startswith("Bad Request: message is not modified")
    # An edit without reply_markup drops the keyboard.
    edited = await api.ok("editMessageText", chat_id=7, message_id=mid, text="v2")
    assert edited["text"] == "v2" and "reply_markup" not in edited and "edit_date" in edited
    again = await api.ok("editMessageReplyMarkup", chat_id=7, message_id=mid, reply_markup=markup)
    assert again["reply_markup"] == markup
    assert await api.error("editMessageText", chat_id=7, message_id=999, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    user_message = api.emulator.send_text(7, "mine")
    assert await api.error(
        "editMessageText", chat_id=7, message_id=user_message["message_id"], text="x"
    ) == (400, "Bad Request: message can't be edited")
    assert await api.ok("deleteMessage", chat_id=7, message_id=mid) is True
    assert await api.error("deleteMessage", chat_id=7, message_id=mid) == (
        400,
        "Bad Request: message to delete not found",
    )


async def test_callback_query_is_answered_once(api: Api):
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await api.ok("sendMessage", chat_id=7, text="pick", reply_markup=markup)
    with pytest.raises(ValueError):
        api.emulator.click(7, 7, sent["message_id"], "not-on-the-message")
    query_id = api.emulator.click(7, 7, sent["message_id"], "a")
    update = (await api.ok("getUpdates"))[-1]["callback_query"]
    assert (update["id"], update["data"], update["message"]["message_id"]) == (
        query_id,
        "a",
        sent["message_id"],
    )
    await api.ok("answerCallbackQuery", callback_query_id=query_id, text="Done", show_alert=True)
    assert api.emulator.callback_answer(query_id) == {
        "text": "Done",
        "show_alert": True,
        "url": None,
        "cache_time": 0,
    }
    _, description = await api.error("answerCallbackQuery", callback_query_id=query_id)
    assert description.startswith("Bad Request: query is too old")


# --- venues, files, actions, commands -----------------------------------------------------------


async def test_venue_and_location(api: Api):
    venue = await api.ok("sendVenue", chat_id=7, latitude=-6.2, longitude=106.8,
                         title="MPP", address="Jl. Merdeka 1")
    assert venue["venue"]["title"] == "MPP"
    assert venue["location"] == {"latitude": -6.2, "longitude": 106.8}
    assert await api.error("sendLocation", chat_id=7, latitude=91, longitude=0) == (
        400,
        "Bad Request: wrong latitude",
    )
    assert await api.error("sendVenue", chat_id=7, latitude=1, longitude=1, title="",
                           address="a") == (400, "Bad Request: venue title is empty")


async def test_uploaded_files_round_trip(api: Api):
    url = f"{api.server.api_url}{TOKEN}/sendDocument"
    response = await api.client.post(
        url,
        data={"chat_id": "7", "caption": "<b>Rekap</b>", "parse_mode": "HTML"},
        files={"document": ("rekap.csv", b"a,b\n1,2\n", "text/csv")},
    )
    sent = response.json()["result"]
    assert sent["document"]["file_name"] == "rekap.csv"
    assert sent["caption"] == "Rekap"
    file_id = sent["document"]["file_id"]
    # The same file again by file_id, and not as a photo.
    await api.ok("sendDocument", chat_id=7, document=file_id)
    _, description = await api.error("sendPhoto", chat_id=7, photo=file_id)
    assert description == "Bad Request: can't use file of type Document as Photo"
    assert await api.error("sendPhoto", chat_id=7, photo="nonsense") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    # What a user sent can be fetched by the bot: getFile, then the file URL.
    photo = api.emulator.send_photo(7, PNG_1PX, caption="KTP")["photo"][-1]
    assert (photo["width"], photo["height"]) == (1, 1)
    info = await api.ok("getFile", file_id=photo["file_id"])
    download = await api.client.get(
        f"{api.server.base_url}/file/bot{TOKEN}/{info['file_path']}"
    )
    assert download.content == PNG_1PX
    assert await api.error("getFile", file_id="nope") == (400, "Bad Request: invalid file_id")


async def test_chat_action(api: Api):
    assert await api.ok("sendChatAction", chat_id=7, action="typing") is True
    assert api.emulator.chat_actions == [(7, "typing")]
    assert await api.error("sendChatAction", chat_id=7, action="dancing") == (
        400,
        "Bad Request: wrong parameter action in request",
    )


async def test_commands_per_scope_and_language(api: Api):
    id_commands = [{"command": "layanan", "description": "Daftar layanan"}]
    en_commands = [{"command": "services", "description": "Browse services"}]
    await api.ok("setMyCommands", commands=id_commands)
    await api(
        "setMyCommands", form=True, commands=en_commands, language_code="en",
        scope={"type": "default"},
    )
    assert await api.ok("getMyCommands") == id_commands
    assert await api.ok("getMyCommands", language_code="en") == en_commands
    api.emulator.add_user(9, "John", "en")
    assert api.emulator.commands_for(9) == en_commands
    assert api.emulator.commands_for(7) == id_commands  # "id" has none of its own: default
    assert await api.error("setMyCommands", commands=[{"command": "Bad-Name",
                                                       "description": "x"}]) == (
        400,
        "Bad Request: BOT_COMMAND_INVALID",
    )
    await api.ok("deleteMyCommands", language_code="en")
    assert await api.ok("getMyCommands", language_code="en") == []


async def test_a_chat_scope_overrides_the_default_menu_until_deleted(api: Api):
    """What the staff menus rely on (bot/people/menus.py): a chat's own commands, read back
    with getMyCommands for that scope, shown to that chat only, gone with deleteMyCommands."""
    default = [{"command": "layanan", "description": "Daftar layanan"}]
    staff = [{"command": "register", "description": "Catat berkas"}] + default
    api.emulator.add_user(11, "Budi", "id")
    api.emulator.add_user(12, "Sari", "id")
    scope = {"type": "chat", "chat_id": 11}
    await api.ok("setMyCommands", commands=default)
    await api("setMyCommands", form=True, commands=staff, scope=scope, chat_id=11)
    assert await api.ok("getMyCommands", scope=scope) == staff
    assert api.emulator.commands_for(11) == staff
    assert api.emulator.commands_for(12) == default
    unknown = {"type": "chat", "chat_id": 99}
    assert await api.error("setMyCommands", commands=staff, scope=unknown) == (
        400, "Bad Request: chat not found")
    await api.ok("deleteMyCommands", scope=scope)
    assert await api.ok("getMyCommands", scope=scope) == []
    assert api.emulator.commands_for(11) == default


async def test_form_encoded_requests_like_python_telegram_bot(api: Api):
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = await api(
        "sendMessage", form=True, chat_id=7, text="<i>hi</i>", parse_mode="HTML",
        reply_markup=markup, disable_notification=True,
    )
    assert status == 200
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 2}]
    status, body = await api("sendMessage", form=True, chat_id=7, text="x", reply_markup="{")
    assert (status, body["description"]) == (
        400,
        "Bad Request: can't parse reply keyboard markup JSON object",
    )


# --- the user-side HTTP API (what the web chat uses) ----------------------------------------


async def test_user_api_over_http(api: Api):
    base = f"{api.server.base_url}/_emulator"
    created = await api.client.post(
        f"{base}/users", json={"id": 55, "first_name": "Dewi", "language_code": "en"}
    )
    assert created.json()["user"]["language_code"] == "en"
    sent = await api.client.post(f"{base}/users/55/messages", json={"text": "/start"})
    assert sent.json()["message"]["entities"][0]["type"] == "bot_command"
    first = (await api.client.get(f"{base}/users/55/messages")).json()
    assert [e["kind"] for e in first["events"]] == ["user"]
    # Long poll: waits for the bot's reply after the last seen event.
    poll = asyncio.create_task(
        api.client.get(f"{base}/users/55/messages", params={"after": first["last"], "timeout": 5})
    )
    await asyncio.sleep(0.05)
    assert not poll.done()
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    reply = await api.ok("sendMessage", chat_id=55, text="Welcome", reply_markup=markup)
    events = (await asyncio.wait_for(poll, 5)).json()["events"]
    assert [(e["kind"], e["message"]["text"]) for e in events] == [("bot", "Welcome")]
    assert events[0]["reply_markup"] == markup
    clicked = await api.client.post(
        f"{base}/users/55/click", json={"message_id": reply["message_id"], "data": "ok"}
    )
    query_id = clicked.json()["callback_query_id"]
    await api.ok("answerCallbackQuery", callback_query_id=query_id, text="Noted")
    answer = await api.client.get(f"{base}/callback_answers/{query_id}")
    assert answer.json()["answer"]["text"] == "Noted"
    bad = await api.client.post(
        f"{base}/users/55/click", json={"message_id": reply["message_id"], "data": "forged"}
    )
    assert bad.status_code == 400


# --- python-telegram-bot reads what the emulator says ----------------------------------------


async def test_python_telegram_bot_understands_every_update_and_file():
    from telegram import Bot, Update

    emulator = Emulator(TOKEN)
    emulator.add_user(7, "Sari", "id")
    emulator.add_group(-100555, "Officers")
    async with EmulatorServer(emulator) as server:
        bot = Bot(
            TOKEN,
            base_url=server.api_url,
            base_file_url=server.api_url.replace("/bot", "/file/bot", 1),
        )
        async with bot:
            emulator.send_text(7, "/lacak MPP-1")
            emulator.send_location(7, -6.2, 106.8)
            emulator.send_contact(7, "+628123456789")
            emulator.send_photo(7, PNG_1PX, caption="KTP")
            emulator.send_document(7, "data.csv", b"a,b\n", "text/csv")
            emulator.send_text(7, "halo grup", chat_id=-100555)
            sent = await bot.send_message(
                7, "pick", reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
            )
            emulator.click(7, 7, sent.message_id, "a")
            emulator.block(7)
            updates: list[Update] = await bot.get_updates()
            assert updates[0].message.text == "/lacak MPP-1"
            assert updates[0].message.entities[0].type == "bot_command"
            assert updates[1].message.location.latitude == -6.2
            assert updates[2].message.contact.user_id == 7
            photo = updates[3].message.photo[-1]
            assert updates[3].message.caption == "KTP"
            assert bytes(await (await photo.get_file()).download_as_bytearray()) == PNG_1PX
            document = updates[4].message.document
            assert (document.file_name, document.mime_type) == ("data.csv", "text/csv")
            assert bytes(await (await document.get_file()).download_as_bytearray()) == b"a,b\n"
            assert updates[5].effective_chat.type == "supergroup"
            assert updates[6].callback_query.data == "a"
            assert updates[6].callback_query.message.message_id == sent.message_id
            assert updates[7].my_chat_member.new_chat_member.status == "kicked"
            # Writing again means pressing Restart: the bot is unblocked first.
            emulator.send_text(7, "/start")
            later = await bot.get_updates(offset=updates[-1].update_id + 1)
            assert later[0].my_chat_member.new_chat_member.status == "member"
            assert later[1].message.text == "/start"
            await bot.send_message(7, "welcome back")


async def test_forward_copy_and_caption_edit(api: Api):
    api.emulator.add_group(-100300, "Officers")
    photo = api.emulator.send_photo(7, PNG_1PX, caption="jalan rusak")
    forwarded = await api.ok(
        "forwardMessage", chat_id=-100300, from_chat_id=7, message_id=photo["message_id"]
    )
    assert forwarded["forward_origin"]["sender_user"]["id"] == 7
    assert forwarded["photo"] == photo["photo"] and forwarded["caption"] == "jalan rusak"
    copied = await api.ok(
        "copyMessage", chat_id=-100300, from_chat_id=7, message_id=photo["message_id"],
        caption="<b>Aduan #12</b>", parse_mode="HTML",
    )
    stored = api.emulator.messages[-100300][copied["message_id"]]
    assert stored["caption"] == "Aduan #12" and "forward_origin" not in stored
    edited = await api.ok(
        "editMessageCaption", chat_id=-100300, message_id=copied["message_id"], caption="Selesai"
    )
    assert edited["caption"] == "Selesai"
    assert await api.error("copyMessage", chat_id=-100300, from_chat_id=7, message_id=999) == (
        400,
        "Bad Request: message to copy not found",
    )


async def test_profile_texts_and_menu_button(api: Api):
    await api.ok("setMyDescription", description="Asisten MPP", language_code="id")
    assert await api.ok("getMyDescription", language_code="id") == {"description": "Asisten MPP"}
    assert await api.ok("getMyDescription") == {"description": ""}
    assert await api.error("setMyShortDescription", short_description="x" * 121) == (
        400,
        "Bad Request: short description is too long",
    )
    await api.ok("setChatMenuButton", menu_button={"type": "commands"})
    assert await api.ok("getChatMenuButton") == {"type": "commands"}


async def test_unanswered_clicks_are_reported(api: Api):
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await api.ok("sendMessage", chat_id=7, text="pick", reply_markup=markup)
    query_id = api.emulator.click(7, 7, sent["message_id"], "a")
    assert api.emulator.unanswered_queries() == []  # not fetched yet: nobody could answer
    updates = await api.ok("getUpdates")
    await api.ok("getUpdates", offset=updates[-1]["update_id"] + 1)  # fetched and confirmed
    assert [q["id"] for q in api.emulator.unanswered_queries()] == [query_id]
    await api.ok("answerCallbackQuery", callback_query_id=query_id)
    assert api.emulator.unanswered_queries() == []


async def test_user_api_media_groups_and_menus(api: Api):
    import base64

    base = f"{api.server.base_url}/_emulator"
    photo = await api.client.post(
        f"{base}/users/7/messages",
        json={"photo": base64.b64encode(PNG_1PX).decode(), "caption": "KTP"},
    )
    file_id = photo.json()["message"]["photo"][-1]["file_id"]
    assert (await api.client.get(f"{base}/files/{file_id}")).content == PNG_1PX
    document = await api.client.post(
        f"{base}/users/7/messages",
        json={"document": {"file_name": "a.csv", "data": base64.b64encode(b"x").decode(),
                           "mime_type": "text/csv"}},
    )
    doc_id = document.json()["message"]["document"]["file_id"]
    fetched = await api.client.get(f"{base}/files/{doc_id}")
    assert fetched.headers["content-disposition"] == "inline; filename*=UTF-8''a.csv"
    location = await api.client.post(
        f"{base}/users/7/messages", json={"location": {"latitude": -6.2, "longitude": 106.8}}
    )
    assert location.json()["message"]["location"]["latitude"] == -6.2
    bad = await api.client.post(f"{base}/users/7/messages", json={"sticker": "x"})
    assert bad.status_code == 400
    # A group, written to as a user, read back as events.
    await api.client.post(f"{base}/groups", json={"id": -100900, "title": "Officers"})
    await api.client.post(f"{base}/chats/-100900/messages?user_id=7", json={"text": "halo"})
    events = (await api.client.get(f"{base}/chats/-100900/messages")).json()["events"]
    assert [(e["kind"], e["message"]["from"]["id"]) for e in events] == [("user", 7)]
    chats = (await api.client.get(f"{base}/chats")).json()["chats"]
    assert {c["id"] for c in chats} == {7, -100900}
    assert (await api.client.get(f"{base}/bot")).json()["bot"]["username"]
    await api.ok("setMyCommands", commands=[{"command": "start", "description": "Mulai"}])
    menu = (await api.client.get(f"{base}/users/7/commands")).json()["commands"]
    assert menu == [{"command": "start", "description": "Mulai"}]
    await api.client.post(f"{base}/users/7/block", json={"blocked": True})
    assert api.emulator.blocked == {7}
