"""The dashboard in a real browser (the system's chromium) against a mock on a real socket.

Each test clicks through one part of the story a user would: find a call, start one, map a
variable, move the clock, end it, watch a client's requests, break the API with a fault,
add and launch a target. Waits are on what the page shows, never on time.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from prosper_mock import MockServer, VirtualClock, World, WorldRecipe
from tests.rawhttp import request as raw_request

# One browser per module (Playwright's sync API holds an event loop while it runs, which
# other tests in the same worker must not inherit); the group keeps them on one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
START = "2026-01-15T15:00:00+00:00"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():  # CI must run these: a missing browser fails, never skips
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install -y chromium); the browser tests drive it"
        )
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
    yield launched
    launched.close()


@pytest.fixture
def mock() -> Iterator[MockServer]:
    recipe = WorldRecipe(seed=6, live_calls=4, call_logs=12)
    world = World.generate(recipe, clock=VirtualClock(START))
    with MockServer(world) as server:
        yield server


@pytest.fixture
def page(browser: Browser, mock: MockServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    problems: list[str] = []

    def noted(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    opened.on("console", noted)
    opened.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    opened.goto(mock.url("/__mock"))
    expect(opened.locator("body")).to_have_attribute("data-ready", "1")
    yield opened
    context.close()
    assert problems == []


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def search(page: Page, query: str) -> None:
    page.get_by_label("Find a call").fill(query)
    page.get_by_role("button", name="Find", exact=True).click()


def test_a_seeded_call_is_found_by_its_phone(page: Page, mock: MockServer) -> None:
    seeded = max(mock.world.live_calls, key=lambda c: (c.started_at, c.call_log_id))
    expect(page.locator("#count-live")).to_have_text("4")
    expect(page.locator("#clock-mode")).to_have_text("virtual")
    expect(page.locator("#clock-now")).to_have_text("2026-01-15 15:00:00 UTC")
    search(page, seeded.user_phone_number)
    result = page.locator("#search-result")
    expect(result).to_have_attribute("data-found", str(seeded.call_log_id))
    expect(result).to_contain_text("user_phone_number=%2B")  # the vendored lookup itself
    snapshot = page.locator("#snapshot-table")
    expect(snapshot).to_contain_text(seeded.user_phone_number)
    expect(page.locator("#transcript li").first).to_be_visible()
    expect(page.locator("#flow-step")).to_contain_text("step")


def test_a_call_started_mapped_and_ended_on_the_clock(page: Page, mock: MockServer) -> None:
    page.get_by_label("Phone", exact=True).first.fill("+15550004444")
    page.get_by_role("button", name="Start a call").click()
    expect(page.locator("#status")).to_contain_text("Started call")
    cid = int(re.findall(r"\d+", page.locator("#status").inner_text())[0])
    first_live = page.locator("#live-table tbody tr").first
    expect(first_live).to_have_attribute("data-id", str(cid))
    expect(first_live).to_contain_text("+15550004444")
    page.get_by_label("Variable").fill("ticket")
    page.get_by_label("Value (JSON or text)").fill("T-123")
    page.get_by_role("button", name="Map variable").click()
    expect(page.locator("#snapshot-table")).to_contain_text("variables.ticket")
    search(page, "ticket=T-123")
    expect(page.locator("#search-result")).to_have_attribute("data-found", str(cid))
    page.get_by_label("Seconds").fill("120")
    page.get_by_role("button", name="Advance clock").click()
    expect(page.locator("#clock-now")).to_have_text("2026-01-15 15:02:00 UTC")
    page.get_by_role("button", name="End call").click()
    first_log = page.locator("#logs-table tbody tr").first
    expect(first_log).to_have_attribute("data-id", str(cid))
    expect(first_log.locator("td.length")).to_have_text("0:02:00")
    expect(page.locator(f"#live-table tbody tr[data-id='{cid}']")).to_have_count(0)
    expect(page.locator("#call-title")).to_contain_text("call_logs")
    shot(page, "call-ended")


def test_changes_made_elsewhere_show_up_without_a_reload(page: Page, mock: MockServer) -> None:
    started = requests.post(
        mock.url("/__mock/live-calls"), json={"user_phone_number": "+15550007777"}, timeout=5
    ).json()
    row = page.locator(f"#live-table tbody tr[data-id='{started['call']['call_log_id']}']")
    expect(row).to_contain_text("+15550007777")
    expect(page.locator("#count-live")).to_have_text("5")


def test_a_clients_requests_arrive_in_the_journal(page: Page, mock: MockServer) -> None:
    requests.get(mock.url("/api/v1/live-calls?call_log_id=1012"), timeout=5)
    requests.get(mock.url("/api/v1/live-calls?call_log_id=999999"), timeout=5)
    requests.get(mock.url("/api/v1/live-calls?call_log_id=abc"), timeout=5)
    journal = page.locator("#journal li")
    expect(journal).to_have_count(3)
    expect(journal.first).to_have_class(re.compile(r"\binvalid\b"))  # the 422, newest first
    expect(journal.nth(1)).to_have_class(re.compile(r"\bmiss\b"))
    shot(page, "journal")
    curl = journal.nth(1).locator("input.curl")
    expect(curl).to_have_value(f"curl -s '{mock.base_url}/api/v1/live-calls?call_log_id=999999'")
    page.locator("#journal-status").select_option("misses")
    expect(journal).to_have_count(1)
    page.locator("#journal-status").select_option("")
    page.get_by_label("Filter").fill("1012")
    expect(journal).to_have_count(1)
    expect(journal.first).to_contain_text("200")


# Paths curl would change if it were given them plainly: escapes (an escaped `%`, `?`, a byte
# that is not UTF-8), globs ([] and {}), a dot segment, a quote the shell must keep.
AS_SENT = ["%25E9%E9", "a%3Fb", "x[1]{a,b}", "..", "it's"]


def test_an_entrys_curl_line_sends_the_same_request_again(page: Page, mock: MockServer) -> None:
    for segment in AS_SENT:
        raw_request("127.0.0.1", mock.port, f"/api/v1/call-logs/{segment}".encode())
    expect(page.locator("#journal li")).to_have_count(len(AS_SENT))
    sent = mock.state.journal.entries()
    lines = [c.input_value() for c in page.locator("#journal li input.curl").all()]
    for line in reversed(lines):  # newest first on the page
        subprocess.run(["bash", "-c", line], check=True, capture_output=True, timeout=10)
    again = mock.state.journal.entries()[len(sent) :]
    assert [(e.path, e.status) for e in again] == [(e.path, e.status) for e in sent]
    assert [e.path for e in sent] == [f"/api/v1/call-logs/{s}" for s in AS_SENT]


def test_a_fault_set_on_the_page_is_what_a_client_gets(page: Page, mock: MockServer) -> None:
    page.get_by_role("textbox", name="Faults", exact=True).fill("status=503;retry_after=1")
    page.get_by_role("button", name="Add fault rule").click()
    expect(page.locator("#fault-rules")).to_contain_text("status=503")
    r = requests.get(mock.url("/api/v1/live-calls?call_log_id=1012"), timeout=5)
    assert (r.status_code, r.headers["Retry-After"]) == (503, "1")
    expect(page.locator("#journal li.s503")).to_have_count(1)
    page.get_by_role("button", name="Clear faults").click()
    expect(page.locator("#fault-rules")).to_have_text("no fault rules")
    assert requests.get(mock.url("/api/v1/live-calls?call_log_id=1012"), timeout=5).ok


def test_stubs_are_listed_and_removed_and_an_entry_shows_its_request_and_answer(
    page: Page, mock: MockServer
) -> None:
    stub = {"method": "POST", "path": "/api/v1/campaigns/{campaign_id}/targets", "status": 503}
    stub_id = requests.post(mock.url("/__mock/stubs"), json=stub, timeout=5).json()["id"]
    listed = page.locator(f"#stubs li[data-id='{stub_id}']")
    expect(listed).to_contain_text("POST /api/v1/campaigns/{campaign_id}/targets → 503")
    sent = {"targets": [{"phone_number": "+15550001234"}]}
    r = requests.post(mock.url("/api/v1/campaigns/c-1/targets"), json=sent, timeout=5)
    assert r.status_code == 503
    entry = page.locator("#journal li.s503")
    expect(entry).to_have_count(1)
    expect(entry.locator("input.curl")).to_have_value(
        re.compile(r"-X POST -H 'Content-Type: application/json' .* --data-raw '\{\"targets\"")
    )
    entry.get_by_text(f"Request and answer (by stub {stub_id})").click()
    expect(entry.locator("pre").first).to_contain_text('"phone_number": "+15550001234"')
    expect(entry.locator("pre").nth(1)).to_be_visible()
    page.get_by_role("button", name=f"Remove stub {stub_id}").click()
    expect(page.locator("#stubs")).to_have_text("no stubs")
    assert requests.get(mock.url("/__mock/stubs"), timeout=5).json() == {"stubs": []}


def test_a_target_added_then_launched(page: Page, mock: MockServer) -> None:
    page.locator("#target-phone").fill("+15550002222")
    page.get_by_label("External id").fill("PAT-900")
    page.get_by_role("button", name="Add target").click()
    expect(page.locator("#status")).to_contain_text("Added target")
    row = page.locator("#targets-table tbody tr").first
    expect(row).to_contain_text("PAT-900")
    expect(row.locator("td.target-status")).to_have_text("Pending")
    row.get_by_role("button", name=re.compile("^Launch target")).click()
    expect(page.locator("#status")).to_contain_text("call")
    expect(row.locator("td.target-status")).to_have_text("In Progress")
    assert len([c for c in mock.world.live_calls if c.user_phone_number == "+15550002222"]) == 1


def test_a_narrow_window_stacks_without_scrolling_sideways(page: Page) -> None:
    page.set_viewport_size({"width": 400, "height": 800})
    expect(page.locator("#h-journal")).to_be_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    shot(page, "narrow")


def test_a_world_file_loaded_then_reset(page: Page, mock: MockServer) -> None:
    world_file = Path(__file__).resolve().parents[2] / "fixtures" / "world.json"
    page.get_by_label("World file").set_input_files(str(world_file))
    page.get_by_role("button", name="Load world").click()
    expect(page.locator("#status")).to_contain_text("Loaded world.json")
    loaded = mock.world.stats()
    expect(page.locator("#count-logs")).to_have_text(str(loaded["call_logs"]))
    mock.world.start_call({"user_phone_number": "+15550003333"})
    expect(page.locator("#count-live")).to_have_text(str(loaded["live_calls"] + 1))
    page.get_by_role("button", name="Reset the world").click()
    expect(page.locator("#count-live")).to_have_text(str(loaded["live_calls"]))


def test_a_world_loaded_by_a_client_brings_its_campaigns_without_an_error(
    page: Page, mock: MockServer
) -> None:
    world_file = Path(__file__).resolve().parents[2] / "fixtures" / "world.json"
    before = page.locator("#campaign").input_value()
    loaded = requests.put(
        mock.url("/__mock/world"),
        data=world_file.read_bytes(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert loaded.ok, loaded.text
    campaigns = requests.get(mock.url("/__mock/campaigns"), timeout=5).json()["campaigns"]
    assert before not in {c["id"] for c in campaigns}  # the old campaign is gone
    expect(page.locator("#campaign")).to_have_value(campaigns[0]["id"])
    expect(page.locator("#targets-table tbody tr").first).to_be_visible()
    expect(page.locator("#status")).not_to_have_class(re.compile(r"\bbad\b"))


def test_the_token_comes_from_the_fragment_and_never_reaches_the_server(browser: Browser) -> None:
    world = World.generate(WorldRecipe(live_calls=2, call_logs=2))
    with MockServer(world, control_token="s3cret-token") as server:
        context = browser.new_context()
        page = context.new_page()
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.url + " " + str(r.headers.get("authorization"))))
        page.goto(server.url("/__mock/#token=s3cret-token"))
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        expect(page.locator("#count-live")).to_have_text("2")
        assert "#" not in page.url  # taken out of the address bar
        controls = [s for s in sent if "/__mock/health" in s]
        assert controls and all(s.endswith(" Bearer s3cret-token") for s in controls)
        assert not [s for s in sent if "s3cret" in s.split(" ")[0]]  # never in a URL
        context.close()


LABELLED = """() => [...document.querySelectorAll('button, input, select, textarea')]
    .filter(e => e.type !== 'hidden')
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                 && !e.getAttribute('aria-labelledby')
                 && !(e.tagName === 'BUTTON' && e.textContent.trim()))
    .map(e => e.outerHTML.slice(0, 120))"""
# The page's own controls (rows' buttons come and go with the data), numbered in page order.
NUMBERED = """() => {
    const found = [...document.querySelectorAll('button, input, select, textarea')]
        .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
        .filter(e => !e.closest('table, #journal'));
    found.forEach((e, i) => { e.dataset.kbd = String(i); });
    return found.length;
}"""


def test_every_control_is_labelled_and_reached_with_the_keyboard(page: Page) -> None:
    assert page.evaluate(LABELLED) == []
    count = page.evaluate(NUMBERED)
    assert count >= 15
    reached = set()
    for _ in range(count * 3):  # rows' buttons and links sit between them
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.dataset.kbd || ''"))
    assert {str(i) for i in range(count)} <= reached


def test_at_800_px_the_snapshot_shows_values_not_a_column_of_letters(
    page: Page, mock: MockServer
) -> None:
    page.set_viewport_size({"width": 800, "height": 900})
    longest = max(mock.world.call_logs, key=lambda c: c.call_log_id)  # keys of 45 characters
    page.locator(f"#logs-table tbody tr[data-id='{longest.call_log_id}'] button").click()
    expect(page.locator("#snapshot-table")).to_contain_text("post_call_data.extracted")
    table = page.locator("#snapshot-table").bounding_box()
    values = page.eval_on_selector_all(
        "#snapshot-table td", "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert table is not None and len(values) > 30
    assert min(values) >= 0.5 * table["width"] >= 150, (min(values), table["width"])
    shot(page, "snapshot-800px")


def test_a_click_anywhere_on_a_call_row_shows_that_call(page: Page, mock: MockServer) -> None:
    live = page.locator("#live-table tbody tr").nth(1)
    call_id = live.get_attribute("data-id")
    live.locator("td").nth(1).click()  # the phone number, not the id's button
    expect(page.locator("#call-title")).to_have_text(f"{call_id} (live_calls)")
    expect(live).to_have_attribute("aria-current", "true")
    logged = page.locator("#logs-table tbody tr").first
    log_id = logged.get_attribute("data-id")
    logged.locator("button").focus()  # the keyboard's way: Tab to the id, then Enter
    page.keyboard.press("Enter")
    expect(page.locator("#call-title")).to_have_text(f"{log_id} (call_logs)")
    expect(logged).to_have_attribute("aria-current", "true")
    expect(live).not_to_have_attribute("aria-current", "true")


def test_journal_entries_on_a_virtual_clock_show_the_order_they_came_in(
    page: Page, mock: MockServer
) -> None:
    for call_log_id in (1012, 1013, 1014):
        requests.get(mock.url(f"/api/v1/live-calls?call_log_id={call_log_id}"), timeout=5)
        time.sleep(0.01)  # more than the millisecond the page shows
    journal = page.locator("#journal li")
    expect(journal).to_have_count(3)
    when = journal.locator(".when")
    texts = when.all_inner_texts()[::-1]  # the page lists the newest first
    walls = [float(w) for w in when.evaluate_all("s => s.map(e => e.dataset.wall)")][::-1]
    assert walls == sorted(walls) and len(set(walls)) == 3
    assert [t.split(" ")[0] for t in texts] == ["#1", "#2", "#3"]
    shown = [re.search(r"at (\S+ \S+) UTC", t).group(1) for t in texts]  # type: ignore[union-attr]
    assert shown == sorted(shown) and len(set(shown)) == 3  # to the millisecond
    assert all(t.endswith("(world clock 2026-01-15 15:00:00 UTC)") for t in texts)
    shot(page, "journal-virtual-clock")


def poll_delay_becomes(page: Page, ms: int, within: float) -> None:
    """Wait until the page's next poll is ``ms`` away (the page's CSP forbids
    wait_for_function's eval: this reads it with evaluate instead)."""
    deadline = time.monotonic() + within
    while page.evaluate("() => state.pollDelay") != ms:
        assert time.monotonic() < deadline, page.evaluate("() => state.pollDelay")
        time.sleep(0.1)


def test_a_quiet_mock_is_polled_less_often_until_something_changes(
    page: Page, mock: MockServer
) -> None:
    poll_delay_becomes(page, 4000, within=10)  # quiet: 1 s, then 2 s, then 4 s
    requests.get(mock.url("/api/v1/live-calls?call_log_id=1012"), timeout=5)
    expect(page.locator("#journal li")).to_have_count(1, timeout=10_000)
    poll_delay_becomes(page, 1000, within=5)


def test_a_campaigns_webhook_set_on_the_page_then_a_failed_one_sent_again(
    page: Page, mock: MockServer
) -> None:
    from prosper_mock.receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        receiver.answer(500, times=1)
        page.get_by_label("Webhook URL of this campaign").fill(receiver.url)
        page.get_by_role("button", name="Set webhook").click()
        expect(page.locator("#webhook-in-force")).to_contain_text(receiver.url)
        page.locator("#target-phone").fill("+15550003333")
        page.get_by_label("launch at once").check()
        page.get_by_role("button", name="Add target").click()
        expect(page.locator("#status")).to_contain_text("Added target")
        requests.post(mock.url("/__mock/clock/advance"), json={"seconds": 900}, timeout=5)
        row = page.locator("#webhooks-table tbody tr").first
        expect(row.locator("td.webhook-state")).to_have_text("failed")
        expect(row).to_contain_text("answered 500")
        expect(row).to_contain_text("1 of 3")
        row.get_by_role("button", name=re.compile("^Send webhook event")).click()
        expect(page.locator("#status")).to_contain_text("Sending again: 1 event(s)")
        expect(row.locator("td.webhook-state")).to_have_text("delivered")
        shot(page, "webhooks")
        assert [r.status for r in receiver.received] == [500, 200]
