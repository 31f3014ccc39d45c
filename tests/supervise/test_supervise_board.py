"""load_board: open alerts and active sessions in scope, most urgent first (no HTTP)."""
import uuid

from app.lone_working.services import record_event
from app.supervise.services import load_board


def _names(board) -> list[str]:
    return [row.worker.name for row in board.rows]


def test_the_board_puts_an_alarm_first_then_overdue_then_due_soon_then_fine(people, worker_of, clock):
    wendy, will, ron = worker_of("worker"), worker_of("worker2"), worker_of("river.worker")
    wendy.start(interval=30)  # check-in due 09:30, overdue after 09:35
    clock.advance(minutes=15)
    will_session = will.start(interval=30)  # due 09:45
    clock.advance(minutes=5)
    ron.start(interval=30)  # another team: never on this supervisor's board
    clock.advance(minutes=17)  # 09:37
    will.alarm(will_session, message="He is back")
    board = load_board(people["supervisor"], clock.now)
    assert _names(board) == ["Will Walker", "Wendy Worker"]
    assert [row.urgency for row in board.rows] == ["alarm", "overdue"]
    assert [a.kind for a in board.alarms] == ["alarm"]
    assert list(board.messages.values()) == ["He is back"]
    assert board.rows[1].overdue_for is not None and board.rows[1].overdue_for.total_seconds() == 7 * 60
    assert board.active_total == 2 and board.shown_sessions == 2


def test_due_soon_comes_before_fine_and_a_finished_session_leaves_the_board(people, worker_of, clock):
    wendy, will = worker_of("worker"), worker_of("worker2")
    wendy_session = wendy.start(interval=30)  # due 09:30
    clock.advance(minutes=10)
    will.start(interval=60)  # due 10:10
    clock.advance(minutes=12)  # 09:22: Wendy is due within 10 minutes
    board = load_board(people["supervisor"], clock.now)
    assert [(row.worker.name, row.urgency) for row in board.rows] == [("Wendy Worker", "due_soon"),
                                                                       ("Will Walker", "fine")]
    assert board.rows[0].due_in.total_seconds() == 8 * 60
    wendy.finish(wendy_session)
    assert _names(load_board(people["supervisor"], clock.now)) == ["Will Walker"]


def test_the_board_shows_at_most_the_limit_most_urgent_sessions_but_counts_them_all(people, worker_of, clock):
    worker_of("worker2").start(interval=60)
    clock.advance(minutes=1)
    worker_of("worker").start(interval=30)  # the earlier deadline: the more urgent
    board = load_board(people["supervisor"], clock.now, limit=1)
    assert _names(board) == ["Wendy Worker"]
    assert board.active_total == 2 and board.shown_sessions == 1


def test_each_person_sees_their_own_scope_and_staff_see_nothing(people, worker_of, clock):
    for name in ("worker", "worker2", "river.worker", "other.worker"):
        worker_of(name).start()
    boards = {name: sorted(_names(load_board(people[name], clock.now)))
              for name in ("supervisor", "river.sup", "admin", "other.admin", "worker")}
    assert boards == {"supervisor": ["Wendy Worker", "Will Walker"], "river.sup": ["Ron River"],
                      "admin": ["Ron River", "Wendy Worker", "Will Walker"], "other.admin": ["Olga Other"],
                      "worker": []}


def test_an_alarm_without_a_session_still_gets_its_own_row(people, clock):
    result = record_event(people["worker"], "alarm_raised", uuid.uuid4(), {"sequence": 1}, via="sync",
                          recorded_at=clock.now)
    assert result["status"] == "created"
    board = load_board(people["supervisor"], clock.now)
    assert [(row.worker.name, row.urgency, row.session) for row in board.rows] == [("Wendy Worker", "alarm", None)]
