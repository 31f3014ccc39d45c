"""What the worker wrote reaches the supervisor: the alarm's "Anything to add" on the board, the
alert page, the timeline and the email; the risk note given at the start on the board and the
alert page (and in the email). Always escaped."""
import re

from lw_helpers import sign_in_client

SUPERVISOR = "supervisor@demo.example"
MESSAGE = 'Man with a <b>knife</b> & "shouting" in the back office'
MESSAGE_HTML = "Man with a &lt;b&gt;knife&lt;/b&gt; &amp; &#34;shouting&#34; in the back office"
NOTE = "Known risk at this address: <dog> & son's temper"
NOTE_HTML = "Known risk at this address: &lt;dog&gt; &amp; son&#39;s temper"


def _alarm_with_words(phone, sync_as):
    start = phone.start(note=NOTE)
    sync_as([start])
    sync_as([phone.alarm(start["id"], message=MESSAGE)])
    return start


def _between(html, start_marker, end_marker):
    part = html[html.index(start_marker):]
    return part[:part.index(end_marker)]


def test_the_board_shows_the_alarm_message_and_the_risk_note_escaped(app, clock, phone, sync_as):
    _alarm_with_words(phone, sync_as)
    html = sign_in_client(app, SUPERVISOR).get("/supervise/board").get_data(as_text=True)
    takeover = _between(html, 'id="alarm-takeover"', "</section>")
    assert f'Their message: <q class="alarm-message">{MESSAGE_HTML}</q>' in takeover
    assert f'Note at the start: <q class="risk-note">{NOTE_HTML}</q>' in takeover
    row = _between(html, 'id="board-list"', "</ul>")
    assert f"Alarm message: <q>{MESSAGE_HTML}</q>" in row
    assert f"Note at the start: <q>{NOTE_HTML}</q>" in row
    assert "<b>knife</b>" not in html and "<dog>" not in html


def test_an_alarm_outside_a_session_shows_its_message_on_the_board(app, clock, phone, sync_as):
    sync_as([phone.alarm(message=MESSAGE)])
    html = sign_in_client(app, SUPERVISOR).get("/supervise/board").get_data(as_text=True)
    row = _between(html, 'id="board-list"', "</ul>")
    assert "Alarm raised outside a session." in row and f"Alarm message: <q>{MESSAGE_HTML}</q>" in row


def test_the_alert_page_shows_the_alarm_message_and_the_risk_note(app, clock, phone, sync_as, lw):
    _alarm_with_words(phone, sync_as)
    [alert] = lw.alerts()
    html = sign_in_client(app, SUPERVISOR).get(f"/supervise/alerts/{alert.id}").get_data(as_text=True)
    facts = _between(html, 'id="alert-facts"', "</dl>")
    assert f'<dt>Their message</dt><dd id="alert-message" class="alarm-message">{MESSAGE_HTML}</dd>' in facts
    assert f'<dt>Note at the start</dt><dd id="alert-risk-note" class="risk-note">{NOTE_HTML}</dd>' in facts
    assert "<b>knife</b>" not in html
    # An alarm without words shows no empty message.
    sync_as([phone.alarm()])
    wordless = lw.alerts()[-1]
    html = sign_in_client(app, SUPERVISOR).get(f"/supervise/alerts/{wordless.id}").get_data(as_text=True)
    assert wordless.id != alert.id and 'id="alert-message"' not in html and "Their message" not in html


def test_the_timeline_shows_the_alarm_message_in_both_stories(app, clock, phone, sync_as):
    start = _alarm_with_words(phone, sync_as)
    html = sign_in_client(app, SUPERVISOR).get(f"/supervise/sessions/{start['id']}").get_data(as_text=True)
    phone_part = _between(html, 'id="phone-events"', "</ol>")
    alarm = re.search(r'<li data-kind="alarm_raised".*?</li>', phone_part, re.S).group(0)
    assert f'Their message: <q>{MESSAGE_HTML}</q>' in alarm
    server = _between(html, 'id="server-story"', "</ol>")
    assert f"Alarm alert raised: “{MESSAGE_HTML}”" in server
    assert "<b>knife</b>" not in html


def test_the_email_carries_the_alarm_message_and_the_risk_note(app, clock, phone, sync_as, lw, smtp):
    smtp.start()
    _alarm_with_words(phone, sync_as)
    assert lw.sweep().mail.sent == 1
    lines = smtp.inbox.messages[0]["message"].get_content().splitlines()
    assert f"The worker's message with the alarm: {MESSAGE}" in lines
    assert f"Note from the worker: {NOTE}" in lines
