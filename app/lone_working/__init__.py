"""Lone working: timed sessions, "I'm OK" check-ins, alarm and duress, overdue escalation.

A session's state is derived from the immutable events the phone makes (see services.py);
alerts, their level firings, supervisor actions and notifications are server-made records
(see escalation.py). Overdue is decided from the server's clock alone (rules.py).
"""
