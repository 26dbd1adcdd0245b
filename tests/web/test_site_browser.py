"""The demo site in headless Chromium: sign in, dispute Maria's double charge with buttons, get the reference."""
from __future__ import annotations

from decimal import Decimal
from typing import Callable, List

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from bot.billing import lookup
from tests.servers import Stack
from tests.web.conftest import screenshot

pytestmark = pytest.mark.servers
WAIT = 60


def bot_texts(driver: WebDriver) -> List[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#nw-messages li.bot")]


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], object], what: str):
    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.2).until(condition)
    except Exception:
        screenshot(driver, "failure-" + what.replace(" ", "-"))
        raise AssertionError(f"timed out waiting for {what}; bot said: {bot_texts(driver)}")


def wait_for_bot(driver: WebDriver, needle: str) -> None:
    wait_for(driver, lambda d: any(needle in t for t in bot_texts(d)), repr(needle))


def say(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "nw-input")
    box.send_keys(text)
    driver.find_element(By.CSS_SELECTOR, "#nw-send button").click()


def click_button(driver: WebDriver, label_part: str) -> None:
    def enabled(d: WebDriver):
        found = [b for b in d.find_elements(By.CSS_SELECTOR, "#nw-messages .nw-buttons button")
                 if label_part.lower() in b.text.lower() and b.is_enabled()]
        return found[-1] if found else False
    wait_for(driver, enabled, f"button {label_part}").click()


def test_signed_in_customer_disputes_the_double_charge_with_buttons(fresh_ledger: Stack, browser: WebDriver) -> None:
    stack = fresh_ledger
    browser.get(stack.agent_url + "/")
    assert "Northwind Broadband" in browser.title
    browser.find_element(By.NAME, "account_number").send_keys("ACC-1001")
    browser.find_element(By.NAME, "postal_code").send_keys("94110")
    browser.find_element(By.CSS_SELECTOR, "#nw-signin button").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "nw-name").text == "Maria Lopez", "signed in")
    browser.find_element(By.ID, "nw-chat-toggle").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "nw-chat").get_attribute("data-session"), "session")

    say(browser, "you charged me twice!!")
    assert browser.find_element(By.ID, "nw-typing").is_displayed() or bot_texts(browser)
    wait_for_bot(browser, "you're signed in")  # the login token verified her: no questions
    wait_for_bot(browser, "INV-0142")
    screenshot(browser, "site-1-offers")
    click_button(browser, "refund")
    wait_for_bot(browser, "To confirm")
    click_button(browser, "yes")
    wait_for_bot(browser, "REF-")
    screenshot(browser, "site-2-reference")
    refunds = [c for c in lookup.list_corrections("ACC-1001", database_url=stack.database_url) if c.kind == "refund"]
    assert len(refunds) == 1 and refunds[0].amount == Decimal("49.00")
    assert any(refunds[0].reference in t for t in bot_texts(browser))

    # A reload keeps the conversation (same session, same transcript).
    session = browser.find_element(By.ID, "nw-chat").get_attribute("data-session")
    shown = bot_texts(browser)
    browser.refresh()
    wait_for(browser, lambda d: d.find_element(By.ID, "nw-chat").get_attribute("data-session") == session,
             "same session after reload")
    assert bot_texts(browser) == shown
    screenshot(browser, "site-3-after-reload")


def test_anonymous_visitor_verifies_in_chat_on_a_phone_sized_screen(stack: Stack, browser: WebDriver) -> None:
    browser.set_window_size(375, 740)
    browser.get(stack.agent_url + "/")
    browser.find_element(By.ID, "nw-chat-toggle").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "nw-chat").get_attribute("data-session"), "session")
    say(browser, "is my bill overdue?")
    wait_for_bot(browser, "confirm it's you")
    panel = browser.find_element(By.CSS_SELECTOR, ".nw-chat-panel")
    assert panel.size["width"] <= 375 and panel.is_displayed()
    say(browser, "ACC-1003")
    wait_for_bot(browser, "email address or the postal code")
    say(browser, "60614")
    wait_for_bot(browser, "you're verified")
    screenshot(browser, "site-4-phone")


def test_links_in_bot_messages_are_clickable(stack: Stack, browser: WebDriver) -> None:
    browser.get(stack.agent_url + "/")
    browser.execute_script(
        "localStorage.setItem('nw.chat.history', JSON.stringify([{who:'bot', text:'See https://example.com/help'}]));")
    browser.refresh()
    link = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#nw-messages a"), "a link")[0]
    assert link.get_attribute("href") == "https://example.com/help"
