"""The agent console in headless Chromium: Tom's $2,500 dispute from escalation to hand-back."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.billing import lookup
from bot.billing.handoffs import list_handoffs, update_handoff
from tests.servers import Stack
from tests.web.conftest import screenshot

pytestmark = pytest.mark.servers
WAIT = 60


def wait(driver: WebDriver, condition, what: str):
    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.2).until(condition)
    except Exception:
        screenshot(driver, "failure-console-" + what.replace(" ", "-"))
        raise AssertionError(f"timed out waiting for {what}")


def texts(replies) -> str:
    return " ".join(r.get("text", "") for r in replies)


def outbox(stack: Stack, sender: str) -> str:
    return texts(requests.get(stack.base_url + "/webhooks/rest/outbox", params={"sender": sender}, timeout=30).json())


@pytest.mark.parametrize("path", ["/console", "/console/console.js", "/console/console.css", "/console/index.html"])
def test_anonymous_requests_to_console_routes_are_refused(stack: Stack, path: str) -> None:
    resp = requests.get(stack.agent_url + path, allow_redirects=False, timeout=30)
    assert resp.status_code in (302, 401, 404)
    assert "Agent console —" not in resp.text or resp.status_code == 302
    if path == "/console":
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/console/login")


def test_agent_takes_toms_dispute_in_the_console(stack: Stack, browser: WebDriver) -> None:
    # Only this conversation waits (earlier tests leave handoffs behind in the shared database).
    for old in list_handoffs(status="open", limit=500, database_url=stack.database_url):
        update_handoff(old.reference, status="cancelled", database_url=stack.database_url)
    me = "tom-console-" + uuid.uuid4().hex[:6]
    for message in ("I'm disputing the $2,500 equipment charge on my bill", "ACC-1004", "73301"):
        stack.say(me, message)
    (handoff,) = list_handoffs(conversation_id=me, database_url=stack.database_url)

    browser.get(stack.agent_url + "/console")
    wait(browser, lambda d: d.current_url.endswith("/console/login"), "redirect to sign-in")
    browser.find_element(By.ID, "username").send_keys("alex")
    browser.find_element(By.ID, "password").send_keys(stack.agent_password)
    browser.find_element(By.ID, "signin").click()
    wait(browser, lambda d: d.find_element(By.ID, "me").text == "Alex Morgan", "console")
    first = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#queue li.card"), "queue")[0]
    assert first.get_attribute("data-ref") == handoff.reference and "Tom Becker" in first.text
    screenshot(browser, "console-1-queue")
    first.click()
    wait(browser, lambda d: handoff.reference in d.find_element(By.ID, "d-title").text, "detail")
    browser.find_element(By.ID, "claim").click()
    wait(browser, lambda d: d.find_element(By.ID, "reply-form").is_displayed(), "claimed")
    assert "Tom Becker" in browser.find_element(By.ID, "d-customer").text
    assert "INV-0455" in browser.find_element(By.ID, "d-invoices").text
    assert browser.find_element(By.ID, "d-next").text
    assert "$2,500" in browser.find_element(By.ID, "transcript").text

    browser.find_element(By.ID, "reply").send_keys("Hi Tom, I'm Alex from billing — looking at it now.")
    browser.find_element(By.CSS_SELECTOR, "#reply-form button").click()
    wait(browser, lambda d: "looking at it now" in d.find_element(By.ID, "transcript").text, "reply in transcript")
    assert "looking at it now" in outbox(stack, me)

    # The customer writes while the agent has the conversation: it appears live in the console.
    assert stack.say(me, "thank you, it was returned in March") == []
    wait(browser, lambda d: "returned in March" in d.find_element(By.ID, "transcript").text, "live customer message")

    Select(browser.find_element(By.ID, "c-kind")).select_by_value("credit_note")
    browser.find_element(By.ID, "c-invoice").send_keys("INV-0455")
    browser.find_element(By.ID, "c-amount").send_keys("2500.00")
    browser.find_element(By.ID, "c-reason").send_keys("Equipment returned; charge upheld in the customer's favour")
    browser.find_element(By.CSS_SELECTOR, "#correction-form button").click()
    wait(browser, lambda d: "REF-" in d.find_element(By.ID, "c-result").text, "correction reference")
    screenshot(browser, "console-2-corrected")
    credits = [c for c in lookup.list_corrections("ACC-1004", database_url=stack.database_url)
               if c.kind == "credit_note" and c.amount == Decimal("2500.00")]
    assert len(credits) == 1

    browser.find_element(By.ID, "handback").send_keys("I've credited the $2,500.00 equipment charge.")
    browser.find_element(By.CSS_SELECTOR, "#handback-form button").click()
    wait(browser, lambda d: "handed_back" in d.find_element(By.ID, "d-status").text, "handed back")
    screenshot(browser, "console-3-handed-back")
    assert "credited the $2,500.00" in outbox(stack, me)
    assert "bot, not a person" in texts(stack.say(me, "am I talking to a bot?"))
